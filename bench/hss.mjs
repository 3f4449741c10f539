#!/usr/bin/env node
// npm run bench:hss: HSS/LMS on the host (dist/, build first). For each parameter set: key
// generation time, the first signature of a freshly opened key file (what one `fwseal`
// process pays: it recomputes the subtree of its leaf), and the throughput of consecutive
// signatures through the file signer (lock, durable counter write with fsync, signature,
// self-verification). One core (the key generator is single-threaded).
//
// Height 20 key generation hashes 2^20 one-time keys and takes long: by default it is
// EXTRAPOLATED from the measured height-15 time (x 32; generation is linear in the number
// of leaves), and H20 signing is measured on a tree whose other subtree roots are
// placeholders (a signature only touches its own subtree and the stored roots, so it costs
// the same). BENCH_HSS_H20=1 generates a real H20 key instead (about 20 minutes with W4).
// Not a test: nothing asserts.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(here, "../dist/host/keys");
const imp = (p) => import(pathToFileURL(path.join(dist, p)).href);
const { keygenHssLms, HssLmsFileSigner, verifyHss } = await imp("hss-lms.js");
const { LmsTree, subtreeHeight } = await imp("hss/lms-tree.js");
const { lmsByHeight, lmotsByWidth, lmsSigLen } = await imp("hss/params.js");

const SETS = (process.env.BENCH_HSS_SETS ?? "10:4,10:8,15:4,20:4").split(",").map((s) => s.split(":").map(Number));
const SIGNS = Number(process.env.BENCH_HSS_SIGNS ?? 64);
const REAL_H20 = process.env.BENCH_HSS_H20 === "1";
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-bench-hss-"));
const now = () => Number(process.hrtime.bigint()) / 1e9;
const measuredKeygen = new Map();

async function throughput(signer, n) {
  const msg = randomBytes(64);
  const t0 = now();
  for (let i = 0; i < n; i++) await signer.sign(msg);
  return n / (now() - t0);
}

const rows = [];
for (const [h, w] of SETS) {
  const label = `H${h}/W${w}`;
  const sigBytes = 4 + lmsSigLen(lmsByHeight(h), lmotsByWidth(w));
  if (h < 20 || REAL_H20) {
    const t0 = now();
    const r = await keygenHssLms({ out: path.join(dir, `k${h}w${w}`), heights: [h], w });
    const keygenSecs = now() - t0;
    measuredKeygen.set(`${h}:${w}`, keygenSecs);
    const t1 = now();
    const signer = await HssLmsFileSigner.open(r.keyPath);
    const first = await signer.sign(Buffer.from("first"));
    const firstSecs = now() - t1;
    if (!verifyHss(r.publicKey, Buffer.from("first"), first)) throw new Error("bench signature does not verify");
    const perSec = await throughput(signer, SIGNS);
    rows.push({ set: label, s: subtreeHeight(lmsByHeight(h), lmotsByWidth(w)), keygen: `${keygenSecs.toFixed(1)} s (measured)`, first: `${(firstSecs * 1000).toFixed(0)} ms`, rate: `${perSec.toFixed(1)}/s`, sig: sigBytes });
  } else {
    const base = measuredKeygen.get(`15:${w}`);
    const est = base !== undefined ? `~${((base * 32) / 60).toFixed(0)} min (extrapolated: H15 x 32)` : "not measured (run H15 with the same W first)";
    // Signing cost at H20: the leaf's subtree (height s) plus the stored roots, as in a real key.
    const secret = { lms: lmsByHeight(h), ots: lmotsByWidth(w), I: randomBytes(16), seed: randomBytes(32) };
    const s = subtreeHeight(secret.lms, secret.ots);
    const t1 = now();
    const roots = Buffer.alloc((1 << (h - s)) * 32);
    // Subtree 0's root is computed exactly as key generation does; the others stay placeholders.
    roots.set(LmsTree.subtreeRoot(secret, s, 0), 0);
    const tree = new LmsTree(secret, s, roots);
    const msg = Buffer.from("first");
    const sig = tree.sign(0, randomBytes(32), msg);
    const firstSecs = now() - t1;
    const pub = Buffer.concat([Buffer.from([0, 0, 0, 1]), tree.publicKey()]);
    const full = Buffer.concat([Buffer.alloc(4), sig]);
    if (!verifyHss(pub, msg, full)) throw new Error("bench H20 signature does not verify");
    const t2 = now();
    for (let q = 1; q <= SIGNS; q++) tree.sign(q, randomBytes(32), msg);
    const perSec = SIGNS / (now() - t2);
    rows.push({ set: label, s, keygen: est, first: `${(firstSecs * 1000).toFixed(0)} ms`, rate: `${perSec.toFixed(1)}/s (no file I/O)`, sig: full.length });
  }
  console.error(`bench:hss ${label} done`);
}
fs.rmSync(dir, { recursive: true, force: true });
console.log(`HSS/LMS on the host (node ${process.version}, ${os.cpus()[0]?.model ?? "cpu"}, one core; ${SIGNS} signatures per rate)`);
console.log("| set | key generation | first signature (cold key file) | consecutive signatures | subtree height s | signature bytes |");
console.log("|---|---|---|---|---|---|");
for (const r of rows) console.log(`| ${r.set} | ${r.keygen} | ${r.first} | ${r.rate} | ${r.s} | ${r.sig} |`);
console.log("Consecutive signatures reuse the subtree of the previous leaf; every 2^s-th one recomputes a subtree (the cold cost).");
