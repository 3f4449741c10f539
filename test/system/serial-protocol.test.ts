// The update protocol over real serial lines: socat pseudo-terminal pairs, serialport on both
// ends, the simulated device on one end and `fwseal flash`'s library on the other. A relay
// between two pty pairs pulls the cable and injects corrupted, dropped and duplicated bytes.
import { describe, it, expect, beforeAll, afterEach } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { SerialPort } from "serialport";
import { Reason } from "../../formats/device-safe/reasons.js";
import { RunMode } from "../../formats/device-safe/protocol.js";
import { createPtyPair, attachDevice, type PtyPair } from "../../device-sim/sim/serial-runner.js";
import { Relay, type RelayOptions } from "../../device-sim/sim/relay.js";
import type { SimDevice, SimDeviceOptions } from "../../device-sim/sim/sim-device.js";
import { flashDevice, type FlashOptions } from "../../host/device/flash.js";
import { FwsealError } from "../../host/errors.js";
import { ExitCode } from "../../host/exit-codes.js";
import { buildBundle } from "../../formats/host-only/bundle-builder.js";
import { LocalSigner, generateKeyPair } from "../../host/keys/keys.js";
import { buildCertificate } from "../../formats/host-only/certificate.js";
import { makeBundle, simDevice, CLASS, OTHER_CLASS, VENDOR } from "../helpers/device.js";
import { makeKeys, delegatedSigner, randomSigner, type TestKeys } from "../helpers/keys.js";
import { sampleImage } from "../helpers/images.js";

interface Rig {
  port: string; // host side
  dev: SimDevice;
  relay: Relay | null;
  close(): Promise<void>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function rig(keys: TestKeys, relayOpts?: RelayOptions, device: Partial<SimDeviceOptions> = {}): Promise<Rig> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-serial-"));
  const pairs: PtyPair[] = [];
  let relay: Relay | null = null;
  let hostPort: string;
  let devPort: string;
  if (relayOpts) {
    const a = await createPtyPair(dir, "host", "relay-a");
    const b = await createPtyPair(dir, "relay-b", "device");
    pairs.push(a, b);
    relay = await Relay.start(a.devicePath, b.hostPath, relayOpts);
    hostPort = a.hostPath;
    devPort = b.devicePath;
  } else {
    const p = await createPtyPair(dir);
    pairs.push(p);
    hostPort = p.hostPath;
    devPort = p.devicePath;
  }
  const dev = simDevice(keys, { flashFile: path.join(dir, "flash.bin"), ...device });
  const sp: SerialPort = await attachDevice(dev, devPort);
  const r: Rig = {
    port: hostPort,
    dev,
    relay,
    close: async () => {
      if (relay) await relay.close();
      if (sp.isOpen) await new Promise<void>((res) => sp.close(() => res()));
      dev.close();
      for (const p of pairs) await p.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  cleanups.push(r.close);
  return r;
}

// Fast link settings for tests: the ptys are not throttled.
const FAST: Partial<FlashOptions> = { baud: 4_000_000, timeoutMs: 400, retries: 6 };

async function expectRejected(p: Promise<unknown>, reason: number): Promise<FwsealError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x
  );
  expect(e).toBeInstanceOf(FwsealError);
  const fe = e as FwsealError;
  expect(fe.reason, fe.message).toBe(reason);
  return fe;
}

let keys: TestKeys;
let v1: Uint8Array;
let v2: Uint8Array;
const IMG2 = sampleImage(120_000, 2);

beforeAll(async () => {
  keys = await makeKeys();
  v1 = await makeBundle(keys, { image: sampleImage(50_000, 1), sequence: 1, version: "1.0.0" });
  v2 = await makeBundle(keys, { image: IMG2, sequence: 2, version: "1.1.0" });
});

async function installConfirmed(r: Rig, bundle: Uint8Array): Promise<void> {
  const res = await flashDevice({ ...FAST, port: r.port, bundle, reboot: true, confirm: true });
  expect(res.outcome).toBe("installed");
  expect(res.device.runMode).toBe("normal");
}

