#!/usr/bin/env node
// Transparency-log benchmark (npm run bench:log).
//  Host: appending 100,000 release entries to a log directory (one call, and 100 calls of
//  1,000), tile and entry-bundle bytes written; signing the checkpoint; inclusion and
//  consistency proofs built from the tiles on disk and from a real nginx over HTTP.
//  Device: one inclusion-proof check (leaf hash + the 17-hash path of a 100,000-entry log)
//  next to one Ed25519 verification, by the core on Node and Duktape (`duk`), and on the
//  QEMU-emulated Cortex-M3 (guest instruction counts, -icount shift=0; native C SHA-256 and
//  the core's JS SHA-256); and the whole log-proof check of a logged envelope (log signature,
//  two cosignatures, entry, path) on Node.
// Options: --quick (10,000 entries), --no-mcu, --json. Needs dist/ and build/ (npm run build).
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { generateKeyPairSync } from "node:crypto";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const quick = process.argv.includes("--quick");
const asJson = process.argv.includes("--json");
const noMcu = process.argv.includes("--no-mcu");
const N = quick ? 10_000 : 100_000;
const imp = (p) => import(path.join(repo, p));

const store = await imp("dist/host/log/log-store.js");
const { NoteSigType, noteSigningKey } = await imp("dist/host/log/note.js");
const { leafHash, verifyInclusion } = await imp("dist/host/log/merkle.js");
const { encodeLogEntry } = await imp("dist/formats/host-only/log-proof.js");
const { httpSource } = await imp("dist/host/log/http-source.js");
const core = await imp("dist/device-sim/core/index.js");
const { NGINX_BIN, startNginx } = await imp("scripts/nginx-serve.mjs");

const results = { entries: N, host: {}, device: {} };
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const now = () => process.hrtime.bigint();

function entry(i) {
  const d = new Uint8Array(32);
  new DataView(d.buffer).setUint32(0, i);
  return encodeLogEntry({
    manifestDigest: d, signerKeyIds: [new Uint8Array(8).fill(i & 255)], envelopeDigest: d,
    vendorId: new Uint8Array(16).fill(1), classId: new Uint8Array(16).fill(2), sequence: i, version: `1.0.${i}`, loggedAt: 1_700_000_000 + i
  });
}

