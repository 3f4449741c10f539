#!/usr/bin/env node
// npm run bench:payload (second table): install time of raw, compressed and delta bundles over
// a simulated 115200-baud serial line (a pty relay throttled to 10 bits per byte, both
// directions) to the simulated device, which decodes each authenticated wire chunk and checks
// the result before the slot is bootable (formats/SPEC.md §15). Inputs: the QEMU MCU firmware
// built twice with a small source change and once with a larger one, and a JavaScript
// application (the ES5 core) with a small edit (bench/payload.mjs builds them). The device
// already runs the old image when the update is measured. Also the decoder's cost on the
// constrained engines: duk (Debian's duktape, the same ES5 core the MCU firmware embeds).
// Uses dist/ (npm run build first). Not a test.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { fileURLToPath, pathToFileURL } from "node:url";
import { buildFirmwares, buildJsApps } from "./payload.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const imp = (p) => import(pathToFileURL(path.join(root, "dist", p)).href);
const BAUD = Number(process.env.BENCH_BAUD ?? 115200);
const CS = 4096;

if (!fs.existsSync(path.join(root, "dist/host/device/flash.js"))) {
  console.error("bench/payload-install.mjs: dist/ missing: run `npm run build` first");
  process.exit(1);
}
const { buildBundle, buildEncodedBundle } = await imp("formats/host-only/bundle-builder.js");
const { encodePayload } = await imp("host/bundle/encode-payload.js");
const { chainHeadOf } = await imp("host/bundle/precursor.js");
const { vendorUuid, classUuid } = await imp("formats/host-only/uuid.js");
const { generateKeyPair, LocalSigner } = await imp("host/keys/keys.js");
const { flashDevice } = await imp("host/device/flash.js");
const { SimDevice } = await imp("device-sim/sim/sim-device.js");
const { createPtyPair, attachDevice } = await imp("device-sim/sim/serial-runner.js");
const { Relay } = await imp("device-sim/sim/relay.js");

const work = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-bench-payload-install-"));
const vendorId = vendorUuid("acme.example");
const classId = classUuid(vendorId, "bench");
const key = generateKeyPair();
const signer = new LocalSigner(key.privateKey);
const sha256 = (d) => new Uint8Array(createHash("sha256").update(d).digest());
const opts = (seq) => ({ vendorId, classId, sequence: seq, version: `b${seq}`, chunkSize: CS, sha256 });

async function bundles(oldImg, newImg) {
  const raw = await buildBundle(newImg, opts(2), [signer]);
  const c = await encodePayload(newImg, CS, { kind: "compressed" });
  const strip = ({ wireSize, wireChunkCount, wireChainHead, ...spec }) => spec;
  const compressed = await buildEncodedBundle(newImg, c.wire, strip(c.params), opts(2), [signer]);
  const d = await encodePayload(newImg, CS, { kind: "delta", precursor: { image: oldImg, chainHead: await chainHeadOf(oldImg, CS) } });
  const delta = await buildEncodedBundle(newImg, d.wire, strip(d.params), opts(2), [signer]);
  return { raw, compressed, delta, oldBundle: await buildBundle(oldImg, opts(1), [signer]) };
}

/** Installs `bundle` over the throttled line on a device that runs `oldBundle`; ms until the device reported the slot verified and END was answered. */
async function timedInstall(oldBundle, bundle, newImg) {
  const dir = fs.mkdtempSync(path.join(work, "dev-"));
  const dev = new SimDevice({ roots: [key.publicKey], vendorId, classId, flashSize: 2 * 1024 * 1024, flashFile: path.join(dir, "flash.bin") });
  const b = await createPtyPair(dir, "relay-b", "device");
  const port = await attachDevice(dev, b.devicePath);
  await flashDevice({ port: b.hostPath, bundle: oldBundle, reboot: true, confirm: true }); // unthrottled set-up
  const a = await createPtyPair(dir, "host", "relay-a");
  const relay = await Relay.start(a.devicePath, b.hostPath, { baud: BAUD });
  const t0 = performance.now();
  const res = await flashDevice({ port: a.hostPath, bundle, baud: BAUD });
  const ms = performance.now() - t0;
  const wire = relay.stats.toDevice;
  const s = dev.app.store.state;
  const pending = s.slots.findIndex((x) => x.state === 2);
  const base = dev.app.layout.slotAddr[pending];
  const ok = res.outcome === "installed" && Buffer.from(dev.flash.mem.subarray(base, base + newImg.length)).equals(Buffer.from(newImg));
  await new Promise((r) => (port.isOpen ? port.close(() => r()) : r()));
  dev.close();
  await relay.close();
  await a.close();
  await b.close();
  if (!ok) throw new Error("install did not leave the new image in the slot");
  return { ms, wire };
}

