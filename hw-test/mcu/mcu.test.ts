// Platform tests of the fwseal MCU firmware on QEMU (mps2-an385): boot, UART round trip
// through a pty, native (C) vs JS (the core's) SHA-256 vs node:crypto, the core's Ed25519 and
// HSS/LMS verifiers on the emulated Cortex-M3, the firmware's native Ed25519 (the app's) against
// the core's on every SPEC §6.1 rule, NOR flash rules, and flash persistence across a power cut (QEMU
// killed with SIGKILL, restarted on the same flash file) in its line console (mode=console);
// then the device application with a power cut in the middle of a streaming install. The
// full protocol suite is hw-test/protocol.test.ts, run against the MCU by test.sh.
//
// Run by hw-test/mcu/test.sh (npm run test:mcu) after it builds build/mcu/fw.elf, with
// hw-test/mcu/vitest.config.ts.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as zlib from "node:zlib";
import * as os from "node:os";
import * as path from "node:path";
import { createHash, generateKeyPairSync, randomBytes, sign as signWith } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Reason, reasonName } from "../../formats/device-safe/reasons.js";
import { createPurePrimitives } from "../../device-sim/core/index.js";
import { ed25519Verify } from "../../device-sim/core/crypto/ed25519.js";
import { SMALL_ORDER_ENCODINGS } from "../../host/bundle/host-ed25519.js";
import * as ed from "@noble/ed25519";
import { engineCases, nodeVerdicts } from "../../test/helpers/hss-lms-cases.js";
import { buildBundle, buildEncodedBundle } from "../../formats/host-only/bundle-builder.js";
import { encodePayload } from "../../host/bundle/encode-payload.js";
import { chainHeadOf } from "../../host/bundle/precursor.js";
import { textLikeImage } from "../../test/helpers/images.js";
import { vendorUuid, classUuid } from "../../formats/host-only/uuid.js";
import type { LocalSigner } from "../../host/keys/keys.js";
import { randomSigner } from "../../test/helpers/keys.js";
import { flashDevice } from "../../host/device/flash.js";
import { FwsealError } from "../../host/errors.js";
import { createSerialPort } from "../../host/device/serial-port.js";
import { HssLmsFileSigner, keygenHssLms } from "../../host/keys/hss-lms.js";
import type { EnvelopeSigner } from "../../formats/host-only/cose.js";
// @ts-expect-error plain ESM helper without type declarations
import { startMcu, defaultElf } from "./qemu.mjs";
// @ts-expect-error plain ESM helper without type declarations
import { McuConsole, field, pattern } from "./console-client.mjs";

