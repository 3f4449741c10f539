// Compressed and delta payloads for pack (formats/SPEC.md §15): the image is encoded into the
// wire stream the chunk chain covers, and the manifest names both the wire stream (its size,
// chunk count and chain head) and the image that results (keys 6-9). Both are held in memory:
// firmware images, not the multi-GiB raw images pack streams.
import { createHash } from "node:crypto";
import { Limits } from "../../formats/device-safe/limits.js";
import { PayloadCodec, PayloadEncoding } from "../../formats/device-safe/labels.js";
import { chunkCountFor } from "../../formats/device-safe/chunk-layout.js";
import { chunkGeometry, computeChain } from "../../formats/host-only/chunk-chain.js";
import type { EncodedPayload } from "../../formats/host-only/encoding-params.js";
import { encodeChunkedDeflate } from "../payload/chunked-deflate.js";
import { diffImages } from "../payload/delta.js";
import { FwsealError } from "../errors.js";
import { chainHeadOf, sha256, type Precursor } from "./precursor.js";

/** Default deflate window: 4 KiB, which a device decodes with a 4 KiB ring (SPEC §9). */
export const DEFAULT_WINDOW_BITS = 12;

/** How pack encodes the payload. */
export interface PayloadEncodingOptions {
  /** "compressed": the image deflate-coded; "delta": a patch against `precursor`. */
  kind: "compressed" | "delta";
  /** Deflate window in bits, 9..15 (default 12); the device must decode at least this window. */
  windowBits?: number;
  /** Delta: the image the devices run, and its chain head as its own manifest names it (key 9). */
  precursor?: Precursor;
  /** Delta: deflate-code the patch (default true); false sends the patch as it is (codec none). */
  compress?: boolean;
}

/** The encoded stream and the manifest's description of it. */
export interface EncodedStream {
  wire: Uint8Array;
  params: EncodedPayload;
}

/** Encodes `image` for pack; throws FwsealError USAGE for options a device could not use. */
export async function encodePayload(image: Uint8Array, chunkSize: number, opts: PayloadEncodingOptions): Promise<EncodedStream> {
  const w = opts.windowBits ?? DEFAULT_WINDOW_BITS;
  if (!Number.isInteger(w) || w < 9 || w > 15) throw new FwsealError("USAGE", `--window-bits ${w}: must be 9..15 (a deflate window of 512 bytes to 32 KiB)`);
  let decoded: Uint8Array = image;
  let encoding: number = PayloadEncoding.COMPRESSED;
  let codec: number = PayloadCodec.DEFLATE;
  if (opts.kind === "delta") {
    const p = opts.precursor;
    if (!p) throw new FwsealError("USAGE", "a delta needs the image it applies to (--delta-from)");
    decoded = diffImages(p.image, image);
    encoding = PayloadEncoding.DELTA;
    if (opts.compress === false) codec = PayloadCodec.NONE;
  }
  const wire = codec === PayloadCodec.DEFLATE ? encodeChunkedDeflate(decoded, chunkSize, w) : decoded;
  if (wire.length < 1) throw new FwsealError("INTERNAL", "encoded payload is empty");
  const params: EncodedPayload = {
    encoding,
    wireSize: wire.length,
    wireChunkCount: chunkCountFor(wire.length, chunkSize),
    wireChainHead: await chainHeadOf(wire, chunkSize),
    codec
  };
  if (codec === PayloadCodec.DEFLATE) params.windowBits = w;
  if (encoding === PayloadEncoding.DELTA && opts.precursor) {
    params.precursorChainHead = opts.precursor.chainHead ?? (await chainHeadOf(opts.precursor.image, chunkSize));
    params.precursorSize = opts.precursor.image.length;
  }
  return { wire, params };
}

/**
 * The bundle body: wire chunk i's data followed by H_{i+1} (zeros after the last), for the
 * wire stream `wire` cut into chunks of chunkSize.
 */
export async function chainedBody(wire: Uint8Array, chunkSize: number): Promise<Uint8Array> {
  const g = chunkGeometry(wire.length, chunkSize);
  const hashes = await computeChain((o, dst, dOff, len) => dst.set(wire.subarray(o, o + len), dOff), g, sha256);
  const n = g.chunkCount;
  const body = new Uint8Array(wire.length + n * Limits.HASH_LEN);
  for (let i = 0; i < n; i++) {
    const start = i * chunkSize;
    const len = i === n - 1 ? wire.length - start : chunkSize;
    const at = i * (chunkSize + Limits.HASH_LEN);
    body.set(wire.subarray(start, start + len), at);
    if (i + 1 < n) body.set(hashes.subarray((i + 1) * Limits.HASH_LEN, (i + 2) * Limits.HASH_LEN), at + len);
  }
  return body;
}
