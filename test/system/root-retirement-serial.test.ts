// Root retirement delivered to a device over the serial protocol (RETIRE_ROOT,
// formats/PROTOCOL.md §3, SPEC §11): socat pty pairs, the simulated device on one end,
// `fwseal flash --retire-root` (library and CLI) on the other. Then the same statement
// handling under a power cut at every flash operation of the state write, in-process.
import { describe, it, expect, beforeAll, afterEach } from "vitest";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { SerialPort } from "serialport";
import { Reason } from "../../formats/device-safe/reasons.js";
import { MAX_ROOT_STATEMENT } from "../../formats/device-safe/limits.js";
import { buildBundle } from "../../formats/host-only/bundle-builder.js";
import { crc32 } from "../../device-sim/core/update/crc32.js";
import { Msg, RunMode, RETIRE_HEADER_LEN, getU16, getU32, getU53, putU16 } from "../../formats/device-safe/protocol.js";
import { SlotState, STATE_RECORD_LEN } from "../../device-sim/core/boot/flash-layout.js";
import { createPtyPair, attachDevice, type PtyPair } from "../../device-sim/sim/serial-runner.js";
import { SimDevice } from "../../device-sim/sim/sim-device.js";
import { PowerCut, type CutMode } from "../../device-sim/sim/sim-flash.js";
import { flashDevice, type FlashOptions } from "../../host/device/flash.js";
import { FwsealError } from "../../host/errors.js";
import { ExitCode } from "../../host/exit-codes.js";
import { LocalSigner, type KeyPair } from "../../host/keys/keys.js";
import { createRootRetirement } from "../../host/keys/root-retirement.js";
import { InProcHost, VENDOR, CLASS, OTHER_CLASS } from "../helpers/device.js";
import { fwseal, errorLines } from "../helpers/cli.js";
import { sampleImage } from "../helpers/images.js";
import { makeKeys } from "../helpers/keys.js";

const FAST: Partial<FlashOptions> = { baud: 4_000_000, timeoutMs: 400, retries: 6 };

let root0: KeyPair;
let root1: KeyPair;
let via0: LocalSigner; // release key certified by root 0
let via1: LocalSigner; // release key certified by root 1
let direct0: LocalSigner; // root 0 signing bundles itself
let stmtDir: string;

function bundle(signer: LocalSigner, sequence: number, image = sampleImage(20_000, sequence), chunkSize = 4096): Promise<Uint8Array> {
  return buildBundle(
    image,
    {
      vendorId: VENDOR,
      classId: CLASS,
      sequence,
      version: `2.0.${sequence}`,
      chunkSize,
      sha256: (d) => new Uint8Array(crypto.createHash("sha256").update(d).digest())
    },
    [signer]
  );
}

/** slot 1 (or `by`) retires `slot` (default 0) with this counter. */
function statement(counter: number, o: { by?: KeyPair; slot?: number; note?: string; classId?: Uint8Array } = {}): Promise<Uint8Array> {
  const slot = o.slot ?? 0;
  return createRootRetirement(new LocalSigner((o.by ?? root1).privateKey), {
    slot,
    counter,
    vendorId: VENDOR,
    classId: o.classId,
    retiredKey: slot === 0 ? root0.publicKey : root1.publicKey,
    note: o.note
  });
}

function writeStmt(name: string, bytes: Uint8Array): string {
  const p = path.join(stmtDir, name);
  fs.writeFileSync(p, bytes);
  return p;
}

beforeAll(async () => {
  const keys0 = await makeKeys();
  const keys1 = await makeKeys();
  root0 = keys0.root;
  root1 = keys1.root;
  via0 = keys0.releaseSigner;
  via1 = keys1.releaseSigner;
  direct0 = keys0.rootSigner;
  stmtDir = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-keys-serial-"));
  return () => fs.rmSync(stmtDir, { recursive: true, force: true });
});

// ---------- a device on a pty pair, restartable on the same flash file ----------

