// The device's decoder of compressed and delta payloads (SPEC §15), in constrained TS.
//
// Fed one authenticated wire chunk at a time, it turns the encoded stream back into image
// bytes for a PayloadSink: codec 1 inflates each chunk's data as one raw deflate stream
// (inflate.ts), codec 0 takes the data as it is; encoding 1 outputs the decoded stream,
// encoding 3 interprets it as a patch of the precursor (patch.ts). All memory is allocated
// by the constructor: the ring of 2^maxWindowBits bytes plus PAYLOAD_DECODER_FIXED_BYTES.
// At a wire-chunk boundary the whole decoder state is DECODER_STATE_LEN bytes
// (saveState/loadState), so an install can resume at any chunk boundary.

import { Reason } from "../../../formats/device-safe/reasons.js";
import { Limits } from "../../../formats/device-safe/limits.js";
import { PayloadCodec, PayloadEncoding } from "../../../formats/device-safe/labels.js";
import { getU32, putU32 } from "../../../formats/device-safe/protocol.js";
import { Inflater, INFLATE_TABLE_BYTES, INFLATE_CONST_BYTES } from "./inflate.js";
import type { ByteWriter } from "./inflate.js";
import { PatchInterpreter, PATCH_BUFFER_LEN } from "./patch.js";
import type { PayloadSink } from "./sink.js";

export type { PayloadSink } from "./sink.js";

/** What the manifest says about the payload (key 6, key 10 and encoding-params, SPEC §15). */
export interface PayloadParams {
  encoding: number;
  codec: number;
  windowBits: number;
  imageSize: number;
  precursorSize: number;
}

/** Bytes of resume state at a wire-chunk boundary (Limits.DECODER_STATE_LEN): u32 LE image bytes output, then the patch interpreter's 28 (layout in patch.ts). */
export const DECODER_STATE_LEN = Limits.DECODER_STATE_LEN;
const MIN_WINDOW_BITS = Limits.MIN_WINDOW_BITS;
const MAX_WINDOW_BITS = Limits.MAX_WINDOW_BITS;

/**
 * Typed-array bytes of a decoder besides its ring: 1,696 of inflate tables, 64 of patch
 * buffer, 196 of constant tables shared by all decoders (1,956 in all).
 */
export const PAYLOAD_DECODER_FIXED_BYTES = INFLATE_TABLE_BYTES + PATCH_BUFFER_LEN + INFLATE_CONST_BYTES;

/** Typed-array bytes a PayloadDecoder(maxWindowBits) uses in all: ring + fixed part. */
export function payloadDecoderBytes(maxWindowBits: number): number {
  return (1 << clampWindowBits(maxWindowBits)) + PAYLOAD_DECODER_FIXED_BYTES;
}

function clampWindowBits(w: number): number {
  if (w < MIN_WINDOW_BITS) return MIN_WINDOW_BITS;
  if (w > MAX_WINDOW_BITS) return MAX_WINDOW_BITS;
  return w;
}

/**
 * Decodes a compressed (encoding 1) or delta (encoding 3) payload chunk by chunk. Errors are
 * sticky: after a non-OK result every later chunk()/finish() returns the same reason.
 */
export class PayloadDecoder implements ByteWriter {
  /** Image bytes output so far. */
  outPos: number;
  /** The largest window this decoder accepts (its ring is 2^maxWindowBits bytes). */
  maxWindowBits: number;
  inflater: Inflater;
  patch: PatchInterpreter;
  encoding: number;
  codec: number;
  windowBits: number;
  imageSize: number;
  started: boolean;
  failed: number;
  sink: PayloadSink | null;

  constructor(maxWindowBits: number) {
    this.maxWindowBits = clampWindowBits(maxWindowBits);
    this.inflater = new Inflater(this.maxWindowBits);
    this.patch = new PatchInterpreter();
    this.outPos = 0;
    this.encoding = 0;
    this.codec = 0;
    this.windowBits = 0;
    this.imageSize = 0;
    this.started = false;
    this.failed = Reason.OK;
    this.sink = null;
  }

