// Differential test (issue 3, "Proof on real engines"): three verifiers must reach the SAME
// verdict (valid, reason, chunk index) and release the same number of authenticated chunks
// on every bundle:
//   host  - host/bundle/verify.ts verifyBlocks() (core envelope check + FastChain chunk check,
//           node:crypto SHA-256), fed in the case's fragments;
//   node  - the device core imported as TypeScript (device-sim/core) with the PURE
//           primitives, fed push() by push() in the case's fragments;
//   duk   - the emitted ES5 core (scripts/build-core-es5.mjs) under the real Duktape `duk`,
//           same fragments; all cases of a test run in ONE duk process (bundles embedded as hex).
// The core runs its RAM install check (device-sim/core/decode/ram-install-check.ts): a
// compressed or delta payload (SPEC §15) is decoded and checked as an installing device does,
// under the vector's decoder window and running image; the host verifier gets the same policy.
// With ESPRUINO_BIN set, the encoded vectors also run on Espruino (native SHA-256).
// Corpus: every golden vector in formats/vectors/ (also checked against its expected
// verdict), the conformance fixtures (test/helpers/conformance-fixtures.ts), and fast-check mutations
// of fresh bundles (bit flips, byte insertions/deletions, truncations, chunk swaps/drops/
// duplicates, envelope byte edits, trailing bytes) under varied device policies, each split
// at random points. Seeds are fixed (override: FWSEAL_DIFF_SEED=<n>); a mismatch prints the
// seed, the case (mutations, splits) and the path of the saved bundle.
import { describe, it, expect, beforeAll } from "vitest";
import fc from "fast-check";
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { verifyBlocks } from "../../host/bundle/verify.js";
import { VerifyEvent, type VerifierConfig } from "../../device-sim/core/verify/bundle-verifier.js";
import { createRamInstallCheck } from "../../device-sim/core/decode/ram-install-check.js";
import type { LogPolicy } from "../../device-sim/core/verify/log-proof.js";
import { createPurePrimitives } from "../../device-sim/core/crypto/pure-primitives.js";
import { reasonName } from "../../formats/device-safe/reasons.js";
import { Limits } from "../../formats/device-safe/limits.js";
import { packRoots } from "../../formats/host-only/root-slots.js";
import { parseUuid, vendorUuid, classUuid } from "../../formats/host-only/uuid.js";
import { runConformance } from "../../host/device/conformance.js";
import { makeBundleCases } from "../helpers/conformance-fixtures.js";
import { ES5_HEX_CODEC, buildCoreFiles, emitCore, hex, runDuk } from "../helpers/engines.js";
import { ESPRUINO_NATIVE_PRIMITIVES, ESPRUINO_OUT, ESPRUINO_SKIP_REASON, runEspruino } from "../helpers/espruino.js";
import { REPO } from "../helpers/repo.js";
import { buildBundle, cert, opts, root0, root1, root2, release, VENDOR, CLASS } from "../helpers/verifier-fixtures.js";
import { patternImage } from "../helpers/images.js";
import { withCert } from "../helpers/keys.js";

const SEED = process.env.FWSEAL_DIFF_SEED ? Number(process.env.FWSEAL_DIFF_SEED) : 20261125;
const FUZZ_DUK_CASES = 400; // fuzzed cases run on all three verifiers (one duk process)
const FUZZ_NODE_RUNS = 1000; // extra fast-check runs, host vs core on Node, with shrinking
const NOW = 1_800_000_000;

interface Policy {
  roots: Uint8Array[];
  retired: number;
  vendor: Uint8Array;
  cls: Uint8Array;
  minSeq: number;
  minEpoch: number;
  threshold: number;
  rootThreshold?: number; // distinct roots (absent: 1)
  requiredAlgorithms?: number; // hybrid policy (absent: 0)
  hss?: boolean; // the device accepts HSS/LMS signatures (absent: only with an HSS/LMS root)
  now: number; // -1: no trusted time
  maxChunk: number;
  log?: LogPolicy; // a log-required device (SPEC §14)
  maxWindowBits?: number; // the device's decoder window (SPEC §15; absent: no decoder)
  precursor?: { image: Uint8Array; chainHead: Uint8Array }; // the image the device runs (a delta's precursor)
}

interface Case {
  name: string;
  bundle: Uint8Array;
  policy: Policy;
  splits: number[]; // fragment sizes, cycled
  expect?: { valid: boolean; reason: string; chunk?: number };
  detail?: string; // mutations, for reproduction
}

interface Verdict {
  valid: boolean;
  reason: string;
  chunk: number;
  released: number; // chunks released (authenticated) before the verdict
}

const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, "hex"));

// ------------------------------------------------------------------ the three verifiers