interface Rig {
  port: string;
  dev: SimDevice;
  sp: SerialPort; // the device's end
  restart(): Promise<void>; // simulator process stops and starts again: same flash, fresh RAM
  close(): Promise<void>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function newDevice(flashFile: string, extra: { maxData?: number } = {}): SimDevice {
  return new SimDevice({ roots: [root0.publicKey, root1.publicKey], vendorId: VENDOR, classId: CLASS, flashFile, ...extra });
}

async function rig(extra: { maxData?: number } = {}): Promise<Rig> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-keys-serial-"));
  const flashFile = path.join(dir, "flash.bin");
  let pair: PtyPair;
  let sp: SerialPort;
  let n = 0;
  const r = {} as Rig;
  const up = async (): Promise<void> => {
    pair = await createPtyPair(dir, `host${n}`, `device${n}`);
    n++;
    r.dev = newDevice(flashFile, extra);
    sp = await attachDevice(r.dev, pair.devicePath);
    r.sp = sp;
    r.port = pair.hostPath;
  };
  const down = async (): Promise<void> => {
    if (sp.isOpen) await new Promise<void>((res) => sp.close(() => res()));
    r.dev.close();
    await pair.close();
  };
  await up();
  r.restart = async () => {
    await down();
    await up();
  };
  r.close = async () => {
    await down();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  cleanups.push(r.close);
  return r;
}

async function failure(p: Promise<unknown>): Promise<FwsealError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x
  );
  expect(e).toBeInstanceOf(FwsealError);
  return e as FwsealError;
}

