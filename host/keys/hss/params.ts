// RFC 8554 parameter sets fwseal supports: LMS_SHA256_M32 heights 5..20 and
// LMOTS_SHA256_N32 with Winternitz widths 1, 2, 4 and 8 (n = m = 32, SHA-256).
import { FwsealError } from "../../errors.js";

/** Hash output length n = m (bytes) of every supported parameter set. */
export const HASH_LEN = 32;
/** Length of the key pair identifier I. */
export const I_LEN = 16;
/** Highest number of HSS levels fwseal generates and verifies. */
export const MAX_LEVELS = 2;

/** RFC 8554 domain separators. */
export const D_PBLC = 0x8080;
export const D_MESG = 0x8181;
export const D_LEAF = 0x8282;
export const D_INTR = 0x8383;

/** An LM-OTS parameter set (RFC 8554 §4.1, Table 1). */
export interface LmotsParams {
  type: number;
  name: string;
  /** Winternitz width in bits. */
  w: number;
  /** Number of n-byte string elements in a signature. */
  p: number;
  /** Left shift of the checksum. */
  ls: number;
  /** Bytes of an LM-OTS signature: u32 type, C, p elements. */
  sigLen: number;
}

/** An LMS parameter set (RFC 8554 §5.1, Table 2). */
export interface LmsParams {
  type: number;
  name: string;
  /** Tree height. */
  h: number;
}

function lmots(type: number, w: number, p: number, ls: number): LmotsParams {
  return { type, name: `LMOTS_SHA256_N32_W${w}`, w, p, ls, sigLen: 4 + HASH_LEN * (p + 1) };
}

const LMOTS: readonly LmotsParams[] = [lmots(1, 1, 265, 7), lmots(2, 2, 133, 6), lmots(3, 4, 67, 4), lmots(4, 8, 34, 0)];
const LMS: readonly LmsParams[] = [5, 10, 15, 20].map((h, k) => ({ type: 5 + k, name: `LMS_SHA256_M32_H${h}`, h }));

/** The LM-OTS set of a type code, or undefined for one fwseal does not support. */
export function lmotsByType(type: number): LmotsParams | undefined {
  return LMOTS.find((p) => p.type === type);
}

/** The LMS set of a type code, or undefined for one fwseal does not support. */
export function lmsByType(type: number): LmsParams | undefined {
  return LMS.find((p) => p.type === type);
}

/** The LM-OTS set of a Winternitz width (1, 2, 4, 8); USAGE error otherwise. */
export function lmotsByWidth(w: number): LmotsParams {
  const p = LMOTS.find((x) => x.w === w);
  if (p === undefined) throw new FwsealError("USAGE", `--lmots-w ${w}: the Winternitz width is 1, 2, 4 or 8`);
  return p;
}

/** The LMS set of a tree height (5, 10, 15, 20); USAGE error otherwise. */
export function lmsByHeight(h: number): LmsParams {
  const p = LMS.find((x) => x.h === h);
  if (p === undefined) throw new FwsealError("USAGE", `--lms-height ${h}: the tree height is 5, 10, 15 or 20`);
  return p;
}

/** Bytes of an LMS signature with these parameters: q, LM-OTS signature, type, path. */
export function lmsSigLen(lms: LmsParams, ots: LmotsParams): number {
  return 4 + ots.sigLen + 4 + lms.h * HASH_LEN;
}

/** Bytes of an LMS public key: LMS type, LM-OTS type, I, T[1]. */
export const LMS_PUB_LEN = 8 + I_LEN + HASH_LEN;
/** Bytes of an HSS public key: L, then the top LMS public key. */
export const HSS_PUB_LEN = 4 + LMS_PUB_LEN;