function coreConfig(p: Policy): VerifierConfig {
  const packed = packRoots(p.roots);
  return {
    primitives: createPurePrimitives(),
    roots: packed.roots,
    rootCount: p.roots.length,
    rootHssMask: packed.rootHssMask,
    requiredAlgorithms: p.requiredAlgorithms ?? 0,
    hss: p.hss ?? false,
    rootRetired: p.retired,
    vendorId: p.vendor,
    classId: p.cls,
    minSequence: p.minSeq,
    minEpoch: p.minEpoch,
    threshold: p.threshold,
    rootThreshold: p.rootThreshold,
    now: p.now,
    maxChunkSize: p.maxChunk,
    maxWindowBits: p.maxWindowBits ?? 0,
    ...(p.log ?? {}),
  };
}

// The target slot of the RAM install check (every bundle here decodes to less).
const RAM_SLOT = 1 << 16;
const slot = new Uint8Array(RAM_SLOT);
const NO_PRECURSOR = new Uint8Array(0);

/** The device core on Node (TypeScript import, pure primitives), fed in the case's fragments. */
function runNodeCore(c: Case): Verdict {
  const pre = c.policy.precursor;
  const v = createRamInstallCheck(coreConfig(c.policy), slot, pre ? pre.image : NO_PRECURSOR, pre ? pre.image.length : 0, pre ? pre.chainHead : NO_PRECURSOR);
  const b = c.bundle;
  let off = 0;
  let k = 0;
  let ev = VerifyEvent.NEED_MORE;
  let released = 0;
  while (off < b.length && ev !== VerifyEvent.REJECT) {
    const end = Math.min(b.length, off + c.splits[k++ % c.splits.length]);
    while (off < end) {
      ev = v.push(b, off, end - off);
      if (v.consumed === 0 && ev === VerifyEvent.NEED_MORE) throw new Error("core made no progress");
      off += v.consumed;
      if (ev === VerifyEvent.CHUNK) released++;
      if (ev === VerifyEvent.REJECT) break;
    }
  }
  if (ev !== VerifyEvent.REJECT) ev = v.end();
  const valid = ev === VerifyEvent.DONE;
  return { valid, reason: reasonName(valid ? 0 : v.reason), chunk: valid ? -1 : v.rejectChunk, released };
}

/** The host verifier (host/bundle/verify.ts), fed the same fragments as blocks. */
async function runHost(c: Case): Promise<Verdict> {
  const b = c.bundle;
  async function* blocks(): AsyncGenerator<Uint8Array> {
    let off = 0;
    let k = 0;
    while (off < b.length) {
      const n = Math.min(b.length - off, c.splits[k++ % c.splits.length]);
      yield b.subarray(off, off + n);
      off += n;
    }
  }
  let released = 0;
  const p = c.policy;
  const r = await verifyBlocks(
    blocks(),
    {
      roots: p.roots,
      retiredRoots: p.retired,
      vendor: p.vendor,
      deviceClass: p.cls,
      minSequence: p.minSeq,
      minEpoch: p.minEpoch,
      threshold: p.threshold,
      rootThreshold: p.rootThreshold,
      requiredAlgorithms: p.requiredAlgorithms,
      hss: p.hss ?? false,
      now: p.now < 0 ? null : p.now,
      maxChunkSize: p.maxChunk,
      maxWindowBits: p.maxWindowBits ?? 0,
      ...(p.precursor ? { precursor: p.precursor } : {}),
      ...(p.log ? { log: p.log } : {}),
    },
    { onChunk: () => void released++ },
    b.length
  );
  // The duk driver reports the core's -1 for "no chunk"; the host result says null.
  return { valid: r.valid, reason: r.reasonName, chunk: r.chunk ?? -1, released };
}

// ES5 for the engine drivers: the verifier configuration from a policy record P (hex strings
// and numbers, written by policyRecord below).
const ES5_DIFF_CONFIG = ES5_HEX_CODEC + `
function diffConfig(prims, P) {
  return { primitives: prims, roots: fromHex(P.roots), rootCount: P.rootCount, rootHssMask: P.hssMask,
    requiredAlgorithms: P.required, hss: P.hss, rootRetired: P.retired, vendorId: fromHex(P.vendor), classId: fromHex(P.cls),
    minSequence: P.minSeq, minEpoch: P.minEpoch, threshold: P.threshold, rootThreshold: P.rootThreshold, now: P.now,
    maxChunkSize: P.maxChunk, maxWindowBits: P.maxWindowBits, logKeys: fromHex(P.logKeys), logKeyCount: P.logKeys.length / 72,
    witnessKeys: fromHex(P.witnessKeys), witnessKeyCount: P.witnessKeys.length / 72, witnessQuorum: P.quorum };
}
`;

