// Shared pieces of the HSS/LMS verifier tests and benchmark: node:crypto primitives, the
// stated sha256-call bound per parameter set and per signature, and mutation positions.
import { createHash } from "node:crypto";
import {
  createHssVerifier, createPurePrimitives, HSS_MAX_CHAIN_STEPS, lmsSignatureLength, reasonName, type Primitives,
} from "../../device-sim/core/index.js";
import { fromHex, hssVerifyCases, keygenVectors, readHssLmsVectors, singleLevelCases } from "./hss-lms-vectors.js";
import { derivedCases, lmsHeight } from "./lms-reference.js";

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Primitives whose sha256 is node:crypto's (Ed25519 stays the pure one). */
export function nodeSha256Primitives(): Primitives {
  return {
    sha256(buf, off, len, out) {
      out.set(createHash("sha256").update(buf.subarray(off, off + len)).digest(), 0);
    },
    ed25519Verify: createPurePrimitives().ed25519Verify,
  };
}

/** The most sha256 calls one LMS level with these types costs: Q, chain steps, Kc, leaf, path. */
export function lmsMaxHashCalls(lmsType: number, otsType: number): number {
  return 1 + HSS_MAX_CHAIN_STEPS[otsType - 1] + 1 + 1 + lmsHeight(lmsType);
}

/** The stated bound for one well-formed HSS signature: the sum over its levels (types read from key and signature). */
export function hssMaxHashCalls(pk: Uint8Array, sig: Uint8Array): number {
  const b = Buffer.from(pk), s = Buffer.from(sig);
  const levels = b.readUInt32BE(0);
  let lms = b.readUInt32BE(4), ots = b.readUInt32BE(8);
  let o = 4;
  let total = 0;
  for (let l = 0; l < levels; l++) {
    total += lmsMaxHashCalls(lms, ots);
    o += lmsSignatureLength(ots, lms);
    if (l + 1 < levels) {
      lms = s.readUInt32BE(o);
      ots = s.readUInt32BE(o + 4);
      o += 56;
    }
  }
  return total;
}

/** Positions to mutate in a buffer of `len` bytes: the first and last 48, and every `step`-th between. */
export function mutationPositions(len: number, step: number): number[] {
  const out = new Set<number>();
  for (let i = 0; i < Math.min(48, len); i++) { out.add(i); out.add(len - 1 - i); }
  for (let i = 0; i < len; i += step) out.add(i);
  return [...out].sort((a, b) => a - b);
}

/** One verification for the engine runs: hex inputs and a label. */
export interface EngineCase {
  name: string;
  pk: string;
  sig: string;
  msg: string;
}

/**
 * The cases every engine must decide like Node: the supported and unsupported verify vectors,
 * the single-level cases cut out of the RFC ones and rebuilt from lms.vec / lmots.vec (W1..W8),
 * every invalid vector, and `perSig` one-bit flips spread over each valid signature.
 */
export function engineCases(perSig: number): EngineCase[] {
  const { supported, unsupported } = hssVerifyCases();
  const out: EngineCase[] = [];
  for (const c of [...supported, ...unsupported]) out.push({ name: c.name, pk: c.fields.PublicKey, sig: c.fields.Signature, msg: c.fields.Msg });
  for (const c of [...singleLevelCases(), ...derivedCases(keygenVectors())]) out.push({ name: c.name, pk: hexOf(c.pk), sig: hexOf(c.sig), msg: hexOf(c.msg) });
  for (const c of readHssLmsVectors("hss_lms_invalid.vec")) out.push({ name: "invalid: " + c.name, pk: c.fields.PublicKey, sig: c.fields.InvalidSignature, msg: c.fields.Msg });
  for (const c of supported) {
    const sig = fromHex(c.fields.Signature);
    for (let k = 0; k < perSig; k++) {
      const pos = Math.floor((k * (sig.length - 1)) / (perSig - 1));
      const m = sig.slice();
      m[pos] ^= 1 << (k % 8);
      out.push({ name: `${c.name}: sig byte ${pos} flipped`, pk: c.fields.PublicKey, sig: hexOf(m), msg: c.fields.Msg });
    }
  }
  return out;
}

/** The Node verdict lines ("reason hashCalls") for the cases, from the TypeScript core on `prims`. */
export function nodeVerdicts(cases: EngineCase[], prims: Primitives, maxMsgLen: number): string[] {
  const v = createHssVerifier(prims, maxMsgLen);
  return cases.map((c) => {
    const pk = fromHex(c.pk), sig = fromHex(c.sig), msg = fromHex(c.msg);
    const r = v.verify(pk, 0, pk.length, sig, 0, sig.length, msg, 0, msg.length);
    return reasonName(r) + " " + v.hashCalls;
  });
}

/**
 * ES5 driver run after the core and ES5_HEX_CODEC: verifies every case with a verifier built
 * on the primitives `primsExpr` evaluates to, and prints one line "reason hashCalls" each
 * (after `mark`). The cases are embedded, or with `caseFiles` (one "pk sig msg" hex line per
 * file, see caseFileText) read one at a time through require("fs"), for engines whose
 * variable pool cannot hold them all as script text (Espruino).
 */
export function engineDriver(cases: EngineCase[], primsExpr: string, maxMsgLen: number, mark = "", caseFiles?: string[]): string {
  const read = caseFiles
    ? `var hssFiles = ${JSON.stringify(caseFiles)};
function hssCase(i) { return require("fs").readFileSync(hssFiles[i]).split(" "); }
var hssCount = hssFiles.length;`
    : `var hssRows = [${cases.map((c) => `["${c.pk}","${c.sig}","${c.msg}"]`).join(",\n")}];
function hssCase(i) { return hssRows[i]; }
var hssCount = hssRows.length;`;
  return `
var hssV = fwsealCore.createHssVerifier(${primsExpr}, ${maxMsgLen});
${read}
for (var ci = 0; ci < hssCount; ci++) {
  var row = hssCase(ci);
  var pk = fromHex(row[0]), sg = fromHex(row[1]), ms = fromHex(row[2]);
  row = undefined;
  var rc = hssV.verify(pk, 0, pk.length, sg, 0, sg.length, ms, 0, ms.length);
  print("${mark}" + fwsealCore.reasonName(rc) + " " + hssV.hashCalls);
}
`;
}

/** The text of one case file for engineDriver's `caseFiles`. */
export function caseFileText(c: EngineCase): string {
  return `${c.pk} ${c.sig} ${c.msg}`;
}
