// Encoding parameters of compressed and delta payloads (manifest key 11, formats/SPEC.md §15),
// host side: the typed form, its CBOR map, and reading it back. The device reads the same
// keys in device-sim/core/verify/manifest.ts; the verdict on a signed manifest is always the
// core's.
import type { Cbor, CborMap } from "./cbor-encode.js";
import { EncodingParamKey, PayloadEncoding } from "../device-safe/labels.js";
import { Limits } from "../device-safe/limits.js";

/** An encoded payload as its manifest describes it. */
export interface EncodedPayload {
  /** PayloadEncoding.COMPRESSED or PayloadEncoding.DELTA. */
  encoding: number;
  /** Bytes of the encoded stream the chunk chain covers. */
  wireSize: number;
  wireChunkCount: number;
  wireChainHead: Uint8Array;
  /** PayloadCodec.NONE (delta only) or PayloadCodec.DEFLATE. */
  codec: number;
  /** Deflate window, 9..15 bits (codec DEFLATE). */
  windowBits?: number;
  /** Delta: chain head (manifest key 9) of the image the patch applies to. */
  precursorChainHead?: Uint8Array;
  /** Delta: size of that image. */
  precursorSize?: number;
}

/** The encoding-params map of an encoded payload. */
export function encodingParamsToCbor(p: EncodedPayload): CborMap {
  const m: CborMap = new Map<number, Cbor>();
  m.set(EncodingParamKey.WIRE_SIZE, p.wireSize);
  m.set(EncodingParamKey.WIRE_CHUNK_COUNT, p.wireChunkCount);
  m.set(EncodingParamKey.WIRE_CHAIN_HEAD, p.wireChainHead);
  m.set(EncodingParamKey.CODEC, p.codec);
  if (p.windowBits !== undefined) m.set(EncodingParamKey.WINDOW_BITS, p.windowBits);
  if (p.precursorChainHead !== undefined) m.set(EncodingParamKey.PRECURSOR_CHAIN_HEAD, p.precursorChainHead);
  if (p.precursorSize !== undefined) m.set(EncodingParamKey.PRECURSOR_SIZE, p.precursorSize);
  return m;
}

/**
 * Reads the encoding parameters of a decoded manifest: null for a raw payload or when the
 * map lacks a mandatory field (the verifier names the fault; this is for description).
 */
export function encodingParamsFromCbor(encoding: number | undefined, params: CborMap | undefined): EncodedPayload | null {
  if ((encoding !== PayloadEncoding.COMPRESSED && encoding !== PayloadEncoding.DELTA) || params === undefined) return null;
  const num = (k: number): number | undefined => {
    const v = params.get(k);
    return typeof v === "number" ? v : undefined;
  };
  const hash = (k: number): Uint8Array | undefined => {
    const v = params.get(k);
    return v instanceof Uint8Array && v.length === Limits.HASH_LEN ? v : undefined;
  };
  const wireSize = num(EncodingParamKey.WIRE_SIZE);
  const wireChunkCount = num(EncodingParamKey.WIRE_CHUNK_COUNT);
  const wireChainHead = hash(EncodingParamKey.WIRE_CHAIN_HEAD);
  const codec = num(EncodingParamKey.CODEC);
  if (wireSize === undefined || wireChunkCount === undefined || wireChainHead === undefined || codec === undefined) return null;
  const p: EncodedPayload = { encoding, wireSize, wireChunkCount, wireChainHead, codec };
  const w = num(EncodingParamKey.WINDOW_BITS);
  if (w !== undefined) p.windowBits = w;
  const ph = hash(EncodingParamKey.PRECURSOR_CHAIN_HEAD);
  if (ph !== undefined) p.precursorChainHead = ph;
  const ps = num(EncodingParamKey.PRECURSOR_SIZE);
  if (ps !== undefined) p.precursorSize = ps;
  return p;
}

/** Printable codec names, by PayloadCodec value. */
export const CODEC_NAMES: readonly string[] = ["none", "deflate"];

/** The codec's name, or "unknown (n)". */
export function codecName(codec: number): string {
  return CODEC_NAMES[codec] ?? `unknown (${codec})`;
}

