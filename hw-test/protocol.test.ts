// The serial update protocol suite, against ANY device reachable over a serial port.
//
//   HW_PORT=/dev/ttyACM0 HW_KEYS_DIR=./keys HW_VENDOR=acme.example HW_CLASS=sensor-v3 npm run test:hw
//
// Without HW_PORT the suite starts the simulated device on a pseudo-terminal and runs the
// same tests against it. The tests talk to the device ONLY through the serial port:
//   HW_PORT             serial device of the board (or QEMU's pty)
//   HW_BAUD             baud rate (default 115200)
//   HW_KEYS_DIR         root.key (the private half of the root the device was provisioned
//                       with); optionally release.key + release.cert (a delegated key)
//   HW_VENDOR, HW_CLASS the identity the device was provisioned with
//   HW_IMAGE_SIZE       test image size in bytes (default 65536)
//   HW_CHUNK_SIZE       bundle chunk size (default 4096, capped by the device's maximum)
//   HW_POWER_CYCLE_CMD  optional shell command that power-cycles the device (kills and
//                       restarts it) and returns once it is up: enables the power-loss test
//   HW_ESPRUINO=1       the port is an Espruino board's console (fwseal espruino provision):
//                       every flash switches it to update mode first
//   FWSEAL_SERIAL_TIMEOUT_MS / FWSEAL_SERIAL_SLOW_TIMEOUT_MS  reply timeouts (slow devices)
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execSync } from "node:child_process";
import { createHash } from "node:crypto";
import type { SerialPort } from "serialport";
import { Reason } from "../formats/device-safe/reasons.js";
import { buildBundle } from "../formats/host-only/bundle-builder.js";
import { makeKeys } from "../test/helpers/keys.js";
import { sampleImage } from "../test/helpers/images.js";
import { fwsealRejection } from "../test/helpers/errors.js";
import { vendorUuid, classUuid } from "../formats/host-only/uuid.js";
import { LocalSigner, loadPrivateKey } from "../host/keys/keys.js";
import { flashDevice, type FlashOptions } from "../host/device/flash.js";
import { createPtyPair, attachDevice, type PtyPair } from "../device-sim/sim/serial-runner.js";
import { SimDevice } from "../device-sim/sim/sim-device.js";

const env = process.env;
const VENDOR = env.HW_VENDOR ?? "acme.example";
const CLASS = env.HW_CLASS ?? "sensor-v3";
const vendorId = vendorUuid(VENDOR);
const classId = classUuid(vendorId, CLASS);
const otherClassId = classUuid(vendorId, `${CLASS}-other`);
const IMAGE_SIZE = Number(env.HW_IMAGE_SIZE ?? 65536);
let chunkSize = Number(env.HW_CHUNK_SIZE ?? 4096);

let port = env.HW_PORT ?? "";
let signer: LocalSigner;
let powerCycle: (() => Promise<void>) | null = null;
let teardown: (() => Promise<void>) | null = null;
const base: Partial<FlashOptions> = { baud: Number(env.HW_BAUD ?? 115200), espruino: env.HW_ESPRUINO === "1" };

async function bundle(seq: number, opts: { classId?: Uint8Array; seed?: number } = {}): Promise<Uint8Array> {
  return buildBundle(
    sampleImage(IMAGE_SIZE, opts.seed ?? seq),
    { vendorId, classId: opts.classId ?? classId, sequence: seq, version: `hw-${seq}`, chunkSize, sha256: (d) => new Uint8Array(createHash("sha256").update(d).digest()) },
    [signer]
  );
}

function envelopeSize(b: Uint8Array): number {
  return b.length - IMAGE_SIZE - 32 * Math.ceil(IMAGE_SIZE / chunkSize);
}

const flash = (o: Partial<FlashOptions>) => flashDevice({ ...base, port, ...o });

async function startSimulator(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-hw-"));
  const { root, releaseSigner } = await makeKeys();
  signer = releaseSigner;
  const pty: PtyPair = await createPtyPair(dir);
  port = pty.hostPath;
  let dev: SimDevice;
  let sp: SerialPort;
  const up = async (): Promise<void> => {
    dev = new SimDevice({ roots: [root.publicKey], vendorId, classId, flashFile: path.join(dir, "flash.bin") });
    sp = await attachDevice(dev, pty.devicePath);
  };
  const down = async (): Promise<void> => {
    if (sp.isOpen) await new Promise<void>((r) => sp.close(() => r()));
    dev.close();
  };
  await up();
  powerCycle = async () => {
    await down(); // power off: RAM gone, flash file stays
    await up();
  };
  teardown = async () => {
    await down();
    await pty.close();
    fs.rmSync(dir, { recursive: true, force: true });
  };
}

beforeAll(async () => {
  if (!port) {
    await startSimulator();
  } else {
    const dir = env.HW_KEYS_DIR ?? ".";
    const relKey = path.join(dir, "release.key");
    if (fs.existsSync(relKey)) {
      signer = new LocalSigner(await loadPrivateKey(relKey), new Uint8Array(fs.readFileSync(path.join(dir, "release.cert"))));
    } else {
      signer = new LocalSigner(await loadPrivateKey(path.join(dir, "root.key")));
    }
    const cmd = env.HW_POWER_CYCLE_CMD;
    if (cmd) powerCycle = async () => void execSync(cmd, { stdio: "inherit" });
  }
  // Start from a known state: no unconfirmed test image.
  const info = await flash({});
  if (info.device.runMode === "test") await flash({ reboot: true });
  chunkSize = Math.min(chunkSize, info.device.maxChunkSize);
});