/** A case's device policy as an ES5 object literal for diffConfig (maxChunk capped at `maxChunk`). */
function policyRecord(p: Policy, maxChunk = p.maxChunk): string {
  return JSON.stringify({
    roots: p.roots.map(hex).join(""), rootCount: p.roots.length, hssMask: packRoots(p.roots).rootHssMask, required: p.requiredAlgorithms ?? 0,
    hss: p.hss === true, retired: p.retired, vendor: hex(p.vendor), cls: hex(p.cls), minSeq: p.minSeq, minEpoch: p.minEpoch,
    threshold: p.threshold, rootThreshold: p.rootThreshold ?? 1, now: p.now, maxChunk: Math.min(p.maxChunk, maxChunk),
    maxWindowBits: p.maxWindowBits ?? 0, logKeys: p.log ? hex(p.log.logKeys!) : "", witnessKeys: p.log ? hex(p.log.witnessKeys!) : "",
    quorum: p.log?.witnessQuorum ?? 0,
  });
}

// The duk driver: ES5, inside the constrained subset (hex by hand, output through print).
const DUK_DRIVER = ES5_DIFF_CONFIG + `
var diffRun = (function (core) {
  var prims = core.createPurePrimitives();
  var EV = core.VerifyEvent;
  var slot = new Uint8Array(${RAM_SLOT});
  return function (id, bHex, P, splits, precursorHex, precursorHeadHex) {
    var pre = fromHex(precursorHex);
    var v = core.createRamInstallCheck(diffConfig(prims, P), slot, pre, pre.length, fromHex(precursorHeadHex));
    var b = fromHex(bHex);
    var off = 0, k = 0, released = 0, ev = EV.NEED_MORE, stuck = false;
    while (off < b.length && ev !== EV.REJECT && !stuck) {
      var end = off + splits[k % splits.length];
      k++;
      if (end > b.length) end = b.length;
      while (off < end && ev !== EV.REJECT) {
        ev = v.push(b, off, end - off);
        if (v.consumed === 0 && ev === EV.NEED_MORE) { stuck = true; break; }
        off += v.consumed;
        if (ev === EV.CHUNK) released++;
      }
    }
    if (stuck) { print("@@diff " + id + " STUCK"); return; }
    if (ev !== EV.REJECT) ev = v.end();
    var ok = ev === EV.DONE;
    print("@@diff " + id + " " + (ok ? 1 : 0) + " " + core.reasonName(ok ? 0 : v.reason) + " " + (ok ? -1 : v.rejectChunk) + " " + released);
  };
})(fwsealCore);
`;

let coreJs = "";

/** All cases through the ES5 core in ONE duk process. */
function runAllOnDuk(cases: Case[]): Verdict[] {
  const lines: string[] = [DUK_DRIVER];
  cases.forEach((c, id) => {
    const p = c.policy;
    lines.push(
      `diffRun(${id}, "${hex(c.bundle)}", ${policyRecord(p)}, [${c.splits.join(",")}], ` +
        `"${p.precursor ? hex(p.precursor.image) : ""}", "${p.precursor ? hex(p.precursor.chainHead) : ""}");`
    );
  });
  const out = runDuk([coreJs, lines.join("\n") + "\n"]);
  const res: (Verdict | null)[] = cases.map(() => null);
  for (const l of out) {
    const m = /^@@diff (\d+) (.*)$/.exec(l);
    if (!m) continue;
    const f = m[2].split(" ");
    expect(f.length, `duk case ${m[1]}: ${m[2]}`).toBe(4);
    res[Number(m[1])] = { valid: f[0] === "1", reason: f[1], chunk: Number(f[2]), released: Number(f[3]) };
  }
  return res.map((r, i) => {
    expect(r, `duk gave no verdict for case ${i} (${cases[i].name})`).not.toBeNull();
    return r as Verdict;
  });
}