interface Console {
  cmd(line: string, timeoutMs?: number): Promise<string>;
  write(bytes: Uint8Array): Promise<void>;
  waitLine(word: string, timeoutMs: number): Promise<string>;
  close(): Promise<void>;
}
interface Mcu {
  port: string;
  log(): string;
  powerCycle(): Promise<void>;
  stop(): Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const vectors = path.resolve(here, "../../test/vectors");

const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

/** An Ed25519 verification case for the firmware's native verifier. */
interface EdCase {
  pk: Uint8Array;
  sig: Uint8Array;
  msg: Uint8Array;
}

const ED_L = (1n << 252n) + 27742317777372353535851937790883648493n;
const leToBig = (b: Uint8Array): bigint => BigInt("0x" + (Buffer.from(b).reverse().toString("hex") || "0"));
const bigToLe = (v: bigint): Uint8Array => new Uint8Array(Buffer.from(v.toString(16).padStart(64, "0"), "hex").reverse());

/**
 * Cases on every rule of SPEC §6.1: the RFC 8032 vectors and one-bit mutations of signature,
 * key and message; fresh node:crypto keys, valid and tampered; S + L; every non-canonical y;
 * x = 0 with the sign bit; the 8 small-order keys with R = identity, S = 0 and with
 * R = -[k]A (both satisfy the cofactorless equation).
 */
function ed25519Cases(rfc: { publicKey: string; signature: string; message: string }[]): EdCase[] {
  const cases: EdCase[] = [];
  const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, "hex"));
  const flip = (b: Uint8Array, bit: number): Uint8Array => {
    const c = new Uint8Array(b);
    c[bit >> 3] ^= 1 << (bit & 7);
    return c;
  };
  for (const v of rfc) {
    const pk = unhex(v.publicKey), sig = unhex(v.signature), msg = unhex(v.message);
    cases.push({ pk, sig, msg });
    for (let bit = 3; bit < 512; bit += 37) cases.push({ pk, sig: flip(sig, bit), msg });
    for (let bit = 5; bit < 256; bit += 41) cases.push({ pk: flip(pk, bit), sig, msg });
    if (msg.length > 0) cases.push({ pk, sig, msg: flip(msg, 8 * msg.length - 1) });
    const S = leToBig(sig.subarray(32));
    if (S + ED_L < 1n << 256n) {
      const bad = new Uint8Array(sig);
      bad.set(bigToLe(S + ED_L), 32);
      cases.push({ pk, sig: bad, msg });
    }
  }
  for (let i = 0; i < 24; i++) {
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    const pk = new Uint8Array(publicKey.export({ format: "der", type: "spki" }).subarray(12));
    const msg = new Uint8Array(randomBytes((i * 53) % 700));
    const sig = new Uint8Array(signWith(null, msg, privateKey));
    cases.push({ pk, sig, msg }, { pk, sig: flip(sig, (i * 29) % 512), msg });
  }
  const sig0 = unhex(rfc[0].signature), msg0 = unhex(rfc[0].message);
  for (let i = 0n; i < 19n; i++) {
    for (const sign of [0, 0x80]) {
      const pk = bigToLe((1n << 255n) - 19n + i);
      pk[31] |= sign;
      cases.push({ pk, sig: sig0, msg: msg0 });
    }
  }
  for (const h of ["0100000000000000000000000000000000000000000000000000000000000080", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"]) {
    cases.push({ pk: unhex(h), sig: sig0, msg: msg0 });
  }
  for (const h of SMALL_ORDER_ENCODINGS) {
    const pk = unhex(h);
    for (let m = 0; m < 3; m++) {
      const msg = Uint8Array.of(m);
      const sig = unhex(SMALL_ORDER_ENCODINGS[0] + "00".repeat(32));
      cases.push({ pk, sig: new Uint8Array(sig), msg });
      const k = leToBig(new Uint8Array(createHash("sha512").update(sig.subarray(0, 32)).update(pk).update(msg).digest())) % ED_L;
      sig.set(ed.Point.fromHex(h, false).multiplyUnsafe(k).negate().toBytes(), 0);
      cases.push({ pk, sig, msg });
    }
  }
  return cases;
}