describe("RETIRE_ROOT over a serial line (socat ptys)", () => {
  it("rotate: refused while the running image needs root 0; after moving to root 1 it applies, persists, and root 0 is refused with REVOKED_ROOT", async () => {
    const r = await rig();
    const s100 = writeStmt("retire0-100.cose", await statement(100, { note: "INC-2026-17" }));

    // A device running a release certified by root 0.
    const a = await flashDevice({ ...FAST, port: r.port, bundle: await bundle(via0, 1), reboot: true, confirm: true });
    expect(a.device.runMode).toBe("normal");
    expect(a.device.roots).toEqual({ count: 2, retiredMask: 0, statementCounter: 0 });

    // ESP-IDF order: the running image must verify without the slot, else the device refuses.
    const early = await failure(flashDevice({ ...FAST, port: r.port, retireRoot: s100 }));
    expect(early.exitCode).toBe(ExitCode.DEVICE);
    expect(early.message).toMatch(/refused the root-retirement statement: its running image verifies only through root slot 0/);
    expect(r.dev.app.store.state.rootRetired).toBe(0);
    expect(r.dev.app.runMode).toBe(RunMode.NORMAL);

    // Runbook step 4 in one run: release via root 1, test boot, confirm, then retire slot 0.
    const b = await flashDevice({ ...FAST, port: r.port, bundle: await bundle(via1, 2), reboot: true, confirm: true, retireRoot: s100 });
    expect(b.outcome).toBe("installed");
    expect(b.confirmed!.sequence).toBe(2);
    expect(b.retired).toEqual({ slot: 0, counter: 100, retiredMask: 1, alreadyApplied: false });
    expect(b.device.roots).toEqual({ count: 2, retiredMask: 1, statementCounter: 100 });
    expect(r.dev.app.store.state.rootRetired).toBe(1);
    expect(r.dev.app.store.state.rootCounter).toBe(100);

    // Simulator restart right away: the retired bit and the counter come back from flash.
    await r.restart();
    expect(r.dev.app.runMode).toBe(RunMode.NORMAL);
    expect((await flashDevice({ ...FAST, port: r.port })).device.roots).toEqual({ count: 2, retiredMask: 1, statementCounter: 100 });

    // Root 0 is dead on the wire: signed directly, or through a certificate it issued.
    for (const signer of [direct0, via0]) {
      const e = await failure(flashDevice({ ...FAST, port: r.port, bundle: await bundle(signer, 3) }));
      expect(e.reason, e.message).toBe(Reason.REVOKED_ROOT);
      expect(e.chunk).toBe(-1);
      expect(e.exitCode).toBe(ExitCode.TRUST);
    }
    // Root 1 works.
    const c = await flashDevice({ ...FAST, port: r.port, bundle: await bundle(via1, 3), reboot: true, confirm: true });
    expect(c.confirmed!.sequence).toBe(3);

    // And after another restart.
    await r.restart();
    expect(r.dev.app.runMode).toBe(RunMode.NORMAL);
    const info = await flashDevice({ ...FAST, port: r.port });
    expect(info.device.roots).toEqual({ count: 2, retiredMask: 1, statementCounter: 100 });
    const after = await failure(flashDevice({ ...FAST, port: r.port, bundle: await bundle(via0, 4) }));
    expect(after.reason).toBe(Reason.REVOKED_ROOT);
    expect((await flashDevice({ ...FAST, port: r.port, bundle: await bundle(via1, 4) })).outcome).toBe("installed");
  });

  it("replay of the same or an older statement: STALE_STATEMENT (host pre-check, and the device itself with --force); forged and thief statements refused", async () => {
    const r = await rig();
    await flashDevice({ ...FAST, port: r.port, bundle: await bundle(via1, 1), reboot: true, confirm: true });
    const s100 = await statement(100);
    const s50 = await statement(50);
    expect((await flashDevice({ ...FAST, port: r.port, retireRoot: s100 })).retired!.counter).toBe(100);

    for (const s of [s100, s50]) {
      const pre = await failure(flashDevice({ ...FAST, port: r.port, retireRoot: s }));
      expect(pre.reason).toBe(Reason.STALE_STATEMENT);
      expect(pre.message).toMatch(/^root-retirement statement not sent: STALE_STATEMENT/);
      const dev = await failure(flashDevice({ ...FAST, port: r.port, retireRoot: s, force: true }));
      expect(dev.reason).toBe(Reason.STALE_STATEMENT);
      expect(dev.message).toBe("root-retirement statement refused by the device: STALE_STATEMENT");
      expect(dev.exitCode).toBe(ExitCode.TRUST);
    }
    // A thief holding root 0 cannot retire slot 1: slot 0 is retired.
    const thief = await failure(flashDevice({ ...FAST, port: r.port, retireRoot: await statement(200, { by: root0, slot: 1 }) }));
    expect(thief.reason).toBe(Reason.REVOKED_ROOT);
    // One flipped signature bit.
    const forged = (await statement(300)).slice();
    forged[forged.length - 1] ^= 1;
    expect((await failure(flashDevice({ ...FAST, port: r.port, retireRoot: forged }))).reason).toBe(Reason.BAD_SIGNATURE);
    // A statement for another class is WRONG_CLASS (pre-check, and the device with --force).
    const oc = await statement(400, { classId: OTHER_CLASS });
    expect((await failure(flashDevice({ ...FAST, port: r.port, retireRoot: oc }))).reason).toBe(Reason.WRONG_CLASS);
    expect((await failure(flashDevice({ ...FAST, port: r.port, retireRoot: oc, force: true }))).reason).toBe(Reason.WRONG_CLASS);
    // Nothing of it changed the device's state; a fresh counter re-retiring slot 0 only advances it.
    expect(r.dev.app.store.state.rootCounter).toBe(100);
    const again = await flashDevice({ ...FAST, port: r.port, retireRoot: await statement(500) });
    expect(again.retired).toEqual({ slot: 0, counter: 500, retiredMask: 1, alreadyApplied: false });
  });

  it("the reply to the last fragment is lost: the retry is stale, and the host finds the statement applied", async () => {
    const r = await rig();
    let dropped = 0;
    r.dev.setOutput((b) => {
      // Swallow the first reply sent after the statement was persisted: the R_OK.
      if (dropped === 0 && r.dev.app.store.state.rootCounter === 100) {
        dropped++;
        return;
      }
      r.sp.write(Buffer.from(b));
    });
    const res = await flashDevice({ ...FAST, slowTimeoutMs: 800, port: r.port, retireRoot: await statement(100) });
    expect(dropped).toBe(1);
    expect(res.retired).toEqual({ slot: 0, counter: 100, retiredMask: 1, alreadyApplied: true });
    // Without a lost reply, the same statement again is a replay.
    expect((await failure(flashDevice({ ...FAST, port: r.port, retireRoot: await statement(100), force: true }))).reason).toBe(Reason.STALE_STATEMENT);
  });

  it("fwseal flash --retire-root (CLI): one final line, exit codes 0 / 11 / 14 / 3", async () => {
    const r = await rig({ maxData: 64 }); // statements travel in several fragments
    const s = writeStmt("cli-retire.cose", await statement(1000, { note: "x".repeat(200) }));
    expect(fs.statSync(s).size).toBeGreaterThan(3 * 64);
    // Recovery mode (nothing installed): nothing can stop booting, so it applies.
    const ok = await fwseal(["flash", "--port", r.port, "--retire-root", s, "--timeout", "400"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim().split("\n")).toEqual(["root slot 0 retired on the device (statement counter 1000, persisted); retired slots: 0"]);
    const replay = await fwseal(["flash", "--port", r.port, "--retire-root", s, "--timeout", "400"]);
    expect(replay.code).toBe(ExitCode.TRUST);
    expect(errorLines(replay)).toEqual([
      "fwseal: error: root-retirement statement not sent: STALE_STATEMENT: statement counter 1000 is not above the device's 1000 (already applied, or older)"
    ]);
    const json = await fwseal(["flash", "--port", r.port, "--json", "--timeout", "400"]);
    expect(JSON.parse(json.stdout).device.roots).toEqual({ count: 2, retiredMask: 1, statementCounter: 1000 });
    const missing = await fwseal(["flash", "--port", r.port, "--retire-root", path.join(stmtDir, "nope.cose")]);
    expect(missing.code).toBe(ExitCode.INPUT);
    expect(errorLines(missing)).toHaveLength(1);
    const noPort = await fwseal(["flash", "--port", path.join(stmtDir, "no-such-tty"), "--retire-root", s]);
    expect(noPort.code).toBe(ExitCode.DEVICE);
    expect(errorLines(noPort)).toEqual([`fwseal: error: ${path.join(stmtDir, "no-such-tty")}: no such serial port`]);
  });
});

// ---------- in-process: fragments, and power cuts during the state write ----------

const GEOMETRY = { pageSize: 512, flashSize: 64 * 1024, resumeStride: 1024, maxData: 700 };

function retireFrame(stmt: Uint8Array, off: number, n: number): Uint8Array {
  const p = new Uint8Array(RETIRE_HEADER_LEN - 2 + n);
  putU16(p, 0, stmt.length);
  putU16(p, 2, off);
  p.set(stmt.subarray(off, off + n), 4);
  return p;
}

function memDevice(): SimDevice {
  const d = new SimDevice({ roots: [root0.publicKey, root1.publicKey], vendorId: VENDOR, classId: CLASS, ...GEOMETRY });
  d.powerOn();
  return d;
}

describe("RETIRE_ROOT in the device core", () => {
  let base: Uint8Array; // flash of a device running a confirmed release via root 1
  let stmt: Uint8Array;

  beforeAll(async () => {
    const dev = memDevice();
    const h = new InProcHost(dev);
    expect(h.install(await bundle(via1, 1, sampleImage(2500, 5), 256), GEOMETRY.maxData).type).toBe(Msg.R_OK);
    h.one(Msg.REBOOT);
    h.one(Msg.CONFIRM);
    h.one(Msg.REBOOT);
    expect(dev.app.runMode).toBe(RunMode.NORMAL);
    base = dev.flash.mem.slice();
    stmt = await statement(77, { note: "power" });
  });

  function device(): { dev: SimDevice; h: InProcHost } {
    const dev = new SimDevice({ roots: [root0.publicKey, root1.publicKey], vendorId: VENDOR, classId: CLASS, ...GEOMETRY });
    dev.flash.mem.set(base);
    dev.powerOn();
    return { dev, h: new InProcHost(dev) };
  }

  it("fragments: in order, duplicates answered, a gap NAKed, a retransmitted last fragment is stale", () => {
    const { dev, h } = device();
    const r1 = h.one(Msg.RETIRE_ROOT, retireFrame(stmt, 0, 40));
    expect([r1.type, getU16(r1.body, 2)]).toEqual([Msg.R_OK, 40]);
    expect(getU16(h.one(Msg.RETIRE_ROOT, retireFrame(stmt, 0, 40)).body, 2)).toBe(40); // duplicate
    const gap = h.one(Msg.RETIRE_ROOT, retireFrame(stmt, 80, 40));
    expect([gap.type, getU32(gap.body, 2)]).toEqual([Msg.R_NAK, 40]);
    const last = h.one(Msg.RETIRE_ROOT, retireFrame(stmt, 40, stmt.length - 40));
    expect(last.type).toBe(Msg.R_OK);
    expect([getU16(last.body, 2), last.body[4], last.body[5], getU53(last.body, 6)]).toEqual([stmt.length, 1, 0, 77]);
    // Retransmitted last fragment: the device has consumed the statement and asks from 0 ...
    const re = h.one(Msg.RETIRE_ROOT, retireFrame(stmt, 40, stmt.length - 40));
    expect([re.type, getU32(re.body, 2)]).toEqual([Msg.R_NAK, 0]);
    // ... and the whole statement again is a replay.
    const whole = h.one(Msg.RETIRE_ROOT, retireFrame(stmt, 0, stmt.length));
    expect([whole.type, whole.body[2]]).toEqual([Msg.R_ERROR, Reason.STALE_STATEMENT]);
    // Bounds: larger than MAX_ROOT_STATEMENT, a fragment past the total, no header.
    const big = new Uint8Array(MAX_ROOT_STATEMENT + 1);
    expect(h.one(Msg.RETIRE_ROOT, retireFrame(big, 0, 10)).body[2]).toBe(Reason.TOO_LARGE);
    const bad = retireFrame(stmt, 0, 10);
    putU16(bad, 0, 5);
    expect(h.one(Msg.RETIRE_ROOT, bad).body[2]).toBe(Reason.MALFORMED);
    expect(h.one(Msg.RETIRE_ROOT, Uint8Array.of(1)).body[2]).toBe(Reason.MALFORMED);
    expect(dev.app.store.state.rootCounter).toBe(77);
  });

  it("refused with BAD_STATE while an unconfirmed test image runs", async () => {
    const { dev, h } = device();
    expect(h.install(await bundle(via1, 2, sampleImage(2000, 6), 256), GEOMETRY.maxData).type).toBe(Msg.R_OK);
    h.one(Msg.REBOOT);
    expect(dev.app.runMode).toBe(RunMode.TEST);
    const r = h.one(Msg.RETIRE_ROOT, retireFrame(stmt, 0, stmt.length));
    expect([r.type, r.body[2]]).toEqual([Msg.R_ERROR, Reason.BAD_STATE]);
    h.one(Msg.CONFIRM);
    expect(h.one(Msg.RETIRE_ROOT, retireFrame(stmt, 0, stmt.length)).type).toBe(Msg.R_OK);
  });

  it("boot uses the persisted mask: the previous image, certified by root 0, is no fallback once slot 0 is retired", async () => {
    const run = async (retire: boolean): Promise<SimDevice> => {
      const dev = memDevice();
      const h = new InProcHost(dev);
      // Same sequence twice (a re-release through the new root), so the old one is a valid fallback.
      for (const [signer, seed] of [[via0, 1], [via1, 2]] as const) {
        expect(h.install(await bundle(signer, 2, sampleImage(2000, seed), 256), GEOMETRY.maxData).type).toBe(Msg.R_OK);
        h.one(Msg.REBOOT);
        h.one(Msg.CONFIRM);
      }
      const active = dev.app.runningSlot;
      expect(dev.app.store.state.slots[1 - active].state).toBe(SlotState.OLD);
      if (retire) expect(h.one(Msg.RETIRE_ROOT, retireFrame(stmt, 0, stmt.length)).type).toBe(Msg.R_OK);
      dev.flash.mem[dev.app.layout.slotAddr[active] + 100] ^= 0x40; // the active image rots
      dev.powerOn();
      expect(dev.app.bootReason[active]).toBe(Reason.CHUNK_HASH_MISMATCH);
      return dev;
    };
    const control = await run(false);
    expect(control.app.runMode).toBe(RunMode.NORMAL); // fell back to the root-0 image
    expect(control.app.bootReason[control.app.runningSlot]).toBe(Reason.OK);
    const retired = await run(true);
    expect(retired.app.runningSlot).toBe(-1); // recovery mode: root 0's image must not run
    expect(Array.from(retired.app.bootReason)).toContain(Reason.REVOKED_ROOT);
  });

  it("a format-1 state record (before root retirement existed) still loads: nothing retired, counter 0", () => {
    const { dev } = device();
    const copy = dev.app.layout.stateCopy[dev.app.store.current];
    const rec = dev.flash.mem.subarray(copy, copy + STATE_RECORD_LEN);
    const crcV1 = STATE_RECORD_LEN - 12; // format 1 had no statement counter before its CRC
    rec[8] = 1;
    const c = crc32(rec, 0, crcV1);
    for (let i = 0; i < 4; i++) rec[crcV1 + i] = (c >>> (8 * i)) & 0xff;
    dev.powerOn();
    expect(dev.app.store.current).toBeGreaterThanOrEqual(0);
    expect(dev.app.runMode).toBe(RunMode.NORMAL);
    expect(dev.app.store.state.rootRetired).toBe(0);
    expect(dev.app.store.state.rootCounter).toBe(0);
  });

  it("power cut at every flash operation of the state write: old mask or new mask, never a broken state", () => {
    const probe = device();
    const before = probe.dev.flash.ops;
    expect(probe.h.one(Msg.RETIRE_ROOT, retireFrame(stmt, 0, stmt.length)).type).toBe(Msg.R_OK);
    const ops = probe.dev.flash.ops - before;
    expect(ops).toBeGreaterThanOrEqual(2); // erase + write of the other state copy
    const seen = { old: 0, new: 0 };
    for (const mode of ["partial", "complete"] as CutMode[]) {
      for (let k = 1; k <= ops; k++) {
        const { dev, h } = device();
        dev.flash.cutMode = mode;
        dev.flash.cutAt = dev.flash.ops + k;
        expect(() => h.send(Msg.RETIRE_ROOT, retireFrame(stmt, 0, stmt.length))).toThrow(PowerCut);
        dev.flash.cutAt = 0;
        dev.powerOn();
        const st = dev.app.store.state;
        expect(dev.app.store.current).toBeGreaterThanOrEqual(0); // a valid record was found
        expect(dev.app.runMode).toBe(RunMode.NORMAL); // the image still boots, verified
        expect(dev.app.bootReason[dev.app.runningSlot]).toBe(Reason.OK);
        expect(st.slots[dev.app.runningSlot].state).toBe(SlotState.CONFIRMED);
        if (st.rootRetired === 0) {
          expect(st.rootCounter).toBe(0);
          seen.old++;
          // The statement was not applied: delivering it again works.
          expect(h.one(Msg.RETIRE_ROOT, retireFrame(stmt, 0, stmt.length)).type).toBe(Msg.R_OK);
        } else {
          expect([st.rootRetired, st.rootCounter]).toEqual([1, 77]);
          seen.new++;
          expect(h.one(Msg.RETIRE_ROOT, retireFrame(stmt, 0, stmt.length)).body[2]).toBe(Reason.STALE_STATEMENT);
        }
        expect([dev.app.store.state.rootRetired, dev.app.store.state.rootCounter]).toEqual([1, 77]);
      }
    }
    console.log(`retire-root state write: ${ops} flash operations, ${2 * ops} cuts: ${seen.old} kept the old state, ${seen.new} the new`);
    expect(seen.old + seen.new).toBe(2 * ops);
    expect(seen.old).toBeGreaterThan(0);
    expect(seen.new).toBeGreaterThan(0);
  });
});