// The Espruino driver: the bundle streamed from its file in 256-byte reads, the running image
// read from its file; a 4 KiB chunk buffer and an 8 KiB target fit the interpreter's pool.
const ESPRUINO_MAX_CHUNK = 4096;
const ESPRUINO_SLOT = 8192;
const ESPRUINO_DRIVER = ES5_DIFF_CONFIG + `
var espRun = (function (core, prims) {
  var EV = core.VerifyEvent;
  var slot = new Uint8Array(${ESPRUINO_SLOT});
  function readFile(file, len) {
    var out = new Uint8Array(len), f = E.openFile(file, "r"), off = 0, piece;
    while (off < len && (piece = f.read(256))) { out.set(E.toUint8Array(piece), off); off += piece.length; }
    f.close();
    return out;
  }
  return function (id, file, P, precursorFile, precursorLen, precursorHeadHex) {
    var pre = readFile(precursorFile, precursorLen);
    var v = core.createRamInstallCheck(diffConfig(prims, P), slot, pre, pre.length, fromHex(precursorHeadHex));
    var f = E.openFile(file, "r"), released = 0, ev = EV.NEED_MORE, piece, b, off;
    while (ev !== EV.REJECT && (piece = f.read(256))) {
      b = E.toUint8Array(piece);
      off = 0;
      while (off < b.length && ev !== EV.REJECT) {
        ev = v.push(b, off, b.length - off);
        off += v.consumed;
        if (ev === EV.CHUNK) released++;
      }
    }
    f.close();
    if (ev !== EV.REJECT) ev = v.end();
    var ok = ev === EV.DONE;
    print("${ESPRUINO_OUT}diff " + id + " " + (ok ? 1 : 0) + " " + core.reasonName(ok ? 0 : v.reason) + " " + (ok ? -1 : v.rejectChunk) + " " + released);
  };
})(fwsealCore, ${ESPRUINO_NATIVE_PRIMITIVES});
`;

/** Cases whose bundles and running images are files, through the ES5 core on Espruino (one process). */
function runAllOnEspruino(cases: { c: Case; file: string; precursorFile: string }[]): Verdict[] {
  const lines: string[] = [ESPRUINO_DRIVER];
  cases.forEach(({ c, file, precursorFile }, id) => {
    const p = c.policy;
    lines.push(
      `espRun(${id}, ${JSON.stringify(file)}, ${policyRecord(p, ESPRUINO_MAX_CHUNK)}, ` +
        `${JSON.stringify(precursorFile)}, ${p.precursor ? p.precursor.image.length : 0}, "${p.precursor ? hex(p.precursor.chainHead) : ""}");`
    );
  });
  const res: (Verdict | null)[] = cases.map(() => null);
  for (const l of runEspruino([lines.join("\n") + "\n"])) {
    const m = /^diff (\d+) (.*)$/.exec(l);
    if (!m) continue;
    const f = m[2].split(" ");
    res[Number(m[1])] = { valid: f[0] === "1", reason: f[1], chunk: Number(f[2]), released: Number(f[3]) };
  }
  return res.map((r, i) => {
    expect(r, `Espruino gave no verdict for case ${i} (${cases[i].c.name})`).not.toBeNull();
    return r as Verdict;
  });
}

/** Run all three, compare; returns the human-readable mismatches (saving each bundle). */
async function compareAll(cases: Case[], label: string): Promise<{ mismatches: string[]; verdicts: Verdict[] }> {
  const duk = runAllOnDuk(cases);
  const mismatches: string[] = [];
  const verdicts: Verdict[] = [];
  let saveDir = "";
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i];
    const host = await runHost(c);
    const node = runNodeCore(c);
    const d = duk[i];
    const same = (a: Verdict, b: Verdict) => a.valid === b.valid && a.reason === b.reason && a.chunk === b.chunk && a.released === b.released;
    let bad = !same(host, node) || !same(node, d);
    if (c.expect) {
      const e = c.expect;
      if (node.valid !== e.valid || node.reason !== e.reason || (e.chunk !== undefined && node.chunk !== e.chunk)) bad = true;
    }
    if (bad) {
      if (!saveDir) saveDir = mkdtempSync(path.join(tmpdir(), "fwseal-diff-fail-"));
      const f = path.join(saveDir, `${label}-${i}.fwb`);
      writeFileSync(f, c.bundle);
      mismatches.push(
        `${label} #${i} ${c.name} (seed ${SEED}; ${c.detail ?? ""}; splits [${c.splits.join(",")}]; bundle ${f}; policy ${JSON.stringify({ ...c.policy, roots: c.policy.roots.map(hex), vendor: hex(c.policy.vendor), cls: hex(c.policy.cls) })}):\n` +
          `  host ${JSON.stringify(host)}\n  node ${JSON.stringify(node)}\n  duk  ${JSON.stringify(d)}` +
          (c.expect ? `\n  expected ${JSON.stringify(c.expect)}` : "")
      );
    }
    verdicts.push(node);
  }
  return { mismatches, verdicts };
}

// ------------------------------------------------------------------ corpus