const work = mkdtempSync(path.join(tmpdir(), "fwseal-bench-log-"));
let nginx = null;
try {
  // ---- host: append ----
  const logKey = noteSigningKey("bench.example/log", NoteSigType.ED25519, generateKeyPairSync("ed25519").privateKey);
  const entries = Array.from({ length: N }, (_, i) => entry(i));
  const entryBytes = entries.reduce((s, e) => s + e.length, 0);
  const one = path.join(work, "one");
  store.initLog(one, logKey);
  let t0 = now();
  const a = store.appendEntries(one, entries);
  const tOne = ms(t0);
  const many = path.join(work, "many");
  store.initLog(many, logKey);
  t0 = now();
  let manyBytes = 0;
  for (let i = 0; i < N; i += N / 100) manyBytes += store.appendEntries(many, entries.slice(i, i + N / 100)).bytesWritten;
  const tMany = ms(t0);
  t0 = now();
  const cp = (await store.publishCheckpoint(one, logKey)).checkpoint;
  const tPub = ms(t0);
  results.host.append = {
    oneCall: { ms: tOne, entriesPerSec: (N / tOne) * 1000, bytesWritten: a.bytesWritten, files: a.filesWritten },
    hundredCalls: { ms: tMany, entriesPerSec: (N / tMany) * 1000, bytesWritten: manyBytes },
    entryBytes, publishCheckpointMs: tPub
  };

  // ---- host: proofs from tiles (disk, then nginx over HTTP) ----
  const src = store.folderSource(path.join(one, store.PUBLIC_DIR));
  const P = 1000;
  let pathLen = 0;
  t0 = now();
  for (let k = 0; k < P; k++) {
    const idx = (k * 7919) % N;
    const { inclusion } = await store.proofsFor(src, N, { index: idx });
    if (!verifyInclusion(leafHash(entries[idx]), idx, N, inclusion, cp.root)) throw new Error("bad proof");
    pathLen = inclusion.length;
  }
  const tInc = ms(t0);
  t0 = now();
  for (let k = 1; k <= 100; k++) await store.proofsFor(src, N, { from: Math.floor((k * N) / 101) });
  const tCons = ms(t0);
  results.host.proofsDisk = { inclusionPerSec: (P / tInc) * 1000, pathHashes: pathLen, consistencyPerSec: (100 / tCons) * 1000 };
  if (NGINX_BIN) {
    chmodSync(work, 0o755); // nginx's workers must traverse to the served folder
    nginx = await startNginx(path.join(one, store.PUBLIC_DIR));
    const http = httpSource(nginx.url);
    let fetched = 0;
    const counting = async (p) => {
      fetched++;
      return http(p);
    };
    const H = 100;
    t0 = now();
    for (let k = 0; k < H; k++) {
      const idx = (k * 7919) % N;
      const { inclusion } = await store.proofsFor(counting, N, { index: idx });
      if (!verifyInclusion(leafHash(entries[idx]), idx, N, inclusion, cp.root)) throw new Error("bad proof over HTTP");
    }
    const tHttp = ms(t0);
    results.host.proofsHttp = { inclusionPerSec: (H / tHttp) * 1000, tileFetchesPerProof: fetched / H, server: "nginx" };
  }

  // ---- device: inclusion path vs Ed25519 ----
  const v = JSON.parse(readFileSync(path.join(repo, "test/vectors/ed25519/rfc8032-ed25519.json"), "utf8"))[1];
  const hx = (h) => new Uint8Array(Buffer.from(h, "hex"));
  const [pk, sig, msg] = [hx(v.publicKey), hx(v.signature), hx(v.message)];
  const leafLen = entries[N - 1].length + 1;
  const prim = core.createPurePrimitives();
  const inclusionCheck = (sha) => {
    const leaf = new Uint8Array(leafLen);
    const node = new Uint8Array(65);
    const out = new Uint8Array(32);
    sha(leaf, 0, leafLen, out);
    for (let i = 0; i < pathLen; i++) sha(node, 0, 65, out);
  };
  const timeIt = (f, reps) => {
    f();
    const t = now();
    for (let i = 0; i < reps; i++) f();
    return ms(t) / reps;
  };
  results.device.node = {
    inclusionMs: timeIt(() => inclusionCheck(prim.sha256), quick ? 200 : 2000),
    ed25519Ms: timeIt(() => prim.ed25519Verify(pk, sig, msg, 0, msg.length), quick ? 20 : 200),
    pathHashes: pathLen
  };

  // Whole check on Node: verifying a logged envelope under a log policy vs without one.
  const { loggedEnvelope, vectorLogPolicy } = await imp("build/dev/dev/log-vectors.js");
  const { buildBundle } = await imp("dist/formats/host-only/bundle-builder.js");
  const { keyPairFromSeed, LocalSigner } = await imp("dist/host/keys/keys.js");
  const rootKp = keyPairFromSeed(new Uint8Array(32).fill(9));
  const vendorId = new Uint8Array(16).fill(1);
  const classId = new Uint8Array(16).fill(2);
  const bundle = await buildBundle(new Uint8Array(4096), { vendorId, classId, sequence: 1, version: "b", chunkSize: 1024 }, [new LocalSigner(rootKp.privateKey)]);
  const { decodeItem } = await imp("dist/formats/host-only/cbor-decode.js");
  const envEnd = decodeItem(bundle, 0, { lenient: true }).end;
  const logged = await loggedEnvelope(bundle.subarray(0, envEnd), 1_767_225_600, 2);
  const vp = vectorLogPolicy(2);
  const policy = { logKeys: hx(vp.logKeys), logKeyCount: 1, witnessKeys: hx(vp.witnessKeys), witnessKeyCount: 2, witnessQuorum: 2 };
  const envCheck = (env, log) => {
    const ver = core.createBundleVerifier({ primitives: prim, roots: rootKp.publicKey, rootCount: 1, rootRetired: 0, vendorId, classId,
      minSequence: 0, minEpoch: 0, threshold: 1, now: -1, maxChunkSize: 4096, ...log });
    const ev = ver.push(env, 0, env.length);
    if (ev !== core.VerifyEvent.ENVELOPE) throw new Error(`envelope rejected: ${core.reasonName(ver.reason)}`);
  };
  const tPlain = timeIt(() => envCheck(bundle.subarray(0, envEnd), {}), quick ? 10 : 50);
  const tLogged = timeIt(() => envCheck(logged, policy), quick ? 10 : 50);
  results.device.node.wholeCheckMs = tLogged - tPlain;
  results.device.node.envelopeMs = tPlain;

  // duk: the ES5 core.
  const duk = spawnSync("duk", ["-e", "print(1)"], { encoding: "utf8" });
  if (duk.stdout?.trim() === "1") {
    const script = path.join(work, "bench-duk.js");
    writeFileSync(script, `
var c = fwsealCore, p = c.createPurePrimitives();
function fromHex(h) { return c.hexToBytes(h); }
var pk = fromHex("${v.publicKey}"), sig = fromHex("${v.signature}"), msg = fromHex("${v.message}");
var leaf = new Uint8Array(${leafLen}), node = new Uint8Array(65), out = new Uint8Array(32);
function inc() { p.sha256(leaf, 0, leaf.length, out); for (var i = 0; i < ${pathLen}; i++) p.sha256(node, 0, 65, out); }
var R = ${quick ? 20 : 100}, t = Date.now();
for (var r = 0; r < R; r++) inc();
var ti = (Date.now() - t) / R;
var E = ${quick ? 3 : 10}; t = Date.now();
for (r = 0; r < E; r++) p.ed25519Verify(pk, sig, msg, 0, msg.length);
var te = (Date.now() - t) / E;
print("@@ " + ti + " " + te);
`);
    const r = spawnSync("duk", [path.join(repo, "build/fwseal-core.js"), script], { encoding: "utf8" });
    const m = /@@ (\S+) (\S+)/.exec(r.stdout);
    if (m) results.device.duk = { inclusionMs: Number(m[1]), ed25519Ms: Number(m[2]), pathHashes: pathLen };
  }

  // QEMU Cortex-M3: instruction counts from the firmware console.
  if (!noMcu && existsSync(path.join(repo, "build/mcu/fw.elf"))) {
    const { startMcu } = await imp("hw-test/mcu/qemu.mjs");
    const { McuConsole, field } = await imp("hw-test/mcu/console-client.mjs");
    const INSN_PER_TICK = 40;
    const mcu = await startMcu({ dir: path.join(work, "mcu"), args: ["mode=console"], icount: true });
    try {
      const con = await McuConsole.open(mcu.port);
      const ed = await con.cmd(`ed ${v.publicKey} ${v.signature} ${v.message}`, 300000);
      const node = await con.cmd(`shagen 65 1 ${pathLen}`, 300000);
      const leaf = await con.cmd(`shagen ${leafLen} 1 1`, 300000);
      const nat = (Number(field(node, "tn")) + Number(field(leaf, "tn"))) * INSN_PER_TICK;
      const js = (Number(field(node, "tj")) + Number(field(leaf, "tj"))) * INSN_PER_TICK;
      results.device.mcu = { inclusionInsnNativeSha: nat, inclusionInsnJsSha: js, ed25519Insn: Number(field(ed, "ticks")) * INSN_PER_TICK, pathHashes: pathLen };
      await con.close();
    } finally {
      await mcu.stop();
    }
  }
} finally {
  nginx?.stop();
  rmSync(work, { recursive: true, force: true });
}

