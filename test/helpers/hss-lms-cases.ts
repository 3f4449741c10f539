// Shared pieces of the HSS/LMS verifier tests and benchmark: node:crypto primitives, the
// stated sha256-call bound per parameter set and per signature, and mutation positions.
import { createHash } from "node:crypto";
import { createPurePrimitives, HSS_MAX_CHAIN_STEPS, lmsSignatureLength, type Primitives } from "../../device-sim/core/index.js";

/** Primitives whose sha256 is node:crypto's (Ed25519 stays the pure one). */
export function nodeSha256Primitives(): Primitives {
  return {
    sha256(buf, off, len, out) {
      out.set(createHash("sha256").update(buf.subarray(off, off + len)).digest(), 0);
    },
    ed25519Verify: createPurePrimitives().ed25519Verify,
  };
}

const HEIGHTS: Record<number, number> = { 5: 5, 6: 10, 7: 15, 8: 20, 9: 25 };

/** The most sha256 calls one LMS level with these types costs: Q, chain steps, Kc, leaf, path. */
export function lmsMaxHashCalls(lmsType: number, otsType: number): number {
  return 1 + HSS_MAX_CHAIN_STEPS[otsType - 1] + 1 + 1 + HEIGHTS[lmsType];
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
