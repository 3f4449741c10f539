// A hybrid-signed release (one Ed25519 root, one HSS/LMS root) installed over a serial line:
// key files from `fwseal keygen`, bundles from `fwseal pack`, `fwseal flash` on a socat pty
// pair, the simulated device on the other end with the hybrid policy (formats/SPEC.md §8.1:
// the counted signers must include an Ed25519 and an HSS/LMS signature) and a boot check of
// the HSS/LMS signature only (§8.5). A bundle without the HSS/LMS signature is refused with
// ALGORITHM_POLICY_NOT_MET over the link.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { SerialPort } from "serialport";
import { fwseal } from "../helpers/cli.js";
import { createPtyPair, attachDevice, type PtyPair } from "../../device-sim/sim/serial-runner.js";
import { SimDevice } from "../../device-sim/sim/sim-device.js";
import { AlgorithmBit } from "../../formats/device-safe/limits.js";
import { Reason } from "../../formats/device-safe/reasons.js";
import { RunMode } from "../../formats/device-safe/protocol.js";
import { loadPublicKey } from "../../host/keys/keys.js";
import { ExitCode } from "../../host/exit-codes.js";
import { VENDOR, CLASS } from "../helpers/device.js";
import { sampleImage } from "../helpers/images.js";

let dir: string;
let pty: PtyPair;
let sp: SerialPort;
let dev: SimDevice;

const f = (name: string): string => path.join(dir, name);

async function pack(out: string, seq: number, keys: string[]): Promise<void> {
  const args = ["pack", f("fw.bin"), "--seq", String(seq), "--vendor", "acme.example", "--class", "sensor-v3", "--fw-version", `3.${seq}.0`, "-o", f(out)];
  for (const k of keys) args.push("--key", f(k));
  args.push("--root", f("ed.pub"), "--root", f("pq.pub"));
  const r = await fwseal(args);
  expect(r.code, r.stderr).toBe(0);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-hss-serial-"));
  for (const k of [["-o", f("ed")], ["--alg", "hss-lms", "--lms-height", "5", "--lmots-w", "4", "-o", f("pq")]]) {
    const r = await fwseal(["keygen", ...k]);
    expect(r.code, r.stderr).toBe(0);
  }
  fs.writeFileSync(f("fw.bin"), sampleImage(64 * 1024, 7));
  await pack("hybrid.fwb", 1, ["ed.key", "pq.key"]);
  await pack("classical.fwb", 2, ["ed.key"]);
  const roots = [await loadPublicKey(f("ed.pub")), await loadPublicKey(f("pq.pub"))];
  expect(roots.map((r) => r.length)).toEqual([32, 60]);
  pty = await createPtyPair(dir);
  dev = new SimDevice({
    roots,
    vendorId: VENDOR,
    classId: CLASS,
    requiredAlgorithms: AlgorithmBit.ED25519 | AlgorithmBit.HSS_LMS,
    bootAlgorithms: AlgorithmBit.HSS_LMS,
    flashFile: f("flash.bin")
  });
  sp = await attachDevice(dev, pty.devicePath);
}, 120_000);

afterAll(async () => {
  if (sp?.isOpen) await new Promise<void>((r) => sp.close(() => r()));
  dev?.close();
  await pty?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("hybrid Ed25519 + HSS/LMS over a serial line", () => {
  it("the hybrid bundle installs, boots (HSS/LMS boot check) and is confirmed", async () => {
    const v = await fwseal(["verify", f("hybrid.fwb"), "--root", f("ed.pub"), "--root", f("pq.pub"), "--require-alg", "ed25519,hss-lms"]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/signer [0-9a-f]{16}: root key \(Ed25519\)/);
    expect(v.stdout).toMatch(/signer [0-9a-f]{16}: root key \(HSS-LMS\)/);
    const r = await fwseal(["flash", f("hybrid.fwb"), "--port", pty.hostPath, "--reboot", "--confirm"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^installed 3\.1\.0 \(sequence 1\)/m);
    expect(r.stdout).toMatch(/^confirmed: sequence 1 is now permanent/m);
    expect(dev.app.runMode).toBe(RunMode.NORMAL);
    expect(Array.from(dev.app.bootReason)).toContain(Reason.OK);
  });

  it("a bundle without the HSS/LMS signature is refused with ALGORITHM_POLICY_NOT_MET; the running image stays", async () => {
    const r = await fwseal(["flash", f("classical.fwb"), "--port", pty.hostPath]);
    expect(r.code).toBe(ExitCode.TRUST);
    expect(r.stderr.trim()).toBe("fwseal: error: rejected by the device: ALGORITHM_POLICY_NOT_MET; the active image is untouched");
    const s = await fwseal(["flash", "--port", pty.hostPath, "--json"]);
    expect(s.code, s.stderr).toBe(0);
    expect(JSON.parse(s.stdout).device.runMode).toBe("normal");
    expect(dev.app.store.state.minSequence).toBe(1);
  });

  it("the host verifier gives the same verdict for the classical bundle", async () => {
    const v = await fwseal(["verify", f("classical.fwb"), "--root", f("ed.pub"), "--root", f("pq.pub"), "--require-alg", "ed25519,hss-lms"]);
    expect(v.code).toBe(ExitCode.TRUST);
    expect(v.stderr).toMatch(/ALGORITHM_POLICY_NOT_MET/);
  });
});
