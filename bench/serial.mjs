#!/usr/bin/env node
// npm run bench:serial: flash a 256 KiB bundle to the simulated device over a pty, through a
// relay that throttles the line to a real UART rate (115200 baud, 10 bits per byte, both
// directions), and compare with the raw transfer time of the same bytes over the same
// throttled line. Reports payload/wire (bundle bytes / bytes on the host->device wire,
// handshake and END included). Uses dist/ (npm run build first). Not a test.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(here, "../dist");
const imp = (p) => import(pathToFileURL(path.join(dist, p)).href);
const BAUD = Number(process.env.BENCH_BAUD ?? 115200);
const SIZE = Number(process.env.BENCH_IMAGE ?? 256 * 1024);

if (!fs.existsSync(path.join(dist, "host/device/flash.js"))) {
  console.error("bench/serial.mjs: dist/ missing: run `npm run build` first");
  process.exit(1);
}
const { buildBundle } = await imp("formats/host-only/bundle-builder.js");
const { buildCertificate } = await imp("formats/host-only/certificate.js");
const { vendorUuid, classUuid } = await imp("formats/host-only/uuid.js");
const { generateKeyPair, LocalSigner } = await imp("host/keys/keys.js");
const { flashDevice } = await imp("host/device/flash.js");
const { SimDevice } = await imp("device-sim/sim/sim-device.js");
const { createPtyPair, attachDevice } = await imp("device-sim/sim/serial-runner.js");
const { Relay } = await imp("device-sim/sim/relay.js");
const { SerialPort } = await import("serialport");

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-bench-serial-"));
const vendorId = vendorUuid("acme.example");
const classId = classUuid(vendorId, "bench");
const root = generateKeyPair();
const release = generateKeyPair();
const cert = await buildCertificate(new LocalSigner(root.privateKey), { publicKey: release.publicKey, epoch: 1 });
const image = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i++) image[i] = (i * 2654435761) >>> 24;
const bundle = await buildBundle(image, { vendorId, classId, sequence: 1, version: "bench", chunkSize: 4096 }, [new LocalSigner(release.privateKey, cert)]);

const a = await createPtyPair(dir, "host", "relay-a");
const b = await createPtyPair(dir, "relay-b", "device");
const relay = await Relay.start(a.devicePath, b.hostPath, { baud: BAUD });
const open = (p) => new Promise((res, rej) => { const s = new SerialPort({ path: p, baudRate: BAUD, autoOpen: false }); s.open((e) => (e ? rej(e) : res(s))); });
const close = (s) => new Promise((r) => (s.isOpen ? s.close(() => r()) : r()));

// 1. Raw: the bundle's bytes through the same throttled line, no protocol.
const sink = await open(b.devicePath);
const src = await open(a.hostPath);
let got = 0;
const rawMs = await new Promise((resolve) => {
  const t0 = performance.now();
  sink.on("data", (d) => {
    got += d.length;
    if (got >= bundle.length) resolve(performance.now() - t0);
  });
  src.write(Buffer.from(bundle));
});
await close(src);
await close(sink);

// 2. fwseal flash to the simulated device over the same line.
const dev = new SimDevice({ roots: [root.publicKey], vendorId, classId, flashFile: path.join(dir, "flash.bin") });
const devPort = await attachDevice(dev, b.devicePath);
const wire0 = relay.stats.toDevice;
const t0 = performance.now();
const res = await flashDevice({ port: a.hostPath, bundle, baud: BAUD });
const totalMs = performance.now() - t0;
const wire = relay.stats.toDevice - wire0;
await close(devPort);
dev.close();
await relay.close();
await a.close();
await b.close();
fs.rmSync(dir, { recursive: true, force: true });

const theoryMs = (bundle.length * 10 * 1000) / BAUD;
const out = {
  baud: BAUD,
  bundleBytes: bundle.length,
  wireBytesToDevice: wire,
  payloadOverWire: +(bundle.length / wire).toFixed(4),
  rawTransferMs: Math.round(rawMs),
  rawTheoryMs: Math.round(theoryMs),
  flashMs: Math.round(totalMs),
  flashOverRaw: +(totalMs / rawMs).toFixed(3),
  goodputBytesPerSec: Math.round((bundle.length * 1000) / totalMs),
  retransmits: res.transfer.retransmits
};
console.log(`serial flash of a ${(SIZE / 1024).toFixed(0)} KiB image (${bundle.length} bundle bytes) at ${BAUD} baud over a throttled pty relay`);
console.log(`  payload/wire          ${out.payloadOverWire}  (${wire} bytes on the host->device wire, handshake and END included)`);
console.log(`  raw transfer          ${(rawMs / 1000).toFixed(2)} s  (theory ${(theoryMs / 1000).toFixed(2)} s)`);
console.log(`  fwseal flash          ${(totalMs / 1000).toFixed(2)} s  = ${out.flashOverRaw}x raw  (goal <= 1.1x)`);
console.log(JSON.stringify(out));
