// A device's install decision for runners that hold a whole bundle in RAM (conformance
// drivers, differential tests, the golden vectors on every engine): the streaming verifier,
// then for a compressed or delta payload (SPEC §15) the checks an install makes. A target
// slot that is a caller-given buffer, the precursor check against a caller-given running
// image (as update/install-receiver.ts makes it against the running slot), each authenticated
// wire chunk decoded into the buffer, and after the last one the result check by the
// manifest's chain head (verifier.imageChainHead). A raw payload is only verified: its
// chunks are the image.
//
// CONSTRAINED TS. Allocation happens in createRamInstallCheck only.

import { Reason } from "../../../formats/device-safe/reasons.js";
import { Limits } from "../../../formats/device-safe/limits.js";
import { PayloadEncoding } from "../../../formats/device-safe/labels.js";
import { VerifyEvent, createBundleVerifier } from "../verify/bundle-verifier.js";
import type { BundleVerifier, VerifierConfig, ImageRead } from "../verify/bundle-verifier.js";
import { PayloadDecoder } from "./payload-decoder.js";
import type { PayloadParams } from "./payload-decoder.js";
import type { PayloadSink } from "./sink.js";
import { startPayload } from "./payload-start.js";

/**
 * push()/end() as BundleVerifier's, returning VerifyEvent values, with an encoded payload's
 * install checks folded in: CHUNK only for a wire chunk that also decoded, REJECT with
 * `reason` and `rejectChunk` (-1: envelope or result) for any refusal, DONE only after the
 * decoded image matched the manifest.
 */
export class RamInstallCheck implements PayloadSink {
  /** The streaming verifier (manifest fields valid after ENVELOPE). */
  verifier: BundleVerifier;
  /** The decoder, null when the configuration decodes nothing (maxWindowBits absent or 0). */
  decoder: PayloadDecoder | null;
  /** The target slot: an encoded payload's image is decoded into image[0 .. imageSize). */
  image: Uint8Array;
  /** The running image precursor[0 .. precursorLen) and the chain head its device records. */
  precursor: Uint8Array;
  precursorLen: number;
  precursorHead: Uint8Array;
  reason: number;
  rejectChunk: number;
  /** Bytes of the last push() taken. */
  consumed: number;
  /** Is the authenticated payload compressed or delta (decoded here)? */
  encoded: boolean;
  /** Image bytes decoded so far. */
  written: number;
  private rejected: boolean;
  private resultChecked: boolean;
  private params: PayloadParams;
  private hash: Uint8Array;
  private readImage: ImageRead;

  constructor(verifier: BundleVerifier, decoder: PayloadDecoder | null, image: Uint8Array, precursor: Uint8Array, precursorLen: number, precursorHead: Uint8Array) {
    this.verifier = verifier;
    this.decoder = decoder;
    this.image = image;
    this.precursor = precursor;
    this.precursorLen = precursorLen >= 0 && precursorLen <= precursor.length ? precursorLen : precursor.length;
    this.precursorHead = new Uint8Array(Limits.HASH_LEN);
    if (precursorHead.length >= Limits.HASH_LEN) this.precursorHead.set(precursorHead.subarray(0, Limits.HASH_LEN), 0);
    this.params = { encoding: 0, codec: 0, windowBits: 0, imageSize: 0, precursorSize: 0 };
    this.hash = new Uint8Array(Limits.HASH_LEN);
    const self = this;
    this.readImage = function (imageOffset: number, dst: Uint8Array, dstOff: number, len: number): void {
      dst.set(self.image.subarray(imageOffset, imageOffset + len), dstOff);
    };
    this.reason = Reason.OK;
    this.rejectChunk = -1;
    this.consumed = 0;
    this.encoded = false;
    this.written = 0;
    this.rejected = false;
    this.resultChecked = false;
  }

  /** Ready for another bundle with the same configuration, target and running image. */
  reset(): void {
    this.verifier.reset();
    this.reason = Reason.OK;
    this.rejectChunk = -1;
    this.consumed = 0;
    this.encoded = false;
    this.written = 0;
    this.rejected = false;
    this.resultChecked = false;
  }

