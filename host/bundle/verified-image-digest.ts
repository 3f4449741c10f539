// The SHA-256 of the image `fwseal verify` reports with a valid verdict. For a large raw
// bundle file, a worker thread reads the file and hashes the image while this thread checks
// the chain (the second pass over the image runs on another core instead of after each
// chunk here); its digest is reported only when the verified manifest names the chunk
// geometry the worker used and the file did not change while both read it. Otherwise
// (stdin, small or encoded bundles, no idle core) the digest is taken here over the
// authenticated chunks as they pass, or, for an encoded payload, over the decoded image.
import * as fsp from "node:fs/promises";
import { createHash, type Hash } from "node:crypto";
import type { Stats } from "node:fs";
import { Limits } from "../../formats/device-safe/limits.js";
import { inspectBytes } from "./inspect.js";
import type { ChunkGeometry } from "./image-digest.js";
import { fileSha256OnWorker, worthAWorker, type PendingFileSha256 } from "./file-sha256-worker.js";
import type { VerifyHooks, VerifyResult } from "./verify.js";
import { FwsealError } from "../errors.js";

/** The image digest of one verification: pass `hooks` to the verify call, then ask `result()`. */
export class VerifiedImageDigest {
  private readonly here: Hash | null;
  /** The hooks the verify call needs for this digest (none when a worker computes it). */
  readonly hooks: Pick<VerifyHooks, "onChunk">;

  private constructor(
    private readonly file: string,
    private readonly worker: { pending: PendingFileSha256; g: ChunkGeometry; stat: Stats } | null
  ) {
    const h = worker === null ? createHash("sha256") : null;
    this.here = h;
    this.hooks = h === null ? {} : { onChunk: (_i, data) => void h.update(data) };
  }

  /**
   * Plans the digest of the bundle at `file` ("-": stdin, hashed here). `worker`: true to hash
   * a raw bundle file on a worker whatever its size and the machine's load, false never to;
   * absent, worthAWorker decides from the file size (`size` when the caller knows it: a file
   * too small for a worker is then not even opened).
   */
  static async start(file: string, opts: { worker?: boolean; size?: number } = {}): Promise<VerifiedImageDigest> {
    const never = file === "-" || opts.worker === false || (opts.worker === undefined && opts.size !== undefined && !worthAWorker(opts.size));
    return new VerifiedImageDigest(file, never ? null : await startWorker(file, opts.worker === true));
  }

  /**
   * The digest (hex) for a valid verdict `r`; null for a delta verified without its precursor
   * (its image was not decoded). Throws FwsealError INPUT_UNREADABLE when the file changed
   * while it was verified.
   */
  async result(r: VerifyResult): Promise<string | null> {
    if (r.manifest?.encodedPayload?.resultChecked === false) {
      await this.cancel();
      return null;
    }
    if (this.here !== null) return this.here.digest("hex");
    const w = this.worker!;
    const m = r.manifest;
    const same = m !== null && m.encodedPayload === null && m.chunkSize === w.g.chunkSize && m.imageSize === w.g.imageSize && r.bytes === w.stat.size;
    if (!same) {
      // A valid verdict on other geometry than the head read before: the file was replaced.
      await this.cancel();
      throw changed(this.file);
    }
    const digest = Buffer.from(await w.pending.result().catch(() => Promise.reject(changed(this.file)))).toString("hex");
    const after = await fsp.stat(this.file).catch(() => null);
    if (after === null || after.ino !== w.stat.ino || after.size !== w.stat.size || after.mtimeMs !== w.stat.mtimeMs) throw changed(this.file);
    return digest;
  }

  /** Stops the worker (a rejection, or an error before the verdict). */
  async cancel(): Promise<void> {
    await this.worker?.pending.cancel();
  }
}

function changed(file: string): FwsealError {
  return new FwsealError("INPUT_UNREADABLE", `${file}: the file changed while it was being verified; verify it again`);
}

/** A worker hashing the image of the raw bundle at `file`, or null (not raw, small, unreadable, no idle core). */
async function startWorker(file: string, always: boolean): Promise<{ pending: PendingFileSha256; g: ChunkGeometry; stat: Stats } | null> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, "r");
  } catch {
    return null; // the verification reports it
  }
  try {
    const stat = await fh.stat();
    if (!stat.isFile() || !(always || worthAWorker(stat.size))) return null;
    const head = Buffer.alloc(Math.min(stat.size, Limits.MAX_ENVELOPE));
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const v = inspectBytes(head.subarray(0, bytesRead), stat.size);
    const m = v.manifest;
    if (m.payloadEncoding !== "raw" || m.encodedPayload !== null || m.chunkSize === null || m.imageSize === null || v.expectedBundleSize !== stat.size) return null;
    const g = { envelopeSize: v.envelopeSize, chunkSize: m.chunkSize, imageSize: m.imageSize };
    return { pending: fileSha256OnWorker(file, { start: g.envelopeSize, chunkSize: g.chunkSize, imageSize: g.imageSize }), g, stat };
  } catch {
    return null; // not a bundle the head describes: the verification reports why
  } finally {
    await fh.close();
  }
}
