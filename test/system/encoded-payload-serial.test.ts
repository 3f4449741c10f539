// Compressed and delta payloads through the CLI and over a serial line (formats/SPEC.md §15):
// `fwseal pack --compress` and `--delta-from`, `inspect`, `verify` (with and without the
// precursor), `extract --precursor`, and `fwseal flash` on a socat pty pair to the simulated
// device, which decodes each authenticated wire chunk into the other slot, checks the result
// and boots it through the unchanged boot check. A delta against another image than the one
// the device runs is refused with WRONG_PRECURSOR over the link (exit 12).
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { SerialPort } from "serialport";
import { fwseal } from "../helpers/cli.js";
import { createPtyPair, attachDevice, type PtyPair } from "../../device-sim/sim/serial-runner.js";
import { SimDevice } from "../../device-sim/sim/sim-device.js";
import { RunMode } from "../../formats/device-safe/protocol.js";
import { loadPublicKey } from "../../host/keys/keys.js";
import { ExitCode } from "../../host/exit-codes.js";
import { VENDOR, CLASS } from "../helpers/device.js";
import { textLikeImage } from "../helpers/images.js";

let dir: string;
let pty: PtyPair;
let sp: SerialPort;
let dev: SimDevice;
const f = (name: string): string => path.join(dir, name);
const V1 = textLikeImage(48 * 1024, 3);
// v2: a few bytes changed and a block inserted, as a small source change moves code.
const V2 = Buffer.concat([V1.subarray(0, 20000), Buffer.from("patched: new constant table v2\n"), V1.subarray(20000)]);
V2[30000] ^= 0x5a;
const V3 = Buffer.concat([V2.subarray(0, 40000), V2.subarray(40100)]);

async function ok(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await fwseal(args);
  expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
  return r;
}

function pack(image: string, seq: number, out: string, extra: string[] = []): Promise<{ stdout: string; stderr: string }> {
  return ok(["pack", f(image), "--key", f("root.key"), "--root", f("root.pub"), "--seq", String(seq), "--vendor", "acme.example", "--class", "sensor-v3", "--fw-version", `2.${seq}.0`, "-o", f(out), ...extra]);
}

function installed(): Buffer {
  const s = dev.app.runningSlot;
  const si = dev.app.store.state.slots[s];
  const base = dev.app.layout.slotAddr[s];
  return Buffer.from(dev.flash.mem.subarray(base, base + si.imageSize));
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-encoded-serial-"));
  await ok(["keygen", "-o", f("root")]);
  fs.writeFileSync(f("v1.bin"), V1);
  fs.writeFileSync(f("v2.bin"), V2);
  fs.writeFileSync(f("v3.bin"), V3);
  await pack("v1.bin", 1, "v1.fwb");
  await pack("v2.bin", 2, "v2-compressed.fwb", ["--compress"]);
  await pack("v3.bin", 3, "v3-delta.fwb", ["--delta-from", f("v2.bin")]);
  await pack("v3.bin", 3, "v3-delta-from-v1.fwb", ["--delta-from", f("v1.fwb")]);
  pty = await createPtyPair(dir);
  dev = new SimDevice({ roots: [await loadPublicKey(f("root.pub"))], vendorId: VENDOR, classId: CLASS, flashFile: f("flash.bin") });
  sp = await attachDevice(dev, pty.devicePath);
}, 120_000);

