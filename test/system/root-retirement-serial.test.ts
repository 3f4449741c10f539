// Root retirement delivered to a device over the serial protocol (RETIRE_ROOT,
// formats/PROTOCOL.md §3, SPEC §11): socat pty pairs, the simulated device on one end,
// `fwseal flash --retire-root` (library and CLI) on the other. The device core's handling
// of statements (fragments, power cuts) is covered in-process by the unit tier.
import { describe, it, expect, beforeAll, afterEach } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { SerialPort } from "serialport";
import { Reason } from "../../formats/device-safe/reasons.js";
import { RunMode } from "../../formats/device-safe/protocol.js";
import { createPtyPair, attachDevice, type PtyPair } from "../../device-sim/sim/serial-runner.js";
import { SimDevice } from "../../device-sim/sim/sim-device.js";
import { flashDevice, type FlashOptions } from "../../host/device/flash.js";
import { ExitCode } from "../../host/exit-codes.js";
import { LocalSigner, type KeyPair } from "../../host/keys/keys.js";
import { VENDOR, CLASS, OTHER_CLASS } from "../helpers/device.js";
import { fwseal, errorLines } from "../helpers/cli.js";
import { fwsealRejection } from "../helpers/errors.js";
import { makeRetirementKeys, retirementStatement, rootsOf, signedBundle, type RetirementKeys, type StatementOptions } from "../helpers/root-retirement.js";

const FAST: Partial<FlashOptions> = { baud: 4_000_000, timeoutMs: 400, retries: 6 };

let keys: RetirementKeys;
let root0: KeyPair;
let root1: KeyPair;
let root2: KeyPair;
let via0: LocalSigner; // release key certified by root 0
let via1: LocalSigner; // release key certified by root 1
let direct0: LocalSigner; // root 0 signing bundles itself
let stmtDir: string;

const bundle = signedBundle;
const statement = (counter: number, o: StatementOptions = {}): Promise<Uint8Array> => retirementStatement(keys, counter, o);

function writeStmt(name: string, bytes: Uint8Array): string {
  const p = path.join(stmtDir, name);
  fs.writeFileSync(p, bytes);
  return p;
}

