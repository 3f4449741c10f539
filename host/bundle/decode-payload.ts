// The host's side of an encoded payload's result check (formats/SPEC.md §15): authenticated
// wire chunks go through the device core's decoder (the code a device runs, so the verdicts
// are the device's) into an in-memory image; at the end the image must have the size and the
// chain head the manifest names. A delta needs the precursor image.
import { createHash } from "node:crypto";
import { Reason } from "../../formats/device-safe/reasons.js";
import { Limits } from "../../formats/device-safe/limits.js";
import { PayloadEncoding } from "../../formats/device-safe/labels.js";
import { PayloadDecoder } from "../../device-sim/core/decode/payload-decoder.js";
import type { PayloadSink } from "../../device-sim/core/decode/sink.js";
import type { BundleVerifier } from "../../device-sim/core/verify/bundle-verifier.js";
import { chunkGeometry, computeChain } from "../../formats/host-only/chunk-chain.js";
import { chainHeadOf, type Precursor } from "./precursor.js";
import { FwsealError } from "../errors.js";

/** Largest image the host decodes in memory (an encoded payload is a firmware image). */
export const MAX_DECODED_IMAGE = 1024 * 1024 * 1024;

const sha256 = (d: Uint8Array): Uint8Array => new Uint8Array(createHash("sha256").update(d).digest());

/** Decodes an encoded payload's authenticated wire chunks and checks the image that results. */
export class PayloadResultCheck {
  /** The decoded image (complete after finish() returned OK). */
  readonly image: Uint8Array;
  private readonly dec = new PayloadDecoder(Limits.MAX_WINDOW_BITS);
  private readonly chainHead: Uint8Array;
  private readonly chunkSize: number;
  private readonly precursor: Uint8Array;
  private readonly sink: PayloadSink;
  private written = 0;

  /** For the manifest the verifier authenticated; a delta's precursor must already be checked (wrongPrecursor). */
  constructor(v: BundleVerifier, precursor: Uint8Array | null) {
    if (v.imageSize > MAX_DECODED_IMAGE) throw new FwsealError("USAGE", `encoded payload decodes to ${v.imageSize} bytes: more than the host decodes in memory (${MAX_DECODED_IMAGE})`);
    this.image = new Uint8Array(v.imageSize);
    this.chainHead = v.chainHead.slice(0, Limits.HASH_LEN);
    this.chunkSize = v.chunkSize;
    this.precursor = precursor ?? new Uint8Array(0);
    const rc = this.dec.start({ encoding: v.payloadEncoding, codec: v.codec, windowBits: v.windowBits, imageSize: v.imageSize, precursorSize: v.precursorSize });
    if (rc !== Reason.OK) throw new FwsealError("INTERNAL", `payload decoder refused parameters the verifier accepted (${rc})`);
    const self = this;
    this.sink = {
      output(b, o, n) {
        self.image.set(b.subarray(o, o + n), self.written);
        self.written += n;
      },
      readPrecursor(p, b, o, n) {
        b.set(self.precursor.subarray(p, p + n), o);
      }
    };
  }

  /** Decodes one authenticated wire chunk; returns a Reason and the image bytes it produced. */
  chunk(data: Uint8Array): { reason: number; start: number; end: number } {
    const start = this.written;
    const reason = this.dec.chunk(data, 0, data.length, this.sink);
    return { reason, start, end: this.written };
  }

  /** After the last wire chunk: OK, BAD_PAYLOAD (a partial patch record) or RESULT_MISMATCH. */
  async finish(): Promise<number> {
    const rc = this.dec.finish();
    if (rc !== Reason.OK) return rc;
    const img = this.image;
    const g = chunkGeometry(img.length, this.chunkSize);
    const hashes = await computeChain((o, dst, dOff, len) => dst.set(img.subarray(o, o + len), dOff), g, sha256);
    return Buffer.from(hashes.subarray(0, Limits.HASH_LEN)).equals(Buffer.from(this.chainHead)) ? Reason.OK : Reason.RESULT_MISMATCH;
  }
}

/**
 * SPEC §15 precursor check, as a device makes it against the image it runs: the delta names
 * `precursor`'s chain head and size. (Not a delta: always fine.)
 */
export async function wrongPrecursor(v: BundleVerifier, precursor: Precursor): Promise<boolean> {
  if (v.payloadEncoding !== PayloadEncoding.DELTA) return false;
  if (v.precursorSize !== precursor.image.length) return true;
  const head = precursor.chainHead ?? (await chainHeadOf(precursor.image, v.chunkSize));
  return !Buffer.from(v.precursorChainHead).equals(Buffer.from(head));
}