/** Deterministic split schedules (a few shapes: whole, 1-byte, odd sizes, random). */
function splitsFor(i: number, rnd: () => number): number[] {
  switch (i % 5) {
    case 0:
      return [1 << 20];
    case 1:
      return [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987];
    case 2:
      return [Limits.MAX_ENVELOPE + 1];
    default: {
      const n = 1 + Math.floor(rnd() * 6);
      const s: number[] = [];
      for (let j = 0; j < n; j++) s.push(1 + Math.floor(rnd() * (rnd() < 0.3 ? 16 : 1500)));
      return s;
    }
  }
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface VectorIndex {
  vectors: {
    name: string;
    file: string;
    policy: { roots: string[]; retiredRoots: number; vendor: string; class: string; minSeq: number; minEpoch: number; threshold: number; rootThreshold?: number; requiredAlgorithms?: number; hss?: boolean; now: number; maxChunkSize?: number;
      log?: { logKeys: string; logKeyCount: number; witnessKeys: string; witnessKeyCount: number; witnessQuorum: number };
      maxWindowBits?: number; precursor?: { file: string; chainHead: string } };
    expected: { valid: boolean; reason: string; chunk: number };
  }[];
}

function vectorCases(rnd: () => number): Case[] {
  const dir = path.join(REPO, "formats/vectors");
  const index = JSON.parse(readFileSync(path.join(dir, "index.json"), "utf8")) as VectorIndex;
  return index.vectors.map((v, i) => ({
    name: "vector " + v.name,
    bundle: new Uint8Array(readFileSync(path.join(dir, v.file))),
    policy: {
      roots: v.policy.roots.map(fromHex),
      retired: v.policy.retiredRoots,
      vendor: parseUuid(v.policy.vendor),
      cls: parseUuid(v.policy.class),
      minSeq: v.policy.minSeq,
      minEpoch: v.policy.minEpoch,
      threshold: v.policy.threshold,
      rootThreshold: v.policy.rootThreshold,
      requiredAlgorithms: v.policy.requiredAlgorithms,
      hss: v.policy.hss,
      now: v.policy.now,
      maxChunk: v.policy.maxChunkSize ?? Limits.MAX_CHUNK_SIZE,
      ...(v.policy.log ? { log: { ...v.policy.log, logKeys: fromHex(v.policy.log.logKeys), witnessKeys: fromHex(v.policy.log.witnessKeys) } } : {}),
      maxWindowBits: v.policy.maxWindowBits,
      ...(v.policy.precursor ? { precursor: { image: new Uint8Array(readFileSync(path.join(dir, v.policy.precursor.file))), chainHead: fromHex(v.policy.precursor.chainHead) } } : {}),
    },
    splits: splitsFor(i, rnd),
    expect: v.expected,
  }));
}

async function fixtureCases(rnd: () => number): Promise<Case[]> {
  const list = await makeBundleCases();
  return list.map((bc, i) => {
    const op = bc.op as Record<string, unknown>;
    const rootSpecs = (Array.isArray(op.root) ? op.root : [op.root]) as string[];
    const vendor = vendorUuid(op.vendor as string);
    return {
      name: "fixture " + bc.name,
      bundle: bc.bytes,
      policy: {
        roots: rootSpecs.map(fromHex),
        retired: (op.retired as number | undefined) ?? 0,
        vendor,
        cls: classUuid(vendor, op.class as string),
        minSeq: (op.minSeq as number | undefined) ?? 0,
        minEpoch: (op.minEpoch as number | undefined) ?? 0,
        threshold: (op.threshold as number | undefined) ?? 1,
        now: op.now === undefined ? -1 : (op.now as number),
        maxChunk: (op.maxChunkSize as number | undefined) ?? Limits.MAX_CHUNK_SIZE,
      },
      splits: splitsFor(i + 3, rnd),
      expect: bc.expect,
    };
  });
}

// ------------------------------------------------------------------ fuzzing

interface Base {
  name: string;
  bundle: Uint8Array;
  envLen: number;
  chunkSize: number;
  chunkCount: number;
  threshold: number; // the policy threshold this base is meant for
}

async function makeBases(): Promise<Base[]> {
  const certRel = await cert(root0, release, { epoch: 2, notBefore: NOW - 1000, notAfter: NOW + 1000, vendorId: VENDOR, classIds: [CLASS] });
  const specs: { name: string; img: Uint8Array; o: ReturnType<typeof opts>; signers: Parameters<typeof buildBundle>[2]; threshold: number }[] = [
    { name: "sign1-root", img: patternImage(1100, 1), o: opts(), signers: [root0], threshold: 1 },
    { name: "sign1-delegated", img: patternImage(900, 2), o: opts({ sequence: 9 }), signers: [withCert(release, certRel)], threshold: 1 },
    { name: "sign-2of3", img: patternImage(768, 3), o: opts({ sequence: 6 }), signers: [root1, root2], threshold: 2 },
    { name: "sign1-512", img: patternImage(1300, 4), o: opts({ chunkSize: 512, keyEpochFloor: 2 }), signers: [root2], threshold: 1 },
  ];
  const out: Base[] = [];
  for (const s of specs) {
    const bundle = await buildBundle(s.img, s.o, s.signers);
    const cs = s.o.chunkSize ?? 4096;
    const n = Math.ceil(s.img.length / cs);
    out.push({ name: s.name, bundle, envLen: bundle.length - s.img.length - 32 * n, chunkSize: cs, chunkCount: n, threshold: s.threshold });
  }
  return out;
}

type Mut =
  | { k: "flip"; pos: number; bit: number }
  | { k: "envByte"; pos: number; val: number }
  | { k: "chunkFlip"; chunk: number; off: number; bit: number }
  | { k: "insert"; pos: number; val: number }
  | { k: "delete"; pos: number; len: number }
  | { k: "truncate"; len: number }
  | { k: "append"; bytes: number[] }
  | { k: "swap"; i: number; j: number }
  | { k: "dup"; i: number }
  | { k: "drop"; i: number };

const u32 = fc.nat({ max: 0x7fffffff });
const mutArb: fc.Arbitrary<Mut> = fc.oneof(
  fc.record({ k: fc.constant("flip" as const), pos: u32, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ k: fc.constant("envByte" as const), pos: u32, val: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ k: fc.constant("chunkFlip" as const), chunk: u32, off: u32, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ k: fc.constant("insert" as const), pos: u32, val: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ k: fc.constant("delete" as const), pos: u32, len: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ k: fc.constant("truncate" as const), len: u32 }),
  fc.record({ k: fc.constant("append" as const), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 3 }) }),
  fc.record({ k: fc.constant("swap" as const), i: u32, j: u32 }),
  fc.record({ k: fc.constant("dup" as const), i: u32 }),
  fc.record({ k: fc.constant("drop" as const), i: u32 })
);