  /** Feeds bundle bytes buf[off .. off + len); `consumed` says how many were taken. */
  push(buf: Uint8Array, off: number, len: number): number {
    this.consumed = 0;
    if (this.rejected) return VerifyEvent.REJECT;
    const v = this.verifier;
    const ev = v.push(buf, off, len);
    this.consumed = v.consumed;
    if (ev === VerifyEvent.ENVELOPE) return this.onEnvelope();
    if (ev === VerifyEvent.CHUNK) return this.encoded ? this.onChunk() : ev;
    if (ev === VerifyEvent.REJECT) return this.reject(v.reason, v.rejectChunk);
    if (ev === VerifyEvent.DONE) return this.checkResult();
    return ev;
  }

  /** End of input: DONE (the bundle installs) or REJECT. */
  end(): number {
    if (this.rejected) return VerifyEvent.REJECT;
    const v = this.verifier;
    const ev = v.end();
    if (ev === VerifyEvent.REJECT) return this.reject(v.reason, v.rejectChunk);
    return this.checkResult();
  }

  /** PayloadSink: decoded image bytes, in order, into the target buffer. */
  output(buf: Uint8Array, off: number, len: number): void {
    this.image.set(buf.subarray(off, off + len), this.written);
    this.written += len;
  }

  /** PayloadSink: bytes of the running image. */
  readPrecursor(pos: number, buf: Uint8Array, off: number, len: number): void {
    buf.set(this.precursor.subarray(pos, pos + len), off);
  }

  private reject(reason: number, chunk: number): number {
    this.rejected = true;
    this.reason = reason;
    this.rejectChunk = chunk;
    return VerifyEvent.REJECT;
  }

  // The envelope is authenticated: the install checks an encoded payload needs before its first chunk.
  private onEnvelope(): number {
    const v = this.verifier;
    this.encoded = v.payloadEncoding !== PayloadEncoding.RAW;
    this.written = 0;
    this.resultChecked = false;
    if (!this.encoded) return VerifyEvent.ENVELOPE;
    if (this.decoder === null) return this.reject(Reason.UNSUPPORTED_ENCODING, -1);
    if (v.imageSize > this.image.length) return this.reject(Reason.TOO_LARGE, -1);
    const rc = startPayload(v, this.decoder, this.params, this.precursorLen, this.precursorHead);
    if (rc !== Reason.OK) return this.reject(rc, -1);
    return VerifyEvent.ENVELOPE;
  }

  // An authenticated wire chunk: decode it into the target.
  private onChunk(): number {
    const v = this.verifier;
    const rc = (this.decoder as PayloadDecoder).chunk(v.chunkData, 0, v.chunkLen, this);
    if (rc !== Reason.OK) return this.reject(rc, v.chunkIndex);
    return VerifyEvent.CHUNK;
  }

  // After the last wire chunk: the patch ends at a record boundary, the image has the
  // manifest's size and chain head (checks at the end of the stream: chunk -1).
  private checkResult(): number {
    if (!this.encoded || this.resultChecked) return VerifyEvent.DONE;
    this.resultChecked = true;
    const v = this.verifier;
    let rc = (this.decoder as PayloadDecoder).finish();
    if (rc === Reason.OK) {
      v.imageChainHead(this.readImage, this.hash);
      let d = 0;
      for (let k = 0; k < Limits.HASH_LEN; k++) d |= this.hash[k] ^ v.chainHead[k];
      if (d !== 0) rc = Reason.RESULT_MISMATCH;
    }
    if (rc !== Reason.OK) return this.reject(rc, -1);
    return VerifyEvent.DONE;
  }
}

/**
 * A RamInstallCheck for `cfg` (its maxWindowBits sizes the decoder; absent or 0: none):
 * `image` is the target (an encoded payload's image must fit: else TOO_LARGE), `precursor[0
 * .. precursorLen)` the running image whose chain head the device records as `precursorHead`
 * (32 bytes; precursorLen 0: the device runs nothing a delta can apply to).
 */
export function createRamInstallCheck(cfg: VerifierConfig, image: Uint8Array, precursor: Uint8Array, precursorLen: number, precursorHead: Uint8Array): RamInstallCheck {
  const w = typeof cfg.maxWindowBits === "number" ? cfg.maxWindowBits : 0;
  const decoder = w > 0 ? new PayloadDecoder(w) : null;
  return new RamInstallCheck(createBundleVerifier(cfg), decoder, image, precursor, precursorLen, precursorHead);
}
