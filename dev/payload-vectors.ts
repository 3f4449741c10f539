// Golden vectors for compressed and delta payloads (formats/SPEC.md §15): bundles whose chunk
// chain covers a wire stream (deflate per wire chunk, or a patch of the image a device runs),
// each with the decoder window of the device and, for a delta, the image it runs. Every
// bundle is signed by root1 like the raw vectors; the malformed streams are signed too, so
// only the decoder and the result check can refuse them.
//
// Deterministic: the images come from fixed labels, node:zlib's raw deflate is deterministic
// for a given Node version, the patch encoder is deterministic.
import { deflateRawSync } from "node:zlib";
import { Reason } from "../formats/device-safe/reasons.js";
import { PayloadCodec, PayloadEncoding } from "../formats/device-safe/labels.js";
import { buildEncodedBundle, type BundleOptions, type EncodedPayloadSpec } from "../formats/host-only/bundle-builder.js";
import type { EnvelopeSigner } from "../formats/host-only/cose.js";
import { encodeChunkedDeflateDetailed } from "../host/payload/chunked-deflate.js";
import { diffImages } from "../host/payload/delta.js";
import { PatchWriter } from "../host/payload/patch-format.js";
import type { VectorPolicy } from "./vectors-gen.js";

/** The device's decoder window in every payload vector (the device default, SPEC §15.5). */
export const VECTOR_WINDOW_BITS = 12;