afterAll(async () => {
  if (teardown) await teardown();
});

describe(`serial protocol suite on ${env.HW_PORT ?? "the simulator (pty)"}`, () => {
  let seq = 0;

  it("handshake: protocol version, identity, slot states", async () => {
    const r = await flash({});
    expect(r.device.protocolVersion).toBe(1);
    expect(Buffer.from(r.device.vendorId)).toEqual(Buffer.from(vendorId));
    expect(Buffer.from(r.device.classId)).toEqual(Buffer.from(classId));
    expect(r.device.slots).toHaveLength(2);
    seq = r.device.minSequence + 1;
  });

  it("install, reboot into a verified test image, confirm: anti-rollback advances", async () => {
    const b = await bundle(seq);
    const r = await flash({ bundle: b, reboot: true });
    expect(r.outcome).toBe("installed");
    expect(r.boot!.runMode).toBe("test");
    expect(r.boot!.bootCheck[r.boot!.runningSlot]).toBe(Reason.OK);
    expect(r.boot!.slots[r.boot!.runningSlot].version).toBe(`hw-${seq}`);
    const c = await flash({ confirm: true });
    expect(c.device.runMode).toBe("normal");
    expect(c.device.minSequence).toBe(seq);
  });

  it("tampered chunk: CHUNK_HASH_MISMATCH at that chunk, confirmed image still runs", async () => {
    const b = await bundle(seq + 1);
    const bad = b.slice();
    const k = Math.min(3, Math.ceil(IMAGE_SIZE / chunkSize) - 1);
    bad[envelopeSize(b) + k * (chunkSize + 32) + 7] ^= 0x01;
    const e = await fwsealRejection(flash({ bundle: bad }));
    expect(e.reason).toBe(Reason.CHUNK_HASH_MISMATCH);
    expect(e.chunk).toBe(k);
    const r = await flash({});
    expect(r.device.runMode).toBe("normal");
    expect(r.device.slots[r.device.runningSlot].version).toBe(`hw-${seq}`);
  });

  it("bad signature: BAD_SIGNATURE before any chunk is written", async () => {
    const b = await bundle(seq + 1);
    b[envelopeSize(b) - 5] ^= 0x01;
    const e = await fwsealRejection(flash({ bundle: b }));
    expect(e.reason).toBe(Reason.BAD_SIGNATURE);
    expect(e.chunk).toBe(-1);
  });

  it("rollback and wrong class are refused by the device itself (host pre-checks skipped)", async () => {
    expect(seq).toBeGreaterThanOrEqual(1);
    let e = await fwsealRejection(flash({ bundle: await bundle(seq - 1), force: true }));
    expect(e.reason).toBe(Reason.ROLLBACK);
    e = await fwsealRejection(flash({ bundle: await bundle(seq + 1, { classId: otherClassId }), force: true }));
    expect(e.reason).toBe(Reason.WRONG_CLASS);
  });

  it("an update that is not confirmed reverts at the next reboot", async () => {
    const r = await flash({ bundle: await bundle(seq + 1), reboot: true });
    expect(r.boot!.runMode).toBe("test");
    const back = await flash({ reboot: true });
    expect(back.device.reverted).toBe(true);
    expect(back.device.runMode).toBe("normal");
    expect(back.device.slots[back.device.runningSlot].version).toBe(`hw-${seq}`);
    expect(back.device.minSequence).toBe(seq);
  });

  it("interrupted transfer, then --resume from the device's last persisted chunk", async () => {
    const b = await bundle(seq + 2);
    const e = await fwsealRejection(flash({ bundle: b, stopAfter: Math.floor(b.length * 0.7) }));
    expect(e.code).toBe("DEVICE");
    const r = await flash({ bundle: b, resume: true, reboot: true, confirm: true });
    expect(r.outcome).toBe("installed");
    expect(r.resumedFrom ?? 0).toBeGreaterThan(0);
    expect(r.device.slots[r.device.runningSlot].version).toBe(`hw-${seq + 2}`);
    seq += 2;
  });

  it("power loss mid-install: the device comes back on its verified image and the install resumes", async (ctx) => {
    if (!powerCycle) ctx.skip();
    const b = await bundle(seq + 1);
    await fwsealRejection(flash({ bundle: b, stopAfter: Math.floor(b.length * 0.6) }));
    await powerCycle!();
    const info = await flash({});
    expect(info.device.runMode).toBe("normal");
    expect(info.device.bootCheck[info.device.runningSlot]).toBe(Reason.OK);
    expect(info.device.slots[info.device.runningSlot].version).toBe(`hw-${seq}`);
    expect(info.device.install).not.toBeNull();
    const r = await flash({ bundle: b, resume: true, reboot: true, confirm: true });
    expect(r.resumedFrom ?? 0).toBeGreaterThan(0);
    expect(r.device.slots[r.device.runningSlot].version).toBe(`hw-${seq + 1}`);
  });
});