/** Wire extent [start, end) of chunk i of base b. */
function chunkSpan(b: Base, i: number): [number, number] {
  const imageSize = b.bundle.length - b.envLen - 32 * b.chunkCount;
  const start = b.envLen + i * (b.chunkSize + 32);
  const dl = i === b.chunkCount - 1 ? imageSize - (b.chunkCount - 1) * b.chunkSize : b.chunkSize;
  return [start, start + dl + 32];
}

function applyMut(b: Base, cur: Uint8Array, m: Mut): Uint8Array {
  const n = cur.length;
  const cat = (...parts: Uint8Array[]) => {
    const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  switch (m.k) {
    case "flip": {
      if (n === 0) return cur;
      const o = cur.slice();
      o[m.pos % n] ^= 1 << m.bit;
      return o;
    }
    case "envByte": {
      const o = cur.slice();
      const p = m.pos % Math.min(b.envLen, n || 1);
      if (p < n) o[p] = m.val;
      return o;
    }
    case "chunkFlip": {
      const [s, e] = chunkSpan(b, m.chunk % b.chunkCount);
      const o = cur.slice();
      const p = s + (m.off % (e - s));
      if (p < n) o[p] ^= 1 << m.bit;
      return o;
    }
    case "insert": {
      const p = m.pos % (n + 1);
      return cat(cur.subarray(0, p), new Uint8Array([m.val]), cur.subarray(p));
    }
    case "delete": {
      const p = m.pos % (n + 1);
      return cat(cur.subarray(0, p), cur.subarray(Math.min(n, p + m.len)));
    }
    case "truncate":
      return cur.slice(0, m.len % (n + 1));
    case "append":
      return cat(cur, new Uint8Array(m.bytes));
    case "swap": {
      const i = m.i % b.chunkCount;
      let j = m.j % b.chunkCount;
      if (j === i) j = (i + 1) % b.chunkCount;
      const [lo, hi] = i < j ? [i, j] : [j, i];
      const [s1, e1] = chunkSpan(b, lo);
      const [s2, e2] = chunkSpan(b, hi);
      if (e2 > n) return cur;
      return cat(cur.subarray(0, s1), cur.subarray(s2, e2), cur.subarray(e1, s2), cur.subarray(s1, e1), cur.subarray(e2));
    }
    case "dup": {
      const [s, e] = chunkSpan(b, m.i % b.chunkCount);
      if (e > n) return cur;
      return cat(cur.subarray(0, e), cur.subarray(s, e), cur.subarray(e));
    }
    case "drop": {
      const [s, e] = chunkSpan(b, m.i % b.chunkCount);
      if (e > n) return cur;
      return cat(cur.subarray(0, s), cur.subarray(e));
    }
  }
}

interface FuzzSpec {
  base: number;
  muts: Mut[];
  splits: number[];
  policy: { minSeq: number; threshold: number; now: number; maxChunk: number; retired: number; minEpoch: number; wrongClass: boolean };
}

// Policies: mostly the device the bundle is meant for, sometimes one knob changed.
const policyArb = fc.oneof(
  { weight: 7, arbitrary: fc.constant({ minSeq: 0, threshold: 0, now: NOW, maxChunk: 4096, retired: 0, minEpoch: 0, wrongClass: false }) },
  {
    weight: 3,
    arbitrary: fc.record({
      minSeq: fc.constantFrom(0, 5, 6, 9, 10),
      threshold: fc.constantFrom(0, 1, 2, 3),
      now: fc.constantFrom(NOW, -1, NOW + 5000, NOW - 5000),
      maxChunk: fc.constantFrom(4096, 256, 512, 65536),
      retired: fc.constantFrom(0, 0, 1, 2, 4),
      minEpoch: fc.constantFrom(0, 2, 3),
      wrongClass: fc.constantFrom(false, false, false, false, true),
    }),
  }
);

function fuzzArb(bases: number): fc.Arbitrary<FuzzSpec> {
  return fc.record({
    base: fc.integer({ min: 0, max: bases - 1 }),
    muts: fc.array(mutArb, { minLength: 0, maxLength: 3 }),
    splits: fc.array(fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 1400 })), { minLength: 1, maxLength: 6 }),
    policy: policyArb,
  });
}