if (asJson) {
  console.log(JSON.stringify(results, null, 2));
} else {
  const h = results.host;
  const f = (x, d = 0) => x.toLocaleString("en-US", { maximumFractionDigits: d });
  console.log(`bench:log: ${f(N)} entries of ${f(h.append.entryBytes / N, 1)} bytes`);
  console.log(`  append, one call      ${f(h.append.oneCall.entriesPerSec)} entries/s (${f(h.append.oneCall.ms)} ms), ${f(h.append.oneCall.bytesWritten)} tile+bundle bytes in ${f(h.append.oneCall.files)} files`);
  console.log(`  append, 100 calls     ${f(h.append.hundredCalls.entriesPerSec)} entries/s (${f(h.append.hundredCalls.ms)} ms), ${f(h.append.hundredCalls.bytesWritten)} bytes written (partial tiles rewritten)`);
  console.log(`  sign checkpoint       ${f(h.append.publishCheckpointMs, 1)} ms`);
  console.log(`  proofs from disk      ${f(h.proofsDisk.inclusionPerSec)} inclusion proofs/s (${h.proofsDisk.pathHashes} hashes, verified), ${f(h.proofsDisk.consistencyPerSec)} consistency proofs/s`);
  if (h.proofsHttp) console.log(`  proofs over nginx     ${f(h.proofsHttp.inclusionPerSec)} inclusion proofs/s, ${f(h.proofsHttp.tileFetchesPerProof, 1)} tile GETs per proof (no client cache)`);
  const d = results.device;
  for (const [eng, r] of Object.entries(d)) {
    if (eng === "mcu") console.log(`  device ${eng.padEnd(5)} inclusion check (${r.pathHashes}-hash path): ${f(r.inclusionInsnNativeSha)} insn (native SHA) / ${f(r.inclusionInsnJsSha)} insn (JS SHA); Ed25519 verify ${f(r.ed25519Insn)} insn (${f(r.ed25519Insn / r.inclusionInsnNativeSha)}x / ${f(r.ed25519Insn / r.inclusionInsnJsSha, 1)}x)`);
    else console.log(`  device ${eng.padEnd(5)} inclusion check (${r.pathHashes}-hash path): ${f(r.inclusionMs, 3)} ms; Ed25519 verify ${f(r.ed25519Ms, 2)} ms (${f(r.ed25519Ms / r.inclusionMs, 1)}x)${r.wholeCheckMs !== undefined ? `; whole log-proof check of a logged envelope (1 log sig + 2 cosigs + 3-hash path): ${f(r.wholeCheckMs, 2)} ms` : ""}`);
  }
}
