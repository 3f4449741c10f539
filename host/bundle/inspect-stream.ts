// inspect for a bundle that arrives as a stream (`fwseal inspect -`): the head is kept for
// inspectBytes and the rest is hashed as it streams by, so the image's (unverified) SHA-256
// comes out as it does for a file, without holding the bundle in memory.
import { Limits } from "../../formats/device-safe/limits.js";
import { inspectBytes, type InspectResult } from "./inspect.js";
import { ImageDigest } from "./image-digest.js";

/** What inspectStream reports: inspect's result and the image's SHA-256 (null where a file's would be). */
export interface StreamInspection {
  result: InspectResult;
  imageSha256: string | null;
}

/** A digest of the image behind this head's envelope; null when the head does not describe one. */
function digestFor(head: Uint8Array): { digest: ImageDigest; envelopeSize: number } | null {
  let r: InspectResult;
  try {
    r = inspectBytes(head, head.length);
  } catch {
    return null; // reported by the final inspectBytes
  }
  const m = r.manifest;
  if (m.chunkSize === null || m.imageSize === null || m.chunkSize < 1 || m.encodedPayload !== null) return null;
  return { digest: new ImageDigest({ chunkSize: m.chunkSize, imageSize: m.imageSize }), envelopeSize: r.envelopeSize };
}

/**
 * Inspects a bundle read from `input` to its end; throws as inspectBytes does. The image
 * digest is given when the stream is as long as the manifest says, as for a file.
 */
export async function inspectStream(input: AsyncIterable<Uint8Array | string>): Promise<StreamInspection> {
  const parts: Buffer[] = [];
  let kept = 0;
  let size = 0;
  let head: Uint8Array | null = null; // once MAX_ENVELOPE bytes are in
  let hashing: ReturnType<typeof digestFor> = null;
  for await (const c of input) {
    const b = typeof c === "string" ? Buffer.from(c) : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    size += b.length;
    if (head === null) {
      const take = b.subarray(0, Limits.MAX_ENVELOPE - kept);
      parts.push(Buffer.from(take));
      kept += take.length;
      if (kept < Limits.MAX_ENVELOPE) continue;
      head = new Uint8Array(Buffer.concat(parts));
      hashing = digestFor(head);
      hashing?.digest.update(head.subarray(hashing.envelopeSize));
      hashing?.digest.update(b.subarray(take.length));
    } else hashing?.digest.update(b);
  }
  if (head === null) {
    // The whole stream fits in the head.
    head = new Uint8Array(Buffer.concat(parts));
    hashing = digestFor(head);
    hashing?.digest.update(head.subarray(hashing.envelopeSize));
  }
  const result = inspectBytes(head, size);
  const sizeMatches = result.expectedBundleSize !== null && result.expectedBundleSize === size;
  return { result, imageSha256: hashing !== null && sizeMatches ? hashing.digest.hex() : null };
}
