// Platform tests of the fwseal MCU firmware on QEMU (mps2-an385): boot, UART round trip
// through a pty, native (C) vs JS (the core's) SHA-256 vs node:crypto, the core's Ed25519 on
// the emulated Cortex-M3, NOR flash rules, and flash persistence across a power cut (QEMU
// killed with SIGKILL, restarted on the same flash file). The firmware runs its line console
// (mode=console). The protocol suite itself is hw-test/protocol.test.ts, run by test.sh.
//
// Run by hw-test/mcu/test.sh (npm run test:mcu) after it builds build/mcu/fw.elf, with
// hw-test/mcu/vitest.config.ts.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createHash, randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { SerialPort } from "serialport";
// @ts-expect-error plain ESM helper without type declarations
import { startMcu, defaultElf } from "./qemu.mjs";

interface Mcu {
  port: string;
  log(): string;
  powerCycle(): Promise<void>;
  stop(): Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const vectors = path.resolve(here, "../../../shared/vectors");

/** One command line out, the reply line that starts with the command's word back. */
class Console {
  private buf = "";
  private constructor(private sp: SerialPort) {
    sp.on("data", (b: Buffer) => (this.buf += b.toString("latin1")));
  }
  static async open(port: string): Promise<Console> {
    const sp = new SerialPort({ path: port, baudRate: 115200, autoOpen: false });
    await new Promise<void>((res, rej) => sp.open((e) => (e ? rej(e) : res())));
    const c = new Console(sp);
    // Bytes sent before the host opened the pty are lost: handshake until the console answers.
    for (let i = 0; ; i++) {
      try {
        await c.cmd("ping", 1000);
        return c;
      } catch (e) {
        if (i >= 30) throw e;
      }
    }
  }
  async cmd(line: string, timeoutMs = 30000): Promise<string> {
    const word = line.split(" ")[0];
    this.buf = "";
    this.sp.write(line + "\n");
    const t0 = Date.now();
    for (;;) {
      const lines = this.buf.split("\n");
      for (let i = 0; i < lines.length - 1; i++) {
        if (lines[i] === word || lines[i].startsWith(word + " ") || (word === "ping" && lines[i] === "pong")) return lines[i];
      }
      if (Date.now() - t0 > timeoutMs) throw new Error(`no reply to "${line.slice(0, 40)}" (got ${JSON.stringify(this.buf.slice(0, 200))})`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  async close(): Promise<void> {
    if (this.sp.isOpen) await new Promise<void>((r) => this.sp.close(() => r()));
  }
}

function field(reply: string, name: string): string {
  const m = new RegExp(`(?:^| )${name}=(\\S*)`).exec(reply);
  if (!m) throw new Error(`no ${name}= in ${reply}`);
  return m[1];
}

/** The firmware's `pattern(len, seed)` (main.js), to hash the same bytes on the host. */
function pattern(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  let x = seed >>> 0;
  for (let i = 0; i < len; i++) {
    x = (x * 1103515245 + 12345) % 4294967296;
    b[i] = (x >>> 16) & 255;
  }
  return b;
}

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describe("fwseal MCU firmware on QEMU mps2-an385 (console mode)", () => {
  let dir: string;
  let mcu: Mcu;
  let con: Console;

  beforeAll(async () => {
    if (!fs.existsSync(defaultElf as string)) throw new Error(`${defaultElf} missing: run npm run build:mcu`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-mcu-"));
    mcu = (await startMcu({ dir, args: ["mode=console"] })) as Mcu;
    con = await Console.open(mcu.port);
  });

  afterAll(async () => {
    if (con) await con.close();
    if (mcu) await mcu.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("boots: Duktape runs the embedded core and reports its memory high-water marks", async () => {
    expect(mcu.log()).toMatch(/fwseal-mcu: booted/);
    const info = await con.cmd("info");
    expect(field(info, "core")).toBe("1");
    expect(field(info, "app")).toBe("1");
    const stats = await con.cmd("stats");
    const heapPeak = Number(field(stats, "heapPeak"));
    const stackPeak = Number(field(stats, "stackPeak"));
    expect(heapPeak).toBeGreaterThan(0);
    expect(stackPeak).toBeGreaterThan(0);
    expect(stackPeak).toBeLessThan(Number(field(stats, "stackSize")));
    expect(Number(field(stats, "rxOverruns"))).toBe(0);
    console.log(`[mcu] after boot: ${stats}`);
  });

  it("UART round trip through the pty: a 4 KiB line comes back intact", async () => {
    const text = randomBytes(3072).toString("base64"); // 4096 printable bytes
    const r = await con.cmd(`echo ${text}`);
    expect(r).toBe(`echo ${text}`);
  });

  it("SHA-256: native C, the core's JS and node:crypto agree (NIST vectors and pseudo-random data)", async () => {
    const rsp = fs.readFileSync(path.join(vectors, "sha256/SHA256ShortMsg.rsp"), "utf8");
    const cases = [...rsp.matchAll(/Len = (\d+)\s+Msg = ([0-9a-f]+)\s+MD = ([0-9a-f]+)/g)]
      .filter((m) => [0, 8, 440, 448, 504, 512].includes(Number(m[1])))
      .map((m) => ({ msg: Number(m[1]) === 0 ? "" : m[2], md: m[3] }));
    expect(cases.length).toBe(6);
    for (const c of cases) {
      const r = await con.cmd(`sha ${c.msg}`);
      expect(field(r, "native")).toBe(c.md);
      expect(field(r, "js")).toBe(c.md);
    }
    for (const [len, seed] of [[1024, 1], [4096 + 52, 7], [65536, 3]]) {
      const r = await con.cmd(`shagen ${len} ${seed}`, 60000);
      const want = sha(pattern(len, seed));
      expect(field(r, "native")).toBe(want);
      expect(field(r, "js")).toBe(want);
    }
  });

  it("Ed25519: the core's verifier on the M3 accepts RFC 8032 vectors and rejects a flipped bit", async () => {
    const v = JSON.parse(fs.readFileSync(path.join(vectors, "ed25519/rfc8032-ed25519.json"), "utf8")) as {
      publicKey: string;
      message: string;
      signature: string;
    }[];
    const t2 = v[1];
    expect(await con.cmd(`ed ${t2.publicKey} ${t2.signature} ${t2.message}`, 120000)).toMatch(/^ed ok=1 /);
    const bad = t2.signature.slice(0, 10) + (t2.signature[10] === "0" ? "1" : "0") + t2.signature.slice(11);
    expect(await con.cmd(`ed ${t2.publicKey} ${bad} ${t2.message}`, 120000)).toMatch(/^ed ok=0 /);
  });

  it("flash: NOR rules (program erased bytes only, page erase) and persistence across a power cut", async () => {
    const page = 4096;
    const addr = 7 * page + 100;
    const data = randomBytes(300).toString("hex");
    expect(await con.cmd(`fe ${7 * page} ${page}`)).toBe("fe rc=0");
    expect(await con.cmd(`fw ${addr} ${data}`)).toBe("fw rc=0");
    expect(await con.cmd(`fw ${addr + 10} 00`)).toBe("fw rc=-3"); // not erased: refused
    expect(await con.cmd(`fe ${7 * page + 1} ${page}`)).toBe("fe rc=-2"); // unaligned erase
    expect(await con.cmd(`fr ${addr} 300`)).toBe(`fr rc=0 data=${data}`);

    await con.close();
    await mcu.powerCycle(); // SIGKILL: no shutdown path runs in the guest
    con = await Console.open(mcu.port);
    expect(await con.cmd(`fr ${addr} 300`)).toBe(`fr rc=0 data=${data}`);
    expect(await con.cmd(`fr ${addr - 4} 4`)).toBe("fr rc=0 data=ffffffff");
    expect(await con.cmd(`fe ${7 * page} ${page}`)).toBe("fe rc=0");
    expect(await con.cmd(`fr ${addr} 4`)).toBe("fr rc=0 data=ffffffff");
  });
});