describe("fwseal MCU firmware on QEMU mps2-an385 (console mode)", () => {
  let dir: string;
  let mcu: Mcu;
  let con: Console;

  beforeAll(async () => {
    if (!fs.existsSync(defaultElf as string)) throw new Error(`${defaultElf} missing: run npm run build:mcu`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-mcu-"));
    mcu = (await startMcu({ dir, args: ["mode=console"] })) as Mcu;
    con = await McuConsole.open(mcu.port, createSerialPort);
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

  it("UART flow control: a CPU busy past the 64 KiB receive ring holds bytes back in the UART, none is lost", async () => {
    const n = 96 * 1024;
    const data = randomBytes(n);
    let sa = 1;
    let sb = 0;
    for (const b of data) {
      sa = (sa + b) % 65521;
      sb = (sb + sa) % 65521;
    }
    expect(await con.cmd(`sink ${n} hold`)).toBe("sink ready");
    await con.write(data);
    const r = await con.waitLine("sink", 120000);
    expect(Number(field(r, "n"))).toBe(n);
    expect(Number(field(r, "adler"))).toBe(sb * 65536 + sa);
    expect(Number(field(r, "rxPeak"))).toBe(65536);
    expect(Number(field(r, "rxFullStops"))).toBeGreaterThan(0);
    expect(Number(field(r, "rxOverruns"))).toBe(0);
    expect(await con.cmd("ping")).toBe("pong");
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

  it("serial framing: the firmware's native crc32 + findZero decode what the core's loop decodes, CRC as zlib's", async () => {
    for (const [len, seed] of [[5, 1], [254, 2], [1000, 3], [4096 + 16, 9]]) {
      const r = await con.cmd(`framebench ${len} ${seed}`, 60000);
      const want = String(zlib.crc32(pattern(len, seed)));
      expect(field(r, "crcval")).toBe(want);
      expect(field(r, "ncrc")).toBe(want);
      expect([field(r, "ok"), field(r, "nok"), field(r, "same")]).toEqual(["1", "1", "1"]);
      expect([field(r, "bad"), field(r, "nbad")]).toEqual(["0", "0"]); // a changed byte: dropped by both
      if (len > 4096) console.log(`[mcu] framing ${len} B: decode ${field(r, "decode")} ticks in the core's loop, ${field(r, "ndecode")} with the native scans`);
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

  it("Ed25519: the firmware's native verifier (the app's primitive) decides every SPEC §6.1 case like the core's", async () => {
    const rfc = JSON.parse(fs.readFileSync(path.join(vectors, "ed25519/rfc8032-ed25519.json"), "utf8")) as { publicKey: string; signature: string; message: string }[];
    const cases = ed25519Cases(rfc);
    const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
    const want = cases.map((c) => (ed25519Verify(c.pk, c.sig, c.msg, 0, c.msg.length) ? "1" : "0"));
    const got: string[] = [];
    let ticks = 0;
    for (const c of cases) {
      const r = await con.cmd(`edn ${hex(c.pk)} ${hex(c.sig)} ${hex(c.msg)}`, 30000);
      got.push(field(r, "ok"));
      ticks = Math.max(ticks, Number(field(r, "ticks")));
    }
    expect(got.join("")).toBe(want.join(""));
    expect(want.filter((w) => w === "1").length).toBe(rfc.length + 24); // the valid signatures, nothing else
    console.log(`[mcu] native Ed25519: ${cases.length} cases agree with the core's verifier; slowest ${ticks} ticks`);
  });

  it("HSS/LMS: the core's verifier on the M3 (native C SHA-256) decides every vector and mutation like Node", async () => {
    const cases = engineCases(6);
    const want = nodeVerdicts(cases, createPurePrimitives(), 1024);
    const got: string[] = [];
    for (const c of cases) {
      const r = await con.cmd(`hss ${c.pk} ${c.sig} ${c.msg}`, 120000);
      got.push(`${reasonName(Number(field(r, "rc")))} ${field(r, "calls")}`);
    }
    expect(got).toEqual(want);
    expect(got.filter((g) => g.startsWith("OK ")).length).toBe(13);
  });

  it("flash: NOR rules (program erased bytes only, page erase) and persistence across a power cut", async () => {
    const page = 4096;
    const addr = 7 * page + 100;
    const bytes = randomBytes(300);
    bytes[10] = 0x5a; // a programmed (non-0xFF) byte, so rewriting it must be refused below
    const data = bytes.toString("hex");
    expect(await con.cmd(`fe ${7 * page} ${page}`)).toBe("fe rc=0");
    expect(await con.cmd(`fw ${addr} ${data}`)).toBe("fw rc=0");
    expect(await con.cmd(`fw ${addr + 10} 00`)).toBe("fw rc=-3"); // not erased: refused
    expect(await con.cmd(`fe ${7 * page + 1} ${page}`)).toBe("fe rc=-2"); // unaligned erase
    expect(await con.cmd(`fr ${addr} 300`)).toBe(`fr rc=0 data=${data}`);

    await con.close();
    await mcu.powerCycle(); // SIGKILL: no shutdown path runs in the guest
    con = await McuConsole.open(mcu.port, createSerialPort);
    expect(await con.cmd(`fr ${addr} 300`)).toBe(`fr rc=0 data=${data}`);
    expect(await con.cmd(`fr ${addr - 4} 4`)).toBe("fr rc=0 data=ffffffff");
    expect(await con.cmd(`fe ${7 * page} ${page}`)).toBe("fe rc=0");
    expect(await con.cmd(`fr ${addr} 4`)).toBe("fr rc=0 data=ffffffff");
  });
});

// A power cut while the bundle is streaming (the host is sending, the device is verifying
// and writing flash), not after a clean stop: QEMU is killed with SIGKILL from the host's
// progress callback. The device must come back on its confirmed, boot-verified image, and
// the install must resume from the device's persisted point and boot verified.
/** The app firmware in a new directory, provisioned with a fresh Ed25519 root for vendorId/classId, and that root's signer. */
async function appWithRoot(prefix: string, vendorId: Uint8Array, classId: Uint8Array): Promise<{ dir: string; signer: LocalSigner; mcu: Mcu & { kill(): Promise<void>; boot(): Promise<void> } }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const { keyPair: root, signer } = randomSigner();
  const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
  try {
    const mcu = await startMcu({ dir, args: [`roots=${hex(root.publicKey)}`, `vendor=${hex(vendorId)}`, `class=${hex(classId)}`, "stride=4096"] });
    return { dir, signer, mcu };
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

describe("fwseal MCU firmware on QEMU: power cut in the middle of a streaming install", () => {
  let dir: string;
  let mcu: Mcu & { kill(): Promise<void>; boot(): Promise<void> };
  let signer: LocalSigner;
  const vendorId = vendorUuid("acme.example");
  const classId = classUuid(vendorId, "sensor-v3");
  const IMAGE = 32768;

  async function bundle(seq: number): Promise<Uint8Array> {
    const img = pattern(IMAGE, seq) as Uint8Array;
    return buildBundle(
      img,
      { vendorId, classId, sequence: seq, version: `mcu-${seq}`, chunkSize: 1024, sha256: (d) => new Uint8Array(createHash("sha256").update(d).digest()) },
      [signer]
    );
  }

  beforeAll(async () => {
    ({ dir, signer, mcu } = await appWithRoot("fwseal-mcu-app-", vendorId, classId));
  });

  afterAll(async () => {
    if (mcu) await mcu.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("comes back on the verified image, then resumes and boots the new one", async () => {
    const first = await flashDevice({ port: mcu.port, bundle: await bundle(1), reboot: true, confirm: true });
    expect(first.outcome).toBe("installed");
    expect(first.device.runMode).toBe("normal");

    const b2 = await bundle(2);
    let cut: Promise<void> | null = null;
    const failed = await flashDevice({
      port: mcu.port,
      bundle: b2,
      timeoutMs: 1500,
      retries: 1,
      onProgress: (p) => {
        if (!cut && p.phase === "send" && p.acked > b2.length / 2) cut = mcu.kill(); // power off mid-stream
      },
    }).then(
      () => null,
      (e: unknown) => e
    );
    expect(cut).not.toBeNull();
    await cut;
    expect(failed).toBeInstanceOf(FwsealError);

    await mcu.boot(); // power on: boot-time verification picks what runs
    const info = (await flashDevice({ port: mcu.port })).device;
    expect(info.runMode).toBe("normal");
    expect(info.slots[info.runningSlot].version).toBe("mcu-1");
    expect(info.bootCheck[info.runningSlot]).toBe(Reason.OK);
    expect(info.install).not.toBeNull();

    const r = await flashDevice({ port: mcu.port, bundle: b2, resume: true, reboot: true });
    expect(r.outcome).toBe("installed");
    expect(r.resumedFrom ?? 0).toBeGreaterThan(0);
    expect(r.boot!.runMode).toBe("test");
    expect(r.boot!.slots[r.boot!.runningSlot].version).toBe("mcu-2");
    expect(r.boot!.bootCheck[r.boot!.runningSlot]).toBe(Reason.OK);
    expect(mcu.log()).not.toMatch(/fwseal-mcu: (ERROR|FATAL|HARDFAULT)/);
  });
});

describe("fwseal MCU firmware on QEMU: hybrid Ed25519 + HSS/LMS roots", () => {
  let dir: string;
  let mcu: Mcu;
  let ed: LocalSigner;
  let pq: HssLmsFileSigner;
  const vendorId = vendorUuid("acme.example");
  const classId = classUuid(vendorId, "sensor-v3");

  async function bundle(seq: number, signers: EnvelopeSigner[]): Promise<Uint8Array> {
    return buildBundle(
      pattern(16384, seq) as Uint8Array,
      { vendorId, classId, sequence: seq, version: `hybrid-${seq}`, chunkSize: 1024, sha256: (d) => new Uint8Array(createHash("sha256").update(d).digest()) },
      signers
    );
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-mcu-hybrid-"));
    const { keyPair: edRoot, signer } = randomSigner();
    ed = signer;
    // Provisioning as hw-test/mcu/provision.mjs --hybrid does it: an HSS/LMS root key file
    // (stateful), its public key burned in next to the Ed25519 root.
    const k = await keygenHssLms({ out: path.join(dir, "root-hss"), heights: [5], w: 4 });
    pq = await HssLmsFileSigner.open(k.keyPath);
    const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
    mcu = await startMcu({
      dir,
      args: [`roots=${hex(edRoot.publicKey)}+${hex(k.publicKey)}`, `vendor=${hex(vendorId)}`, `class=${hex(classId)}`, "requirealgs=3", "bootalgs=2"]
    });
  });

  afterAll(async () => {
    if (mcu) await mcu.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("installs the hybrid bundle over the serial link, boots it (HSS/LMS boot check) and confirms it", async () => {
    const r = await flashDevice({ port: mcu.port, bundle: await bundle(1, [ed, pq]), reboot: true, confirm: true });
    expect(r.outcome).toBe("installed");
    expect(r.device.runMode).toBe("normal");
    expect(r.device.roots?.count).toBe(2);
    expect(r.boot!.bootCheck[r.boot!.runningSlot]).toBe(Reason.OK);
    expect(mcu.log()).not.toMatch(/fwseal-mcu: (ERROR|FATAL|HARDFAULT)/);
  });

  it("refuses a bundle without the HSS/LMS signature with ALGORITHM_POLICY_NOT_MET over the link", async () => {
    const e = await flashDevice({ port: mcu.port, bundle: await bundle(2, [ed]) }).then(
      () => null,
      (x: unknown) => x
    );
    expect(e).toBeInstanceOf(FwsealError);
    expect((e as FwsealError).reason).toBe(Reason.ALGORITHM_POLICY_NOT_MET);
    expect((e as FwsealError).message).toMatch(/ALGORITHM_POLICY_NOT_MET/);
    const info = (await flashDevice({ port: mcu.port })).device;
    expect(info.slots[info.runningSlot].version).toBe("hybrid-1");
  });
});

// Compressed and delta payloads (formats/SPEC.md §15) on the M3: the core's decoder in Duktape
// inflates each authenticated wire chunk into the other slot; a delta reads its precursor from
// the running slot. A power cut (QEMU killed) in the middle of a compressed install: the device
// comes back on the verified image and the install resumes from its persisted decoder state.
describe("fwseal MCU firmware on QEMU: compressed and delta payloads", () => {
  let dir: string;
  let mcu: Mcu & { kill(): Promise<void>; boot(): Promise<void> };
  let signer: LocalSigner;
  const vendorId = vendorUuid("acme.example");
  const classId = classUuid(vendorId, "sensor-v3");
  const CS = 1024;
  const V1 = textLikeImage(32768, 21);
  const V2 = Uint8Array.from([...V1.subarray(0, 9000), ...textLikeImage(300, 22), ...V1.subarray(9000)]);
  const V3 = Uint8Array.from(V2.map((b, i) => (i >= 20000 && i < 20016 ? b ^ 0x21 : b)));
  const sha256 = (d: Uint8Array): Uint8Array => new Uint8Array(createHash("sha256").update(d).digest());
  const opts = (seq: number) => ({ vendorId, classId, sequence: seq, version: `enc-${seq}`, chunkSize: CS, sha256 });

  beforeAll(async () => {
    ({ dir, signer, mcu } = await appWithRoot("fwseal-mcu-encoded-", vendorId, classId));
  });

  afterAll(async () => {
    if (mcu) await mcu.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function encoded(image: Uint8Array, seq: number, precursor?: Uint8Array): Promise<Uint8Array> {
    const head = precursor ? await chainHeadOf(precursor, CS) : undefined;
    const e = await encodePayload(image, CS, precursor ? { kind: "delta", precursor: { image: precursor, chainHead: head } } : { kind: "compressed" });
    const { wireSize: _s, wireChunkCount: _c, wireChainHead: _h, ...spec } = e.params;
    return buildEncodedBundle(image, e.wire, spec, opts(seq), [signer]);
  }

  it("raw, then a compressed bundle cut mid-stream and resumed, then a delta: each boots verified; a wrong precursor is refused", async () => {
    const raw = await buildBundle(V1, opts(1), [signer]);
    expect((await flashDevice({ port: mcu.port, bundle: raw, reboot: true, confirm: true })).outcome).toBe("installed");

    const compressed = await encoded(V2, 2);
    expect(compressed.length).toBeLessThan(raw.length / 2);
    let cut: Promise<void> | null = null;
    const failed = await flashDevice({
      port: mcu.port, bundle: compressed, timeoutMs: 1500, retries: 1,
      onProgress: (p) => {
        if (!cut && p.phase === "send" && p.acked > compressed.length * 0.7) cut = mcu.kill();
      }
    }).then(() => null, (e: unknown) => e);
    expect(cut).not.toBeNull();
    await cut;
    expect(failed).toBeInstanceOf(FwsealError);
    await mcu.boot();
    const info = (await flashDevice({ port: mcu.port })).device;
    expect(info.slots[info.runningSlot].version).toBe("enc-1");
    expect(info.bootCheck[info.runningSlot]).toBe(Reason.OK);
    const r2 = await flashDevice({ port: mcu.port, bundle: compressed, resume: true, reboot: true, confirm: true });
    expect(r2.outcome).toBe("installed");
    expect(r2.resumedFrom ?? 0).toBeGreaterThan(0); // from the persisted decoder snapshot, not from the start
    expect(r2.boot!.slots[r2.boot!.runningSlot].version).toBe("enc-2");
    expect(r2.boot!.bootCheck[r2.boot!.runningSlot]).toBe(Reason.OK);

    const delta = await encoded(V3, 3, V2);
    expect(delta.length).toBeLessThan(compressed.length / 5);
    const r3 = await flashDevice({ port: mcu.port, bundle: delta, reboot: true, confirm: true });
    expect(r3.boot!.slots[r3.boot!.runningSlot].version).toBe("enc-3");
    expect(r3.boot!.bootCheck[r3.boot!.runningSlot]).toBe(Reason.OK);

    const wrong = await flashDevice({ port: mcu.port, bundle: await encoded(V3, 4, V1) }).then(() => null, (x: unknown) => x);
    expect((wrong as FwsealError).reason).toBe(Reason.WRONG_PRECURSOR);
    expect(mcu.log()).not.toMatch(/fwseal-mcu: (ERROR|FATAL|HARDFAULT)/);
  });
});