afterAll(async () => {
  if (sp?.isOpen) await new Promise<void>((r) => sp.close(() => r()));
  dev?.close();
  await pty?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("compressed and delta payloads through the CLI and over a serial line", () => {
  it("pack writes smaller bundles and inspect shows the encoding, the wire size and the precursor", async () => {
    const raw = fs.statSync(f("v1.fwb")).size;
    const compressed = fs.statSync(f("v2-compressed.fwb")).size;
    const delta = fs.statSync(f("v3-delta.fwb")).size;
    expect(compressed).toBeLessThan(raw / 2);
    expect(delta).toBeLessThan(compressed / 5);
    const i = JSON.parse((await ok(["inspect", f("v3-delta.fwb"), "--json"])).stdout);
    expect(i.manifest.payloadEncoding).toBe("delta");
    expect(i.manifest.imageSize).toBe(V3.length);
    expect(i.manifest.encodedPayload.codec).toBe("deflate");
    expect(i.manifest.encodedPayload.windowBits).toBe(12);
    expect(i.manifest.encodedPayload.precursorSize).toBe(V2.length);
    expect(i.manifest.encodedPayload.wireSize).toBeLessThan(delta);
    expect(i.imageSha256).toBeNull(); // the image exists only once decoded
    // pack's summary counts the chunks the file carries: the wire chunks of an encoded payload.
    const packed = await pack("v3.bin", 3, "v3-delta-again.fwb", ["--delta-from", f("v2.bin")]);
    expect(packed.stdout).toMatch(new RegExp(`^bundle .*v3-delta-again\\.fwb: .* \\(\\d+-byte envelope \\+ ${i.manifest.encodedPayload.wireChunkCount} wire chunks? of at most 4096 bytes\\)$`, "m"));
    const plain = await pack("v1.bin", 1, "v1-again.fwb");
    expect(plain.stdout).toMatch(/^bundle .*v1-again\.fwb: .* \(\d+-byte envelope \+ 12 chunks of 4096 bytes\)$/m);
    const text = (await ok(["inspect", f("v2-compressed.fwb")])).stdout;
    expect(text).toMatch(/payload encoding compressed/);
    expect(text).toMatch(/codec {12}deflate, window 4096 bytes \(12 bits\)/);
  });

  it("verify decodes and checks the result; a delta needs its precursor for that, and names the wrong one", async () => {
    const c = JSON.parse((await ok(["verify", f("v2-compressed.fwb"), "--root", f("root.pub"), "--json"])).stdout);
    expect(c.manifest.encodedPayload.resultChecked).toBe(true);
    expect(c.imageSha256).toBe((await import("node:crypto")).createHash("sha256").update(V2).digest("hex"));
    const unchecked = JSON.parse((await ok(["verify", f("v3-delta.fwb"), "--root", f("root.pub"), "--json"])).stdout);
    expect(unchecked.manifest.encodedPayload.resultChecked).toBe(false);
    expect(unchecked.imageSha256).toBeNull();
    const checked = await ok(["verify", f("v3-delta.fwb"), "--root", f("root.pub"), "--precursor", f("v2.bin")]);
    expect(checked.stdout).toMatch(/payload delta, \d+ bytes on the wire \(deflate, window 12 bits\): decoded, and the image matches the manifest/);
    const wrong = await fwseal(["verify", f("v3-delta.fwb"), "--root", f("root.pub"), "--precursor", f("v1.bin")]);
    expect(wrong.code).toBe(ExitCode.POLICY);
    expect(wrong.stderr).toMatch(/WRONG_PRECURSOR/);
    // A device whose decoder has a smaller window refuses the bundle.
    const small = await fwseal(["verify", f("v2-compressed.fwb"), "--root", f("root.pub"), "--max-window-bits", "9"]);
    expect(small.code).toBe(ExitCode.BUNDLE_MALFORMED);
    expect(small.stderr).toMatch(/TOO_LARGE/);
  });

  it("extract writes the decoded image; a delta without --precursor is refused and writes nothing", async () => {
    await ok(["extract", f("v3-delta.fwb"), "--root", f("root.pub"), "--precursor", f("v2.bin"), "-o", f("v3.out")]);
    expect(Buffer.compare(fs.readFileSync(f("v3.out")), V3)).toBe(0);
    const r = await fwseal(["extract", f("v3-delta.fwb"), "--root", f("root.pub"), "-o", f("v3.none")]);
    expect(r.code).toBe(ExitCode.USAGE);
    expect(r.stderr).toMatch(/delta payload; its image needs the precursor/);
    expect(fs.existsSync(f("v3.none"))).toBe(false);
  });

  it("the compressed bundle of the release the devices run is a precursor as it stands (decoded); a delta bundle is not", async () => {
    await pack("v3.bin", 3, "v3-delta-from-v2c.fwb", ["--delta-from", f("v2-compressed.fwb")]);
    const fromImage = JSON.parse((await ok(["inspect", f("v3-delta.fwb"), "--json"])).stdout).manifest.encodedPayload;
    const fromBundle = JSON.parse((await ok(["inspect", f("v3-delta-from-v2c.fwb"), "--json"])).stdout).manifest.encodedPayload;
    expect(fromBundle.precursorSize).toBe(V2.length);
    expect(fromBundle.precursorChainHead).toBe(fromImage.precursorChainHead);
    const checked = JSON.parse((await ok(["verify", f("v3-delta-from-v2c.fwb"), "--root", f("root.pub"), "--precursor", f("v2-compressed.fwb"), "--json"])).stdout);
    expect(checked.manifest.encodedPayload.resultChecked).toBe(true);
    // A delta's image needs the delta's own precursor: refused, and nothing written.
    const r = await fwseal(["pack", f("v3.bin"), "--key", f("root.key"), "--root", f("root.pub"), "--seq", "4", "--vendor", "acme.example", "--class", "sensor-v3", "--fw-version", "2.4.0", "--delta-from", f("v3-delta.fwb"), "-o", f("v4.fwb")]);
    expect(r.code).toBe(ExitCode.USAGE);
    expect(r.stderr).toMatch(/v3-delta\.fwb: a delta bundle; give the image it installs/);
    expect(fs.existsSync(f("v4.fwb"))).toBe(false);
    // A compressed bundle whose wire chunks were damaged is refused, not decoded into a wrong precursor.
    const damaged = Buffer.from(fs.readFileSync(f("v2-compressed.fwb")));
    damaged[damaged.length - 40] ^= 0x01;
    fs.writeFileSync(f("v2-damaged.fwb"), damaged);
    const d = await fwseal(["verify", f("v3-delta-from-v2c.fwb"), "--root", f("root.pub"), "--precursor", f("v2-damaged.fwb")]);
    expect(d.code).toBe(ExitCode.INPUT);
    expect(d.stderr).toMatch(/do not hash to the wire chain head its manifest names/);
  });

  it("raw v1, compressed v2, delta v3 install over the link in turn; each boots verified and runs the exact image", async () => {
    for (const [bundle, image, seq] of [["v1.fwb", V1, 1], ["v2-compressed.fwb", V2, 2], ["v3-delta.fwb", V3, 3]] as const) {
      const r = await ok(["flash", f(bundle), "--port", pty.hostPath, "--reboot", "--confirm"]);
      expect(r.stdout).toMatch(new RegExp(`^installed 2\\.${seq}\\.0 \\(sequence ${seq}\\)`, "m"));
      expect(dev.app.runMode).toBe(RunMode.NORMAL);
      expect(dev.app.store.state.slots[dev.app.runningSlot].sequence).toBe(seq);
      expect(Buffer.compare(installed(), Buffer.from(image))).toBe(0);
    }
  });

  it("a delta for another image than the one running is refused with WRONG_PRECURSOR before anything is written", async () => {
    const r = await fwseal(["flash", f("v3-delta-from-v1.fwb"), "--port", pty.hostPath]);
    expect(r.code).toBe(ExitCode.POLICY);
    expect(r.stderr.trim()).toBe("fwseal: error: rejected by the device: WRONG_PRECURSOR; the active image is untouched");
    expect(dev.app.store.state.slots[dev.app.runningSlot].sequence).toBe(3);
    expect(Buffer.compare(installed(), V3)).toBe(0);
  });
});
