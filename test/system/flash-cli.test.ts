// `fwseal flash` as a command (in-process main(), real pty, simulated device): exit codes
// and the one final line for installed, rejected and link failure.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { SerialPort } from "serialport";
import { main } from "../../host/cli/cli.js";
import { createPtyPair, attachDevice, type PtyPair } from "../../device-sim/sim/serial-runner.js";
import type { SimDevice } from "../../device-sim/sim/sim-device.js";
import { makeBundle, simDevice } from "../helpers/device.js";
import { makeKeys } from "../helpers/keys.js";
import { sampleImage } from "../helpers/images.js";

let dir: string;
let pty: PtyPair;
let sp: SerialPort;
let dev: SimDevice;

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(args, { stdout: (t) => (out += t), stderr: (t) => (err += t), stderrIsTTY: false });
  return { code, out, err };
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-serial-cli-"));
  const keys = await makeKeys();
  const img = sampleImage(40000, 3);
  const b1 = await makeBundle(keys, { image: img, sequence: 1, version: "2.0.0" });
  fs.writeFileSync(path.join(dir, "good.fwb"), b1);
  const b2 = await makeBundle(keys, { image: sampleImage(40000, 4), sequence: 2, version: "2.1.0" });
  const bad = b2.slice();
  bad[b2.length - 40000 - 320 + 3 * 4128 + 5] ^= 1; // chunk 3
  fs.writeFileSync(path.join(dir, "bad.fwb"), bad);
  pty = await createPtyPair(dir);
  dev = simDevice(keys);
  sp = await attachDevice(dev, pty.devicePath);
});

afterAll(async () => {
  if (sp?.isOpen) await new Promise<void>((r) => sp.close(() => r()));
  dev?.close();
  await pty?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("fwseal flash (CLI)", () => {
  it("installs, reboots into test mode and confirms, one line per outcome", async () => {
    const r = await run(["flash", path.join(dir, "good.fwb"), "--port", pty.hostPath, "--reboot", "--confirm"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^installed 2\.0\.0 \(sequence 1\)/m);
    expect(r.out).toMatch(/^rebooted: boot loader verified slot A .* runs 2\.0\.0 in test mode$/m);
    expect(r.out).toMatch(/^confirmed: sequence 1 is now permanent/m);
  });

  it("a tampered bundle: exit 13 and the reason with its chunk", async () => {
    const r = await run(["flash", path.join(dir, "bad.fwb"), "--port", pty.hostPath]);
    expect(r.code).toBe(13);
    expect(r.err.trim()).toBe("fwseal: error: rejected by the device: CHUNK_HASH_MISMATCH at chunk 3; the active image is untouched");
  });

  it("--json reports the device state", async () => {
    const r = await run(["flash", "--port", pty.hostPath, "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.device.runMode).toBe("normal");
    expect(j.device.slots[0].version).toBe("2.0.0");
  });

  it("a missing port: exit 14, the port named", async () => {
    const r = await run(["flash", path.join(dir, "good.fwb"), "--port", path.join(dir, "nope")]);
    expect(r.code).toBe(14);
    expect(r.err).toContain(path.join(dir, "nope"));
  });
});
