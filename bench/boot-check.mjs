#!/usr/bin/env node
// npm run bench:boot: the device core's boot check (SPEC §7, §8.5: stored envelope and the
// whole chunk chain back to front) of a 64 KiB image in 4 KiB chunks, on Node and on duk
// (Duktape 2.7, the ES5 core, pure-JS SHA-256 and Ed25519), for an image signed by an Ed25519
// root, by an HSS/LMS root (L=1 H10/W4), and by both under a hybrid policy whose boot check
// verifies the HSS/LMS signature only (bootAlgorithms). Not a test: prints a table.
// Needs `npm run build` (dist/, build/dev/, build/fwseal-core.js). Options: --json.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import crypto from "node:crypto";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const asJson = process.argv.includes("--json");
const { buildBundle } = await import(path.join(repo, "dist/formats/host-only/bundle-builder.js"));
const { keyPairFromSeed, LocalSigner } = await import(path.join(repo, "dist/host/keys/keys.js"));
const { vendorUuid, classUuid } = await import(path.join(repo, "dist/formats/host-only/uuid.js"));
const { packRoots } = await import(path.join(repo, "dist/formats/host-only/root-slots.js"));
const { createBootVerifier } = await import(path.join(repo, "dist/device-sim/core/verify/boot-verifier.js"));
const { createPurePrimitives } = await import(path.join(repo, "dist/device-sim/core/crypto/pure-primitives.js"));
const { SeededHssKey } = await import(path.join(repo, "build/dev/dev/hss-vector-key.js"));

const IMAGE = 65536;
const CS = 4096;
const sha256 = (d) => new Uint8Array(crypto.createHash("sha256").update(d).digest());
const hex = (b) => Buffer.from(b).toString("hex");
const vendorId = vendorUuid("acme.example");
const classId = classUuid(vendorId, "sensor-v3");
const img = new Uint8Array(IMAGE).map((_, i) => (i * 7 + (i >>> 8)) & 255);
const ed = new LocalSigner(keyPairFromSeed(sha256(new TextEncoder().encode("bench boot ed25519"))).privateKey);
const pq = new SeededHssKey("bench boot hss", 10, 4);

const cases = [
  { name: "Ed25519 root", signers: [ed], roots: [ed.publicKey], boot: 0 },
  { name: "HSS/LMS root, L=1 H10/W4", signers: [pq], roots: [pq.publicKey], boot: 0 },
  { name: "hybrid Ed25519 + HSS/LMS, boot checks HSS/LMS", signers: [ed, pq], roots: [ed.publicKey, pq.publicKey], boot: 2, required: 3 },
  { name: "hybrid Ed25519 + HSS/LMS, boot checks both", signers: [ed, pq], roots: [ed.publicKey, pq.publicKey], boot: 0, required: 3 }
];

const rows = [];
const dir = mkdtempSync(path.join(tmpdir(), "fwseal-bench-boot-"));
try {
  for (const c of cases) {
    const b = await buildBundle(img, { vendorId, classId, sequence: 1, version: "bench", chunkSize: CS, sha256 }, c.signers);
    const n = IMAGE / CS;
    const envLen = b.length - IMAGE - 32 * n;
    const packed = packRoots(c.roots);
    const cfg = {
      primitives: createPurePrimitives(), roots: packed.roots, rootCount: c.roots.length, rootHssMask: packed.rootHssMask, rootRetired: 0,
      vendorId, classId, minSequence: 0, minEpoch: 0, threshold: 1, now: -1, maxChunkSize: CS,
      requiredAlgorithms: c.required ?? 0, bootAlgorithms: c.boot
    };
    // Node: the TypeScript core (pure primitives), best of 3.
    const read = (off, dst, dOff, len) => dst.set(b.subarray(envLen + Math.floor(off / CS) * (CS + 32) + (off % CS), envLen + Math.floor(off / CS) * (CS + 32) + (off % CS) + len), dOff);
    let nodeMs = Infinity;
    for (let i = 0; i < 3; i++) {
      const v = createBootVerifier(cfg);
      const t0 = process.hrtime.bigint();
      const rc = v.check(b, envLen, read);
      nodeMs = Math.min(nodeMs, Number(process.hrtime.bigint() - t0) / 1e6);
      if (rc !== 0) throw new Error(`${c.name}: boot check on Node failed (${rc})`);
    }
    // duk: the ES5 core, best of 3 in one process (its clock is Date.now()).
    const driver = `
var core = fwsealCore;
var b = core.hexToBytes("${hex(b)}");
var cfg = { primitives: core.createPurePrimitives(), roots: core.hexToBytes("${hex(packed.roots)}"), rootCount: ${c.roots.length},
  rootHssMask: ${packed.rootHssMask}, rootRetired: 0, vendorId: core.hexToBytes("${hex(vendorId)}"), classId: core.hexToBytes("${hex(classId)}"),
  minSequence: 0, minEpoch: 0, threshold: 1, now: -1, maxChunkSize: ${CS}, requiredAlgorithms: ${c.required ?? 0}, bootAlgorithms: ${c.boot} };
var v = core.createBootVerifier(cfg);
function read(off, dst, dOff, len) {
  var src = ${envLen} + Math.floor(off / ${CS}) * ${CS + 32} + (off % ${CS});
  for (var i = 0; i < len; i++) dst[dOff + i] = b[src + i];
}
var best = -1, rc = 0;
for (var k = 0; k < 3; k++) {
  var t0 = Date.now();
  rc = v.check(b, ${envLen}, read) || rc;
  var ms = Date.now() - t0;
  if (best < 0 || ms < best) best = ms;
}
print("@@boot " + rc + " " + best);
`;
    const f = path.join(dir, "driver.js");
    writeFileSync(f, driver);
    const r = spawnSync("duk", [path.join(repo, "build/fwseal-core.js"), f], { encoding: "utf8", maxBuffer: 1 << 24 });
    const m = /@@boot (\d+) (\d+)/.exec(r.stdout);
    if (!m || m[1] !== "0") throw new Error(`${c.name}: boot check on duk failed: ${r.stdout}${r.stderr}`);
    rows.push({ name: c.name, envelope: envLen, nodeMs: +nodeMs.toFixed(2), dukMs: Number(m[2]) });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

if (asJson) {
  process.stdout.write(JSON.stringify({ image: IMAGE, chunkSize: CS, rows }, null, 2) + "\n");
} else {
  console.log(`boot check of a ${IMAGE / 1024} KiB image in ${CS / 1024} KiB chunks (envelope + chain), pure-JS primitives`);
  const head = ["image signed by", "envelope B", "Node ms", "duk ms"];
  const body = rows.map((x) => [x.name, String(x.envelope), String(x.nodeMs), String(x.dukMs)]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  for (const line of [head, w.map((k) => "-".repeat(k)), ...body]) console.log(line.map((c, i) => c.padEnd(w[i])).join("  "));
}