function fuzzCase(bases: Base[], s: FuzzSpec, i: number): Case {
  const b = bases[s.base];
  let bundle = b.bundle;
  for (const m of s.muts) bundle = applyMut(b, bundle, m);
  const p = s.policy;
  return {
    name: `fuzz ${b.name}`,
    bundle,
    policy: {
      roots: [root0.publicKey, root1.publicKey, root2.publicKey],
      retired: p.retired,
      vendor: VENDOR,
      cls: p.wrongClass ? classUuid(VENDOR, "sensor-v4") : CLASS,
      minSeq: p.minSeq,
      minEpoch: p.minEpoch,
      threshold: p.threshold === 0 ? b.threshold : p.threshold,
      now: p.now,
      maxChunk: p.maxChunk,
    },
    splits: s.splits,
    detail: `case ${i}, mutations ${JSON.stringify(s.muts)}, policy ${JSON.stringify(p)}`,
  };
}

// ------------------------------------------------------------------ tests

describe("differential: host verifier = core on Node = ES5 core on duk", () => {
  let bases: Base[] = [];

  beforeAll(async () => {
    coreJs = await emitCore();
    expect(coreJs).toContain("fwsealCore");
    bases = await makeBases();
  });

  it("the golden vectors and the conformance fixtures: same verdict, reason and chunk everywhere, as expected", async () => {
    const rnd = mulberry32(SEED);
    const cases = [...vectorCases(rnd), ...(await fixtureCases(rnd))];
    expect(cases.length).toBeGreaterThan(58);
    const { mismatches, verdicts } = await compareAll(cases, "corpus");
    expect(mismatches, mismatches.join("\n")).toEqual([]);
    // The corpus exercises acceptance and a wide range of rejection reasons.
    const reasons = new Set(verdicts.map((v) => v.reason));
    expect(reasons.size).toBeGreaterThanOrEqual(18);
    expect(verdicts.filter((v) => v.valid).length).toBeGreaterThanOrEqual(10);
  });

  it("BUILD's conformance runner (fwseal device-conformance --engine duk) agrees on every golden vector", async () => {
    const dir = path.join(REPO, "formats/vectors");
    const index = JSON.parse(readFileSync(path.join(dir, "index.json"), "utf8")) as VectorIndex;
    const coreDir = mkdtempSync(path.join(tmpdir(), "fwseal-diff-core-"));
    try {
      const coreFile = path.join(coreDir, "fwseal-core.js");
      writeFileSync(coreFile, coreJs);
      const lines = index.vectors.map((v) =>
        JSON.stringify({
          op: "verify_bundle", bundle: path.join(dir, v.file), root: v.policy.roots, vendor: v.policy.vendor, class: v.policy.class,
          retired: v.policy.retiredRoots, minSeq: v.policy.minSeq, minEpoch: v.policy.minEpoch, threshold: v.policy.threshold,
          rootThreshold: v.policy.rootThreshold, requiredAlgorithms: v.policy.requiredAlgorithms, hss: v.policy.hss, now: v.policy.now,
          ...(v.policy.log ? { logKeys: v.policy.log.logKeys, witnessKeys: v.policy.log.witnessKeys, witnessQuorum: v.policy.log.witnessQuorum } : {}),
          ...(v.policy.maxWindowBits !== undefined ? { maxWindowBits: v.policy.maxWindowBits } : {}),
          ...(v.policy.precursor ? { precursor: path.join(dir, v.policy.precursor.file), precursorChainHead: v.policy.precursor.chainHead } : {}),
        })
      );
      const out = await runConformance(lines, { engine: "duk", coreFile });
      expect(out.length).toBe(index.vectors.length);
      const rnd = mulberry32(SEED);
      const cases = vectorCases(rnd);
      for (let i = 0; i < out.length; i++) {
        const node = runNodeCore(cases[i]);
        expect(JSON.parse(out[i]), index.vectors[i].name).toEqual({ valid: node.valid, reason: node.reason, chunk: node.chunk });
        const e = index.vectors[i].expected;
        expect(JSON.parse(out[i]), index.vectors[i].name).toEqual({ valid: e.valid, reason: e.reason, chunk: e.chunk });
      }
    } finally {
      rmSync(coreDir, { recursive: true, force: true });
    }
  });

  // Espruino verifies Ed25519 in 10-28 s, so it runs the compressed and delta vectors (SPEC §15)
  // and one raw vector of each kind of payload check, streamed from their files.
  it.skipIf(ESPRUINO_SKIP_REASON !== "")(
    `the compressed and delta golden vectors on Espruino: the verdict, chunk and released chunks of the core on Node${ESPRUINO_SKIP_REASON ? ` (skipped: ${ESPRUINO_SKIP_REASON})` : ""}`,
    () => {
      buildCoreFiles();
      const dir = path.join(REPO, "formats/vectors");
      const index = JSON.parse(readFileSync(path.join(dir, "index.json"), "utf8")) as VectorIndex;
      const all = vectorCases(mulberry32(SEED));
      const picked = index.vectors
        .map((v, i) => ({ v, c: all[i] }))
        .filter(({ v }) => v.policy.maxWindowBits !== undefined || v.name === "valid-sign1-root" || v.name === "unsupported-encoding" || v.name === "chunk-data-bitflip");
      expect(picked.length).toBeGreaterThanOrEqual(13);
      const got = runAllOnEspruino(picked.map(({ v, c }) => ({
        c, file: path.join(dir, v.file), precursorFile: v.policy.precursor ? path.join(dir, v.policy.precursor.file) : path.join(dir, "images/vector-image.bin")
      })));
      picked.forEach(({ v, c }, i) => {
        const node = runNodeCore(c);
        expect(got[i], v.name).toEqual(node);
        expect({ reason: got[i].reason, chunk: got[i].chunk }, v.name).toEqual({ reason: v.expected.reason, chunk: v.expected.chunk });
      });
    },
    1_800_000
  );

  it(`fast-check mutations with random split points (${FUZZ_DUK_CASES} cases, seed ${SEED}): all three agree`, async () => {
    const specs = fc.sample(fuzzArb(bases.length), { seed: SEED, numRuns: FUZZ_DUK_CASES });
    const cases = specs.map((s, i) => fuzzCase(bases, s, i));
    // The unmutated bases, whole and split, are valid on every verifier.
    for (const b of bases) {
      cases.push({
        name: "base " + b.name,
        bundle: b.bundle,
        policy: { roots: [root0.publicKey, root1.publicKey, root2.publicKey], retired: 0, vendor: VENDOR, cls: CLASS, minSeq: 0, minEpoch: 0, threshold: b.threshold, now: NOW, maxChunk: 4096 },
        splits: [7, 300, 1],
        expect: { valid: true, reason: "OK", chunk: -1 },
      });
    }
    const { mismatches, verdicts } = await compareAll(cases, "fuzz");
    expect(mismatches, mismatches.join("\n")).toEqual([]);
    // The fuzzer reaches both the envelope checks and the chunk chain.
    const reasons = new Set(verdicts.map((v) => v.reason));
    for (const r of ["OK", "CHUNK_HASH_MISMATCH", "TRUNCATED", "TRAILING_DATA", "BAD_SIGNATURE"]) expect(reasons, r).toContain(r);
    expect(reasons.size).toBeGreaterThanOrEqual(8);
    expect(verdicts.some((v) => !v.valid && v.chunk >= 1)).toBe(true);
  });

  it(`fast-check property, ${FUZZ_NODE_RUNS} more runs with shrinking: host verifier = core on Node`, async () => {
    await fc.assert(
      fc.asyncProperty(fuzzArb(bases.length), async (s) => {
        const c = fuzzCase(bases, s, -1);
        const host = await runHost(c);
        const node = runNodeCore(c);
        expect(host).toEqual(node);
      }),
      { seed: SEED + 1, numRuns: FUZZ_NODE_RUNS }
    );
  });
});