  /**
   * Starts a payload. Returns Reason.OK; TOO_LARGE when windowBits exceeds maxWindowBits;
   * BAD_STATE for parameters the manifest check rejects (encoding other than 1/3, codec
   * other than 0/1, codec 0 with encoding 1, window bits below 9).
   */
  start(p: PayloadParams): number {
    this.started = false;
    const enc = p.encoding;
    const codec = p.codec;
    if (enc !== PayloadEncoding.COMPRESSED && enc !== PayloadEncoding.DELTA) return Reason.BAD_STATE;
    if (codec !== PayloadCodec.NONE && codec !== PayloadCodec.DEFLATE) return Reason.BAD_STATE;
    if (codec === PayloadCodec.NONE && enc !== PayloadEncoding.DELTA) return Reason.BAD_STATE;
    if (codec === PayloadCodec.DEFLATE) {
      if (p.windowBits > this.maxWindowBits) return Reason.TOO_LARGE;
      if (p.windowBits < MIN_WINDOW_BITS) return Reason.BAD_STATE;
    }
    this.encoding = enc;
    this.codec = codec;
    this.windowBits = p.windowBits;
    this.imageSize = p.imageSize;
    this.patch.reset(p.imageSize, p.precursorSize);
    this.outPos = 0;
    this.failed = Reason.OK;
    this.started = true;
    return Reason.OK;
  }

  /**
   * Decodes one authenticated wire chunk's data to sink. Returns Reason.OK, BAD_PAYLOAD,
   * RESULT_MISMATCH (output beyond image-size), or BAD_STATE before start().
   */
  chunk(data: Uint8Array, off: number, len: number, sink: PayloadSink): number {
    if (!this.started) return Reason.BAD_STATE;
    if (this.failed !== Reason.OK) return this.failed;
    this.sink = sink;
    let r = 0;
    if (this.codec === PayloadCodec.DEFLATE) r = this.inflater.inflate(data, off, len, this.windowBits, this);
    else r = this.write(data, off, len);
    this.sink = null;
    this.failed = r;
    return r;
  }

  /** The decoded stream's next bytes (the inflater's output, or a codec-0 chunk): to the image or the patch. */
  write(buf: Uint8Array, off: number, len: number): number {
    const sink = this.sink;
    if (sink === null) return Reason.BAD_STATE;
    if (this.encoding === PayloadEncoding.DELTA) {
      const r = this.patch.write(buf, off, len, sink);
      this.outPos = this.patch.outPos;
      return r;
    }
    if (this.outPos + len > this.imageSize) return Reason.RESULT_MISMATCH;
    sink.output(buf, off, len);
    this.outPos += len;
    return Reason.OK;
  }

  /**
   * After the last wire chunk: Reason.OK; BAD_PAYLOAD when a delta stops inside a record;
   * RESULT_MISMATCH when the image is shorter than image-size; an earlier error again.
   */
  finish(): number {
    if (!this.started) return Reason.BAD_STATE;
    if (this.failed !== Reason.OK) return this.failed;
    let r = Reason.OK;
    if (this.encoding === PayloadEncoding.DELTA && !this.patch.atRecordBoundary()) r = Reason.BAD_PAYLOAD;
    else if (this.outPos !== this.imageSize) r = Reason.RESULT_MISMATCH;
    this.failed = r;
    return r;
  }

  /** Writes the state at the current chunk boundary (DECODER_STATE_LEN bytes) to out[off ..]. */
  saveState(out: Uint8Array, off: number): void {
    putU32(out, off, this.outPos);
    if (this.encoding === PayloadEncoding.DELTA) {
      this.patch.save(out, off + 4);
      return;
    }
    for (let i = 4; i < DECODER_STATE_LEN; i++) out[off + i] = 0;
  }

  /**
   * Restores a state written by saveState for the same payload; call after start().
   * Returns Reason.OK, or BAD_STATE when not started or the record is inconsistent.
   */
  loadState(src: Uint8Array, off: number): number {
    if (!this.started) return Reason.BAD_STATE;
    const outPos = getU32(src, off);
    if (this.encoding === PayloadEncoding.DELTA) {
      const r = this.patch.load(src, off + 4, outPos);
      if (r !== Reason.OK) return r;
    } else {
      if (outPos > this.imageSize) return Reason.BAD_STATE;
      for (let i = 4; i < DECODER_STATE_LEN; i++) if (src[off + i] !== 0) return Reason.BAD_STATE;
    }
    this.outPos = outPos;
    this.failed = Reason.OK;
    return Reason.OK;
  }
}