/** What the payload vectors need from the generator. */
export interface PayloadVectorContext {
  /** Adds a vector (as the generator's add()). */
  add(name: string, description: string, bytes: Uint8Array, reason: number, chunk: number, policy: Partial<VectorPolicy>): void;
  /** Adds a file under formats/vectors/. */
  file(rel: string, bytes: Uint8Array): void;
  /** The raw vectors' image (images/vector-image.bin) and its chain head in `chunkSize` chunks. */
  image: Uint8Array;
  imageHead: Uint8Array;
  /** Deterministic image bytes from a label. */
  imageOf(label: string, size: number): Uint8Array;
  /** Chain head of an image in `chunkSize` chunks. */
  headOf(image: Uint8Array): Uint8Array;
  chunkSize: number;
  /** Manifest fields of every vector (vendor, class, sequence, version, provenance, notes). */
  options: BundleOptions;
  signer: EnvelopeSigner;
  /** The bundle of the unsupported-encoding vector (encoding 1, no encoding-params). */
  encodingWithoutParams: Uint8Array;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/**
 * A compressible image: text lines whose numbers come from the fixed image, so
 * deflate finds both back-references and literals.
 */
function compressibleImage(seedImage: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let o = 0;
  for (let line = 0; o < size; line++) {
    const digits = hex(seedImage.subarray((line * 8) % (seedImage.length - 8), ((line * 8) % (seedImage.length - 8)) + 8));
    const text = new TextEncoder().encode(`sensor-v3 calibration ${line}: ${digits}\n`);
    const n = Math.min(text.length, size - o);
    out.set(text.subarray(0, n), o);
    o += n;
  }
  return out;
}

/** The release that follows the vector image: a few bytes edited, 1,200 bytes inserted, 64 removed. */
function editedImage(old: Uint8Array, inserted: Uint8Array): Uint8Array {
  const edited = Uint8Array.from(old);
  for (let p = 300; p < 1800; p += 256) edited[p] = (edited[p] + 4) & 0xff; // moved pointers
  return new Uint8Array(Buffer.concat([edited.subarray(0, 2000), inserted, edited.subarray(2000, 4200), edited.subarray(4264)]));
}

/** Adds the payload vectors (each with its device's decoder window and running image). */
export async function addPayloadVectors(ctx: PayloadVectorContext): Promise<void> {
  const cs = ctx.chunkSize;
  const W = VECTOR_WINDOW_BITS;
  const bundle = (img: Uint8Array, wire: Uint8Array, spec: EncodedPayloadSpec) => buildEncodedBundle(img, wire, spec, { ...ctx.options, chunkSize: cs }, [ctx.signer]);
  const compressed: EncodedPayloadSpec = { encoding: PayloadEncoding.COMPRESSED, codec: PayloadCodec.DEFLATE, windowBits: W };
  const decoding = { maxWindowBits: W };

  // ---- compressed (encoding 1, codec 1)
  const cimg = compressibleImage(ctx.image, 8000);
  ctx.file("images/compressible-image.bin", cimg);
  const deflated = encodeChunkedDeflateDetailed(cimg, cs, W);
  const cwire = deflated.wire;
  if (deflated.chunks.length < 3) throw new Error("vector generator: the compressed image should take at least 3 wire chunks");
  ctx.add("valid-compressed", `compressible image (images/compressible-image.bin, 8000 bytes) as raw deflate per 1024-byte wire chunk, window ${W} (${cwire.length} wire bytes)`,
    await bundle(cimg, cwire, compressed), Reason.OK, -1, decoding);

  {
    // Wire chunk 1 starts with a block of the reserved type 3 (BFINAL 1, BTYPE 11).
    const bad = Uint8Array.from(cwire);
    bad[cs] = 0x07;
    ctx.add("compressed-corrupt-stream", "compressed payload, signed, whose wire chunk 1 starts with a deflate block of the reserved type 3",
      await bundle(cimg, bad, compressed), Reason.BAD_PAYLOAD, 1, decoding);
  }
  {
    // The host's packer fills chunks to the byte, so this stream is cut by hand: wire chunk 0
    // is the deflate stream of the first 2048 image bytes, zero-padded, its last padding byte
    // set to 1; the rest as the packer makes it.
    const head = new Uint8Array(deflateRawSync(cimg.subarray(0, 2048), { level: 9, windowBits: W }));
    if (head.length >= cs) throw new Error("vector generator: the padded chunk does not fit");
    const chunk0 = new Uint8Array(cs);
    chunk0.set(head);
    chunk0[cs - 1] = 0x01;
    const bad = new Uint8Array(Buffer.concat([chunk0, encodeChunkedDeflateDetailed(cimg.subarray(2048), cs, W).wire]));
    ctx.add("compressed-nonzero-padding", `compressed payload, signed, whose wire chunk 0 (${head.length} deflate bytes) has a non-zero last padding byte`,
      await bundle(cimg, bad, compressed), Reason.BAD_PAYLOAD, 0, decoding);
  }
  {
    // One byte of the image changed before compressing: same size, another chain head.
    const other = Uint8Array.from(cimg);
    other[3000] ^= 0x01;
    ctx.add("compressed-result-mismatch", "compressed payload, signed, that decodes to an image of the right size with one byte differing from the manifest's",
      await bundle(cimg, encodeChunkedDeflateDetailed(other, cs, W).wire, compressed), Reason.RESULT_MISMATCH, -1, decoding);
  }
  ctx.add("compressed-window-too-large", `compressed payload with window 13; the device decodes windows up to ${W}`,
    await bundle(cimg, encodeChunkedDeflateDetailed(cimg, cs, 13).wire, { ...compressed, windowBits: 13 }), Reason.TOO_LARGE, -1, decoding);
  ctx.add("codec-unknown", "compressed payload naming codec 2 (only 0 and 1 are defined)",
    await bundle(cimg, cwire, { ...compressed, codec: 2 }), Reason.UNSUPPORTED_ENCODING, -1, decoding);
  ctx.add("encoding-params-missing", `payload encoding 1 without encoding-params (key 11), on a device that decodes (window ${W})`,
    ctx.encodingWithoutParams, Reason.MALFORMED, -1, decoding);

  // ---- delta (encoding 3) against the vector image
  const precursor = { file: "images/vector-image.bin", chainHead: hex(ctx.imageHead) };
  const newImg = editedImage(ctx.image, ctx.imageOf("fwseal vector delta insert", 1200));
  ctx.file("images/delta-image.bin", newImg);
  const delta: EncodedPayloadSpec = { encoding: PayloadEncoding.DELTA, codec: PayloadCodec.DEFLATE, windowBits: W, precursorChainHead: ctx.imageHead, precursorSize: ctx.image.length };
  const dwire = encodeChunkedDeflateDetailed(diffImages(ctx.image, newImg), cs, W).wire;
  const validDelta = await bundle(newImg, dwire, delta);
  ctx.add("valid-delta", `delta from images/vector-image.bin to images/delta-image.bin (${newImg.length} bytes: pointers edited, 1200 bytes inserted, 64 removed), patch deflated, window ${W}`,
    validDelta, Reason.OK, -1, { ...decoding, precursor });
  ctx.add("delta-wrong-precursor", "the valid delta on a device that already runs its result (images/delta-image.bin)",
    validDelta, Reason.WRONG_PRECURSOR, -1, { ...decoding, precursor: { file: "images/delta-image.bin", chainHead: hex(ctx.headOf(newImg)) } });
  {
    // Patch sent as it is (codec 0): record 1 adds old[0, 1500); record 2's add range
    // [1500, 5100) leaves the 5000-byte precursor. Its header ends in wire chunk 1.
    const w = new PatchWriter();
    w.record(0, new Uint8Array(1500), new Uint8Array(0), 0);
    w.record(0, new Uint8Array(3600), new Uint8Array(0), 0);
    const patch = w.finish();
    const target = new Uint8Array(Buffer.concat([ctx.image, ctx.imageOf("fwseal vector tail", 100)]));
    const headerEnd = 5 + 1500 + 5; // each header: copy-len, add-len (2 bytes), insert-len, seek
    if (patch.length !== headerEnd + 3600 || Math.floor((headerEnd - 1) / cs) !== 1) throw new Error("vector generator: patch layout changed");
    ctx.add("delta-patch-outside-precursor", "uncompressed patch (codec 0) whose second record adds old[1500, 5100) to a 5000-byte precursor; its header ends in wire chunk 1",
      await bundle(target, patch, { encoding: PayloadEncoding.DELTA, codec: PayloadCodec.NONE, precursorChainHead: ctx.imageHead, precursorSize: ctx.image.length }),
      Reason.BAD_PAYLOAD, 1, { ...decoding, precursor });
  }
}