beforeAll(async () => {
  keys = await makeRetirementKeys();
  ({ root0, root1, root2, via0, via1, direct0 } = keys);
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

// rootCount: 2 (the default) or 3 root slots.
function newDevice(flashFile: string, extra: { maxData?: number; rootCount?: number } = {}): SimDevice {
  const { rootCount, ...rest } = extra;
  return new SimDevice({ roots: rootsOf(keys, rootCount ?? 2), vendorId: VENDOR, classId: CLASS, flashFile, ...rest });
}

async function rig(extra: { maxData?: number; rootCount?: number } = {}): Promise<Rig> {
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

describe("RETIRE_ROOT over a serial line (socat ptys)", () => {
  it("rotate: refused while the running image needs root 0; after moving to root 1 it applies, persists, and root 0 is refused with REVOKED_ROOT", async () => {
    const r = await rig();
    const s100 = writeStmt("retire0-100.cose", await statement(100, { note: "INC-2026-17" }));

    // A device running a release certified by root 0.
    const a = await flashDevice({ ...FAST, port: r.port, bundle: await bundle(via0, 1), reboot: true, confirm: true });
    expect(a.device.runMode).toBe("normal");
    expect(a.device.roots).toEqual({ count: 2, retiredMask: 0, statementCounter: 0 });

    // ESP-IDF order: the running image must verify without the slot, else the device refuses.
    const early = await fwsealRejection(flashDevice({ ...FAST, port: r.port, retireRoot: s100 }));
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
      const e = await fwsealRejection(flashDevice({ ...FAST, port: r.port, bundle: await bundle(signer, 3) }));
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
    const after = await fwsealRejection(flashDevice({ ...FAST, port: r.port, bundle: await bundle(via0, 4) }));
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
      const pre = await fwsealRejection(flashDevice({ ...FAST, port: r.port, retireRoot: s }));
      expect(pre.reason).toBe(Reason.STALE_STATEMENT);
      expect(pre.message).toMatch(/^root-retirement statement not sent: STALE_STATEMENT/);
      const dev = await fwsealRejection(flashDevice({ ...FAST, port: r.port, retireRoot: s, force: true }));
      expect(dev.reason).toBe(Reason.STALE_STATEMENT);
      expect(dev.message).toBe("root-retirement statement refused by the device: STALE_STATEMENT");
      expect(dev.exitCode).toBe(ExitCode.TRUST);
    }
    // A thief holding root 0 cannot retire slot 1: slot 0 is retired.
    const thief = await fwsealRejection(flashDevice({ ...FAST, port: r.port, retireRoot: await statement(200, { by: root0, slot: 1 }) }));
    expect(thief.reason).toBe(Reason.REVOKED_ROOT);
    // One flipped signature bit (--force: the host would already see slot 0 retired; the
    // device checks the signature before that).
    const forged = (await statement(300)).slice();
    forged[forged.length - 1] ^= 1;
    expect((await fwsealRejection(flashDevice({ ...FAST, port: r.port, retireRoot: forged, force: true }))).reason).toBe(Reason.BAD_SIGNATURE);
    // A statement for another class is WRONG_CLASS (pre-check, and the device with --force).
    const oc = await statement(400, { classId: OTHER_CLASS });
    expect((await fwsealRejection(flashDevice({ ...FAST, port: r.port, retireRoot: oc }))).reason).toBe(Reason.WRONG_CLASS);
    expect((await fwsealRejection(flashDevice({ ...FAST, port: r.port, retireRoot: oc, force: true }))).reason).toBe(Reason.WRONG_CLASS);
    // Nothing of it changed the device's state; a fresh counter cannot re-retire slot 0 (a slot
    // is retired once, so statements cannot push the counter up without end).
    expect(r.dev.app.store.state.rootCounter).toBe(100);
    const again = await fwsealRejection(flashDevice({ ...FAST, port: r.port, retireRoot: await statement(500) }));
    expect([again.reason, again.message]).toEqual([Reason.STALE_STATEMENT, "root-retirement statement not sent: STALE_STATEMENT: root slot 0 is already retired on the device"]);
    expect((await fwsealRejection(flashDevice({ ...FAST, port: r.port, retireRoot: await statement(500), force: true }))).reason).toBe(Reason.STALE_STATEMENT);
    expect(r.dev.app.store.state.rootCounter).toBe(100);
  });

  it("three root slots: the thief of root 0 cannot retire the others nor exhaust the counter; roots 1 and 2 retire root 0", async () => {
    const r = await rig({ rootCount: 3 });
    // The thief installs an image signed through root 0 (a root holder can).
    await flashDevice({ ...FAST, port: r.port, bundle: await bundle(via0, 1), reboot: true, confirm: true });
    for (const [slot, counter] of [[1, 100], [2, 100], [1, Number.MAX_SAFE_INTEGER]]) {
      const e = await fwsealRejection(flashDevice({ ...FAST, port: r.port, retireRoot: await statement(counter, { by: root0, slot }), force: true }));
      expect([e.reason, e.message]).toEqual([Reason.THRESHOLD_NOT_MET, "root-retirement statement refused by the device: THRESHOLD_NOT_MET"]);
      expect(e.exitCode).toBe(ExitCode.TRUST);
    }
    // Without --force the host already refuses a counter jump past the bound.
    const jump = await fwsealRejection(flashDevice({ ...FAST, port: r.port, retireRoot: await statement(Number.MAX_SAFE_INTEGER, { by: root0, slot: 1 }) }));
    expect(jump.reason).toBe(Reason.TOO_LARGE);
    expect(r.dev.app.store.state.rootRetired).toBe(0);
    expect(r.dev.app.store.state.rootCounter).toBe(0);

    // The owners: a release through root 1, then the statement signed by roots 1 and 2.
    const owners = await statement(100, { by: [root1, root2], slot: 0 });
    const b = await flashDevice({ ...FAST, port: r.port, bundle: await bundle(via1, 2), reboot: true, confirm: true, retireRoot: owners });
    expect(b.retired).toEqual({ slot: 0, counter: 100, retiredMask: 1, alreadyApplied: false });
    await r.restart();
    expect((await flashDevice({ ...FAST, port: r.port })).device.roots).toEqual({ count: 3, retiredMask: 1, statementCounter: 100 });
    expect((await fwsealRejection(flashDevice({ ...FAST, port: r.port, bundle: await bundle(via0, 3) }))).reason).toBe(Reason.REVOKED_ROOT);
    // The counter cannot be pushed far ahead even by a live root (device check, with --force).
    const far = await fwsealRejection(flashDevice({ ...FAST, port: r.port, retireRoot: await statement(100 + 2 ** 32 + 1, { by: root2, slot: 1 }), force: true }));
    expect(far.reason).toBe(Reason.TOO_LARGE);
    expect(r.dev.app.store.state.rootCounter).toBe(100);
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
    expect((await fwsealRejection(flashDevice({ ...FAST, port: r.port, retireRoot: await statement(100), force: true }))).reason).toBe(Reason.STALE_STATEMENT);
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
