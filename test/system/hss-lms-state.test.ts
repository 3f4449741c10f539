// The state rules of an HSS/LMS key file with real processes: a signer killed right after
// its counter reached the disk (or right after it printed a signature) never lets the next
// signer reuse that leaf; a second process waits for the first one's lock and refuses; the
// lock of a killed signer does not block the key forever.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { tempDir } from "../helpers/cli.js";
import { REPO } from "../helpers/repo.js";
import { HssLmsFileSigner, keygenHssLms, readHssPrivateKey, hssKeyInfo, verifyHss } from "../../host/keys/hss-lms.js";

// A signer process on the built library. argv: key file, mode. Modes:
//   kill-after-persist  SIGKILLs itself once the counter is on disk, before the signature exists;
//   hold-after-persist  prints "persisted <leaf>" then sleeps holding the lock;
//   print-then-wait     prints "sig <hex>" then sleeps (the parent kills it).
const CHILD = `
import { HssLmsFileSigner } from ${JSON.stringify(path.join(REPO, "dist/host/keys/hss-lms.js"))};
import { writeSync } from "node:fs";
const [keyPath, mode] = process.argv.slice(1);
const sleep = () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000);
const signer = await HssLmsFileSigner.open(keyPath, {
  afterPersist: (leaf) => {
    if (mode === "kill-after-persist") process.kill(process.pid, "SIGKILL");
    if (mode === "hold-after-persist") { writeSync(1, "persisted " + leaf + "\\n"); sleep(); }
  }
});
const sig = await signer.sign(new TextEncoder().encode("child message"));
writeSync(1, "sig " + Buffer.from(sig).toString("hex") + "\\n");
sleep();
`;

function startChild(keyPath: string, mode: string): ChildProcess {
  return spawn(process.execPath, ["--input-type=module", "-e", CHILD, keyPath, mode], { stdio: ["ignore", "pipe", "pipe"] });
}

/** The first stdout line of a child that starts with `prefix`. */
function lineFrom(child: ChildProcess, prefix: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = "";
    let errText = "";
    child.stderr!.on("data", (d: Buffer) => void (errText += d.toString()));
    child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      const line = buf.split("\n").find((l) => l.startsWith(prefix));
      if (line !== undefined) resolve(line.slice(prefix.length));
    });
    child.on("exit", (code, signal) => reject(new Error(`child exited (${code ?? signal}) before "${prefix}": ${errText}`)));
  });
}

function killAndWait(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.on("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

const leafOf = (sig: Uint8Array): number => Buffer.from(sig).readUInt32BE(4);

let dir: string;
beforeAll(() => {
  dir = tempDir("hss-state");
  expect(fs.existsSync(path.join(REPO, "dist/host/keys/hss-lms.js")), "run npm run build first").toBe(true);
});
afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("HSS/LMS key file state across processes", () => {
  it("a keygen interrupted (SIGINT) while it hashes its tree writes no key file: the CLI's handler exits 130 first", () => {
    // The child raises SIGINT from the first progress report, mid-generation, as a Ctrl-C
    // pressed then arrives; its handler is the CLI's (exit 130). Generation is one long
    // synchronous run, so the handler can only run once it is over: before any file is written.
    const child = `
      import { keygenHssLms } from ${JSON.stringify(path.join(REPO, "dist/host/keys/hss-lms.js"))};
      process.once("SIGINT", () => process.exit(130));
      let raised = false;
      await keygenHssLms({ out: process.argv[1], heights: [5], w: 4, progress: () => { if (!raised) { raised = true; process.kill(process.pid, "SIGINT"); } } });
      process.stdout.write("written\\n");`;
    const out = path.join(dir, "interrupted");
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", child, out], { encoding: "utf8", timeout: 60_000 });
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 130, stdout: "", stderr: "" });
    expect(fs.readdirSync(dir).filter((n) => n.startsWith("interrupted"))).toEqual([]);
  });

  it("a signer killed after persisting its counter, before signing, loses the leaf: the next signer takes the one after", async () => {
    const r = await keygenHssLms({ out: path.join(dir, "crash1"), heights: [5], w: 4 });
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", CHILD, r.keyPath, "kill-after-persist"], { encoding: "utf8", timeout: 60_000 });
    expect(child.signal).toBe("SIGKILL");
    expect(child.stdout).toBe(""); // no signature left the process
    expect(hssKeyInfo(await readHssPrivateKey(r.keyPath)).next).toBe(1);
    expect(fs.existsSync(`${r.keyPath}.lock`)).toBe(true); // left behind by the killed process
    const signer = await HssLmsFileSigner.open(r.keyPath, { lockWaitMs: 1000 });
    const sig = await signer.sign(Buffer.from("after the crash"));
    expect(leafOf(sig)).toBe(1);
    expect(verifyHss(r.publicKey, Buffer.from("after the crash"), sig)).toBe(true);
  });

  it("a signer killed right after it wrote its signature has already moved the counter past that leaf", async () => {
    const r = await keygenHssLms({ out: path.join(dir, "crash2"), heights: [5], w: 4 });
    const child = startChild(r.keyPath, "print-then-wait");
    const sigHex = await lineFrom(child, "sig ");
    await killAndWait(child);
    const sig = Buffer.from(sigHex, "hex");
    expect(verifyHss(r.publicKey, Buffer.from("child message"), sig)).toBe(true);
    const used = leafOf(sig);
    expect(hssKeyInfo(await readHssPrivateKey(r.keyPath)).next).toBeGreaterThan(used);
    const next = await (await HssLmsFileSigner.open(r.keyPath)).sign(Buffer.from("parent"));
    expect(leafOf(next)).toBeGreaterThan(used);
  });

  it("a second process is refused while the first holds the lock, and signs once the first is gone", async () => {
    const r = await keygenHssLms({ out: path.join(dir, "lock"), heights: [5], w: 4 });
    const child = startChild(r.keyPath, "hold-after-persist");
    try {
      expect(await lineFrom(child, "persisted ")).toBe("0");
      const signer = await HssLmsFileSigner.open(r.keyPath, { lockWaitMs: 300 });
      const err = await signer.sign(Buffer.from("parent")).catch((e: Error) => e);
      expect(err).toMatchObject({ code: "KEY_STATE" });
      expect((err as Error).message).toContain(`key is in use by process ${child.pid} `);
      expect(hssKeyInfo(await readHssPrivateKey(r.keyPath)).next).toBe(1); // the refused signer took nothing
    } finally {
      await killAndWait(child);
    }
    const sig = await (await HssLmsFileSigner.open(r.keyPath, { lockWaitMs: 1000 })).sign(Buffer.from("parent"));
    expect(leafOf(sig)).toBe(1); // leaf 0 went to the killed child and is never handed out again
  });
});
