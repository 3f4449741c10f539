// fwseal extract: verify a bundle and write its image, atomically, only if EVERYTHING
// verifies. Authenticated chunk data is staged in a temporary file next to the output;
// on any rejection or error the temporary file is deleted and nothing appears at `output`.
import { AtomicFile, assertOutputNotInput } from "../io/atomic-write.js";
import { verifyFile, type VerifyPolicy, type VerifyResult } from "./verify.js";
import { FwsealError } from "../errors.js";

const STAGE = 1024 * 1024;

/** Options of extract: the bundle, the image output, the trust policy. */
export interface ExtractOptions {
  bundle: string;
  output: string;
  policy: VerifyPolicy;
  overwrite?: boolean;
  /** fsync the image before the rename (default false). */
  fsync?: boolean;
  onProgress?: (done: number, total: number) => void;
}

/** The verdict of extract, and the image path when it was written. */
export interface ExtractResult extends VerifyResult {
  /** The image path, when written. */
  output: string | null;
}

/** Verifies a bundle and writes its image atomically only if all of it verifies; throws FwsealError on a rejection or an output problem. */
export async function extract(opts: ExtractOptions): Promise<ExtractResult> {
  assertOutputNotInput(opts.output, [opts.bundle]);
  const out = await AtomicFile.open(opts.output, { overwrite: opts.overwrite ?? true, fsync: opts.fsync ?? false });
  // Chunk data arrives as views into the verifier's buffer: copy into a staging block,
  // write whole blocks (double-buffered, so hashing continues while a block is written).
  const bufs = [Buffer.allocUnsafe(STAGE), Buffer.allocUnsafe(STAGE)];
  const writes: (Promise<void> | null)[] = [null, null];
  let k = 0;
  let fill = 0;
  let pos = 0;
  const flush = async () => {
    if (fill === 0) return;
    const p = out.write(bufs[k].subarray(0, fill), pos);
    p.catch(() => undefined);
    writes[k] = p;
    pos += fill;
    fill = 0;
    k ^= 1;
    const w = writes[k];
    if (w) await w; // the buffer we switch to must have been written out
    writes[k] = null;
  };
  let result: VerifyResult;
  try {
    result = await verifyFile(opts.bundle, opts.policy, {
      onProgress: opts.onProgress,
      onChunk: async (_i, data) => {
        let off = 0;
        while (off < data.length) {
          const n = Math.min(data.length - off, STAGE - fill);
          bufs[k].set(data.subarray(off, off + n), fill);
          fill += n;
          off += n;
          if (fill === STAGE) await flush();
        }
      }
    });
    if (result.valid && result.manifest?.encodedPayload?.resultChecked === false) {
      throw new FwsealError("USAGE", `${opts.bundle}: a delta payload; its image needs the precursor it applies to (--precursor, the bundle, raw or compressed, or the image the devices run)`);
    }
    if (result.valid) {
      await flush();
      for (const w of writes) if (w) await w;
      await out.commit();
      return { ...result, output: opts.output };
    }
  } catch (e) {
    await Promise.allSettled(writes.filter((w): w is Promise<void> => w !== null));
    await out.abort();
    throw e;
  }
  await Promise.allSettled(writes.filter((w): w is Promise<void> => w !== null));
  await out.abort();
  return { ...result, output: null };
}