/** duk time to decode a bundle's payload (the ES5 core in Debian's duktape, pure JS SHA-256 off: decode only). */
function dukDecodeMs(wire, params, image, precursor) {
  const core = path.join(root, "build/fwseal-core.js");
  const duk = "duk";
  const script = path.join(work, "decode.js");
  const hex = (b) => Buffer.from(b).toString("hex");
  fs.writeFileSync(script, `${fs.readFileSync(core, "utf8")}
var C = fwsealCore;
function fromHex(h) { var b = new Uint8Array(h.length / 2); for (var i = 0; i < b.length; i++) b[i] = parseInt(h.substr(2 * i, 2), 16); return b; }
var wire = fromHex("${hex(wire)}");
var pre = fromHex("${precursor ? hex(precursor) : ""}");
var out = 0;
var sink = { output: function (b, o, n) { out += n; }, readPrecursor: function (p, b, o, n) { for (var i = 0; i < n; i++) b[o + i] = pre[p + i]; } };
var d = new C.PayloadDecoder(12);
var t0 = Date.now();
var rc = d.start({ encoding: ${params.encoding}, codec: ${params.codec}, windowBits: ${params.windowBits ?? 0}, imageSize: ${image.length}, precursorSize: ${precursor ? precursor.length : -1} });
for (var off = 0; rc === 0 && off < wire.length; off += ${CS}) rc = d.chunk(wire, off, Math.min(${CS}, wire.length - off), sink);
if (rc === 0) rc = d.finish();
print(JSON.stringify({ rc: rc, out: out, ms: Date.now() - t0 }));
`);
  try {
    return JSON.parse(execFileSync(duk, [script], { encoding: "utf8", maxBuffer: 1 << 26 }).trim().split("\n").pop());
  } catch (e) {
    return { rc: -1, out: 0, ms: NaN, error: e.message.split("\n")[0] };
  }
}

const fw = buildFirmwares(work);
const apps = buildJsApps(work);
const read = (p) => new Uint8Array(fs.readFileSync(p));
const pairs = [
  ["MCU firmware: small change", read(fw.base), read(fw.small)],
  ["MCU firmware: larger change", read(fw.base), read(fw.large)],
  ["JS app: small edit", read(apps.current), read(apps.small)]
];
const rows = [];
for (const [name, oldImg, newImg] of pairs) {
  const b = await bundles(oldImg, newImg);
  const t = {};
  for (const kind of ["raw", "compressed", "delta"]) {
    t[kind] = await timedInstall(b.oldBundle, b[kind], newImg);
    process.stderr.write(`bench:payload-install: ${name}, ${kind}: ${b[kind].length} bytes in ${(t[kind].ms / 1000).toFixed(2)} s\n`);
  }
  const c = await encodePayload(newImg, CS, { kind: "compressed" });
  const d = await encodePayload(newImg, CS, { kind: "delta", precursor: { image: oldImg } });
  rows.push({
    name, image: newImg.length,
    bytes: { raw: b.raw.length, compressed: b.compressed.length, delta: b.delta.length },
    seconds: { raw: t.raw.ms / 1000, compressed: t.compressed.ms / 1000, delta: t.delta.ms / 1000 },
    dukMs: { compressed: dukDecodeMs(c.wire, c.params, newImg).ms, delta: dukDecodeMs(d.wire, d.params, newImg, oldImg).ms }
  });
}
fs.rmSync(work, { recursive: true, force: true });

if (process.argv.includes("--json")) {
  console.log(JSON.stringify({ baud: BAUD, load: os.loadavg()[0], rows }));
} else {
  console.log(`Install over a simulated ${BAUD}-baud line (pty relay, 10 bits per byte), simulated device, chunk ${CS}, window 12; load ${os.loadavg()[0].toFixed(1)}`);
  console.log("");
  console.log("| update | image | raw bundle | raw install | compressed bundle | compressed install | delta bundle | delta install | delta speed-up | duk decode: compressed / delta |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    console.log(`| ${r.name} | ${r.image} | ${r.bytes.raw} | ${r.seconds.raw.toFixed(2)} s | ${r.bytes.compressed} | ${r.seconds.compressed.toFixed(2)} s | ${r.bytes.delta} | ${r.seconds.delta.toFixed(2)} s | ${(r.seconds.raw / r.seconds.delta).toFixed(1)}x | ${r.dukMs.compressed} / ${r.dukMs.delta} ms |`);
  }
  console.log("");
  console.log("Goal: a small-change delta installs at least 5x faster than raw.");
}
