// What an install checks of an authenticated encoded payload before its first chunk (SPEC
// §15), shared by the install receiver (flash) and the RAM install check (runners): a decoder
// exists, a delta names the image the device runs (its size and chain head), and the decoder
// takes the manifest's parameters. Constrained TS.
import { Reason } from "../../../formats/device-safe/reasons.js";
import { PayloadEncoding } from "../../../formats/device-safe/labels.js";
import { Limits } from "../../../formats/device-safe/limits.js";
import type { BundleVerifier } from "../verify/bundle-verifier.js";
import type { PayloadDecoder, PayloadParams } from "./payload-decoder.js";

/**
 * Starts `decoder` for the payload `v` authenticated; `params` is the caller's scratch. The
 * device runs an image of runningSize bytes (0: none) whose chain head is runningHead.
 * Returns Reason.OK, or UNSUPPORTED_ENCODING, WRONG_PRECURSOR or the decoder's refusal.
 */
export function startPayload(v: BundleVerifier, decoder: PayloadDecoder | null, params: PayloadParams, runningSize: number, runningHead: Uint8Array): number {
  if (decoder === null) return Reason.UNSUPPORTED_ENCODING;
  if (v.payloadEncoding === PayloadEncoding.DELTA) {
    if (runningSize < 1 || runningSize !== v.precursorSize) return Reason.WRONG_PRECURSOR;
    let d = 0;
    for (let k = 0; k < Limits.HASH_LEN; k++) d |= v.precursorChainHead[k] ^ runningHead[k];
    if (d !== 0) return Reason.WRONG_PRECURSOR;
  }
  params.encoding = v.payloadEncoding;
  params.codec = v.codec;
  params.windowBits = v.windowBits;
  params.imageSize = v.imageSize;
  params.precursorSize = v.precursorSize;
  return decoder.start(params);
}