describe("serial: fwseal flash <-> simulated device over socat ptys", () => {
  it("happy path: install, reboot into a verified test image, confirm", async () => {
    const r = await rig(keys);
    const res = await flashDevice({ ...FAST, port: r.port, bundle: v1, reboot: true });
    expect(res.outcome).toBe("installed");
    expect(res.transfer!.payloadOverWire).toBeGreaterThan(0.95);
    expect(res.boot!.runMode).toBe("test");
    expect(res.boot!.bootCheck[res.boot!.runningSlot]).toBe(Reason.OK);
    expect(res.boot!.slots[res.boot!.runningSlot].version).toBe("1.0.0");
    const c = await flashDevice({ ...FAST, port: r.port, confirm: true });
    expect(c.confirmed!.sequence).toBe(1);
    expect(c.device.minSequence).toBe(1);
    expect(r.dev.app.runMode).toBe(RunMode.NORMAL);
  });

  it("the host streams with the device's window: stop-and-wait at 1, more than 8 frames when offered", async () => {
    for (const window of [1, 12]) {
      const r = await rig(keys, undefined, { window });
      const res = await flashDevice({ ...FAST, port: r.port, bundle: v1 });
      expect(res.outcome).toBe("installed");
      expect(res.device.window).toBe(window);
      expect(res.transfer!.retransmits).toBe(0);
    }
  });

  it("each rejection travels back with its reason and chunk; the active image keeps running", async () => {
    const r = await rig(keys);
    await installConfirmed(r, v1);
    const active = r.dev.app.runningSlot;
    const envLen = v2.length - IMG2.length - 32 * Math.ceil(IMG2.length / 4096);

    const tampered = v2.slice();
    tampered[envLen + 17 * 4128 + 9] ^= 0x80;
    let e = await expectRejected(flashDevice({ ...FAST, port: r.port, bundle: tampered }), Reason.CHUNK_HASH_MISMATCH);
    expect(e.chunk).toBe(17);
    expect(e.exitCode).toBe(ExitCode.INTEGRITY);

    const badSig = v2.slice();
    badSig[envLen - 10] ^= 1; // inside the Ed25519 signature
    e = await expectRejected(flashDevice({ ...FAST, port: r.port, bundle: badSig }), Reason.BAD_SIGNATURE);
    expect(e.chunk).toBe(-1);
    expect(e.exitCode).toBe(ExitCode.TRUST);

    const stranger = new LocalSigner(generateKeyPair().privateKey);
    const unknown = await buildBundle(sampleImage(3000, 5), { vendorId: VENDOR, classId: CLASS, sequence: 9, version: "9" }, [stranger]);
    await expectRejected(flashDevice({ ...FAST, port: r.port, bundle: unknown }), Reason.UNKNOWN_KEY);

    await expectRejected(flashDevice({ ...FAST, port: r.port, bundle: v2.subarray(0, v2.length - 5000) }), Reason.TRUNCATED);
    const longer = new Uint8Array(v2.length + 3);
    longer.set(v2);
    await expectRejected(flashDevice({ ...FAST, port: r.port, bundle: longer }), Reason.TRAILING_DATA);

    expect(r.dev.app.runningSlot).toBe(active);
    const after = await flashDevice({ ...FAST, port: r.port, reboot: true });
    expect(after.device.runningSlot).toBe(active);
    expect(after.device.runMode).toBe("normal");
    expect(after.device.slots[active].version).toBe("1.0.0");
  });

  it("rollback and wrong class: refused by the host pre-check, and by the device itself with --force", async () => {
    const r = await rig(keys);
    await installConfirmed(r, v2);
    let e = await expectRejected(flashDevice({ ...FAST, port: r.port, bundle: v1 }), Reason.ROLLBACK);
    expect(e.message).toMatch(/^not sent/);
    e = await expectRejected(flashDevice({ ...FAST, port: r.port, bundle: v1, force: true }), Reason.ROLLBACK);
    expect(e.exitCode).toBe(ExitCode.POLICY);
    const wrong = await makeBundle(keys, { image: sampleImage(4000, 7), sequence: 3, classId: OTHER_CLASS });
    e = await expectRejected(flashDevice({ ...FAST, port: r.port, bundle: wrong }), Reason.WRONG_CLASS);
    expect(e.message).toMatch(/^not sent/);
    await expectRejected(flashDevice({ ...FAST, port: r.port, bundle: wrong, force: true }), Reason.WRONG_CLASS);
    expect(r.dev.app.store.state.slots[r.dev.app.runningSlot].sequence).toBe(2);
  });

  it("a different image at the running sequence is refused by the device (ROLLBACK); the confirmed image keeps booting after its certificate expired", async () => {
    let now = Math.floor(Date.now() / 1000);
    const cert = await buildCertificate(keys.rootSigner, { publicKey: keys.release.publicKey, epoch: 1, notBefore: now - 600, notAfter: now + 600 });
    const shortKeys = { ...keys, releaseSigner: new LocalSigner(keys.release.privateKey, cert) };
    const r = await rig(keys, undefined, { now: () => now });
    await installConfirmed(r, await makeBundle(shortKeys, { image: sampleImage(20_000, 31), sequence: 1 }));
    const active = r.dev.app.runningSlot;
    const sibling = await makeBundle(shortKeys, { image: sampleImage(20_000, 32), sequence: 1 });
    const e = await expectRejected(flashDevice({ ...FAST, port: r.port, bundle: sibling, force: true }), Reason.ROLLBACK);
    expect(e.chunk).toBe(-1);
    now += 365 * 86400; // the certificate expired a year ago
    const after = await flashDevice({ ...FAST, port: r.port, reboot: true });
    expect(after.device.runningSlot).toBe(active);
    expect(after.device.runMode).toBe("normal");
    expect(r.dev.app.bootReason[active]).toBe(Reason.OK);
  });

  it("cable pulled mid-transfer: link failure (exit 14), then --resume continues from the last persisted chunk", async () => {
    const r = await rig(keys, {});
    await installConfirmed(r, v1);
    let pulled = false;
    const fail = await flashDevice({
      ...FAST,
      port: r.port,
      bundle: v2,
      retries: 2,
      onProgress: (p) => {
        if (!pulled && p.acked > v2.length * 0.6) {
          pulled = true;
          r.relay!.unplug();
        }
      }
    }).then(
      () => null,
      (x: unknown) => x
    );
    expect(fail).toBeInstanceOf(FwsealError);
    expect((fail as FwsealError).exitCode).toBe(ExitCode.DEVICE);
    r.relay!.plug();
    const res = await flashDevice({ ...FAST, port: r.port, bundle: v2, resume: true, reboot: true, confirm: true });
    expect(res.outcome).toBe("installed");
    expect(res.resumedFrom).toBeGreaterThan(v2.length * 0.3);
    expect(res.transfer!.bytes).toBeLessThan(v2.length * 0.7);
    expect(res.device.slots[res.device.runningSlot].version).toBe("1.1.0");
    expect(res.device.minSequence).toBe(2);
  });

  it("cable pulled briefly: the same run retransmits from the last ACK and completes", async () => {
    const r = await rig(keys, {});
    let pulled = false;
    const res = await flashDevice({
      ...FAST,
      port: r.port,
      bundle: v2,
      retries: 10,
      onProgress: (p) => {
        if (!pulled && p.acked > v2.length * 0.4) {
          pulled = true;
          r.relay!.unplug();
          setTimeout(() => r.relay!.plug(), 1200);
        }
      }
    });
    expect(pulled).toBe(true);
    expect(res.outcome).toBe("installed");
    expect(res.transfer!.timeouts).toBeGreaterThan(0);
    expect(res.transfer!.retransmits).toBeGreaterThan(0);
  });

  it("power cut in the device mid-install: it reboots into the old image and the install resumes", async () => {
    const r = await rig(keys);
    await installConfirmed(r, v1);
    const old = r.dev.app.runningSlot;
    r.dev.flash.cutAt = r.dev.flash.ops + 40; // somewhere in the middle of the chunk writes
    const fail = await flashDevice({ ...FAST, port: r.port, bundle: v2, retries: 2 }).then(
      () => null,
      (x: unknown) => x
    );
    expect(fail).toBeInstanceOf(FwsealError);
    expect(r.dev.app.runningSlot).toBe(old); // rebooted, verified, running the old image
    expect(r.dev.app.bootReason[old]).toBe(Reason.OK);
    const res = await flashDevice({ ...FAST, port: r.port, bundle: v2, resume: true, reboot: true, confirm: true });
    expect(res.resumedFrom).toBeGreaterThan(0);
    expect(res.device.slots[res.device.runningSlot].version).toBe("1.1.0");
  });

  it("a line that corrupts, drops and duplicates bytes: retransmissions, same verified result", async () => {
    const faults = { corrupt: 2e-5, drop: 2e-5, dup: 2e-5 };
    const r = await rig(keys, { toDevice: faults, toHost: { corrupt: 1e-3, drop: 1e-3, dup: 1e-3 }, seed: 7 });
    const res = await flashDevice({ ...FAST, port: r.port, bundle: v2, retries: 20 });
    expect(res.outcome).toBe("installed");
    const s = r.relay!.stats;
    expect(s.corrupted + s.dropped + s.duplicated).toBeGreaterThan(3);
    expect(res.transfer!.retransmits).toBeGreaterThan(0);
    // Reboot over the faulty line too: the boot loader verifies what was written.
    const boot = await flashDevice({ ...FAST, port: r.port, reboot: true, retries: 20 });
    expect(boot.device.runMode).toBe("test");
    expect(boot.device.bootCheck[boot.device.runningSlot]).toBe(Reason.OK);
    const slot = r.dev.app.runningSlot;
    const base = r.dev.app.layout.slotAddr[slot];
    expect(Buffer.compare(Buffer.from(r.dev.flash.mem.subarray(base, base + IMG2.length)), Buffer.from(IMG2))).toBe(0);
  });

  it("root threshold: a bundle meeting k = 2 through one root is refused by the device (THRESHOLD_NOT_MET); through two roots it installs", async () => {
    const other = randomSigner();
    const r = await rig(keys, undefined, { roots: [keys.root.publicKey, other.keyPair.publicKey], threshold: 2, rootThreshold: 2 });
    const opts = { vendorId: VENDOR, classId: CLASS, version: "3.0.0" };
    const img = sampleImage(20_000, 9);
    const oneRoot = await buildBundle(img, { ...opts, sequence: 3 }, [keys.releaseSigner, await delegatedSigner(keys.rootSigner, 1)]);
    const e = await expectRejected(flashDevice({ ...FAST, port: r.port, bundle: oneRoot }), Reason.THRESHOLD_NOT_MET);
    expect(e.exitCode).toBe(ExitCode.TRUST);
    expect(e.message).not.toMatch(/^not sent/); // the device's verdict, not a host pre-check
    const twoRoots = await buildBundle(img, { ...opts, sequence: 3 }, [keys.releaseSigner, await delegatedSigner(other.signer, 1)]);
    const res = await flashDevice({ ...FAST, port: r.port, bundle: twoRoots, reboot: true });
    expect(res.outcome).toBe("installed");
    expect(res.boot!.bootCheck[res.boot!.runningSlot]).toBe(Reason.OK);
  });

  it("errors for a missing port name the port", async () => {
    const e = await flashDevice({ port: "/dev/does-not-exist-fwseal", bundle: v1 }).then(
      () => null,
      (x: unknown) => x
    );
    expect((e as FwsealError).exitCode).toBe(ExitCode.DEVICE);
    expect((e as Error).message).toContain("/dev/does-not-exist-fwseal");
  });
});
