// Atomic output files: everything is written to a temporary file in the destination's
// directory, flushed, then renamed over the destination (or hard-linked, when overwriting
// is not allowed, so that "refuse to overwrite" holds even against a concurrent writer).
// A failed or interrupted command leaves no partial output: temporaries are unlinked on
// abort and, through cleanupPendingSync(), on SIGINT/SIGTERM.
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { FwsealError, outputError } from "../errors.js";

export interface AtomicWriteOptions {
  /** File mode of the result (default 0o644; secret keys use 0o600). */
  mode?: number;
  /** Replace an existing file. Without it an existing destination is OUTPUT_EXISTS. */
  overwrite?: boolean;
  /**
   * fsync before the rename (default true). Bulk outputs (bundles, images) turn it off:
   * the rename is still atomic for readers, and the flush would cost more than the work.
   */
  fsync?: boolean;
}

const pending = new Set<string>();

/** Unlink every temporary file still in flight (for signal handlers; synchronous). */
export function cleanupPendingSync(): void {
  for (const p of pending) {
    try {
      fs.unlinkSync(p);
    } catch {
      // already gone
    }
  }
  pending.clear();
}

function tempPathFor(dest: string): string {
  const dir = path.dirname(dest);
  return path.join(dir, `.${path.basename(dest)}.${randomBytes(6).toString("hex")}.tmp`);
}

/** A file being written; becomes visible at `dest` only on commit(). */
export class AtomicFile {
  readonly dest: string;
  readonly tempPath: string;
  private handle: fsp.FileHandle | null;
  private readonly overwrite: boolean;
  private readonly mode: number;
  private readonly fsync: boolean;
  private done = false;

  private constructor(dest: string, tempPath: string, handle: fsp.FileHandle, overwrite: boolean, mode: number, fsync: boolean) {
    this.dest = dest;
    this.tempPath = tempPath;
    this.handle = handle;
    this.overwrite = overwrite;
    this.mode = mode;
    this.fsync = fsync;
  }

  static async open(dest: string, opts: AtomicWriteOptions = {}): Promise<AtomicFile> {
    const mode = opts.mode ?? 0o644;
    const overwrite = opts.overwrite ?? true;
    if (!overwrite && (await exists(dest))) throw outputError(dest, Object.assign(new Error("exists"), { code: "EEXIST" }));
    const st = await fsp.stat(dest).catch(() => null);
    if (st && st.isDirectory()) throw outputError(dest, Object.assign(new Error("dir"), { code: "EISDIR" }));
    const tmp = tempPathFor(dest);
    let handle: fsp.FileHandle;
    try {
      // O_EXCL: never follow or reuse a pre-existing path; mode applies from creation on,
      // so a secret key is never readable by others, not even for a moment.
      handle = await fsp.open(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, mode);
    } catch (e) {
      throw outputError(dest, e);
    }
    pending.add(tmp);
    return new AtomicFile(dest, tmp, handle, overwrite, mode, opts.fsync ?? true);
  }

  /** Write all of `data` at `position` (or at the current end when omitted). */
  async write(data: Uint8Array, position?: number): Promise<void> {
    if (!this.handle) throw new FwsealError("INTERNAL", "write after close");
    let off = 0;
    try {
      while (off < data.length) {
        const { bytesWritten } = await this.handle.write(data, off, data.length - off, position === undefined ? null : position + off);
        off += bytesWritten;
      }
    } catch (e) {
      throw outputError(this.dest, e);
    }
  }

  /** Flush, close, and move into place. */
  async commit(): Promise<void> {
    if (this.done || !this.handle) throw new FwsealError("INTERNAL", "commit twice");
    try {
      await this.handle.chmod(this.mode); // umask may have narrowed the mode at open
      if (this.fsync) await this.handle.sync();
      await this.handle.close();
      this.handle = null;
      if (this.overwrite) {
        await fsp.rename(this.tempPath, this.dest);
      } else {
        await fsp.link(this.tempPath, this.dest); // fails with EEXIST: no clobbering
        await fsp.unlink(this.tempPath);
      }
      pending.delete(this.tempPath);
      this.done = true;
    } catch (e) {
      await this.abort();
      throw outputError(this.dest, e);
    }
  }

  /** Discard the temporary file. Safe to call more than once. */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    if (this.handle) {
      await this.handle.close().catch(() => undefined);
      this.handle = null;
    }
    await fsp.unlink(this.tempPath).catch(() => undefined);
    pending.delete(this.tempPath);
  }
}

/** Write `data` to `dest` atomically. */
export async function writeFileAtomic(dest: string, data: Uint8Array | string, opts: AtomicWriteOptions = {}): Promise<void> {
  const f = await AtomicFile.open(dest, opts);
  try {
    await f.write(typeof data === "string" ? Buffer.from(data, "utf8") : data);
  } catch (e) {
    await f.abort();
    throw e;
  }
  await f.commit();
}

/**
 * Throw OUTPUT_UNWRITABLE (exit 5) if `dest` is the same file as one of `inputs` (same
 * device and inode, so links and different spellings of one path count): writing the
 * output would destroy an input (a key, an image, a bundle). Non-files are ignored.
 */
export function assertOutputNotInput(dest: string, inputs: readonly string[]): void {
  let d: fs.Stats;
  try {
    d = fs.statSync(dest);
  } catch {
    return; // the output does not exist yet: it cannot be an input
  }
  if (!d.isFile()) return;
  for (const i of inputs) {
    let s: fs.Stats;
    try {
      s = fs.statSync(i);
    } catch {
      continue;
    }
    if (s.isFile() && s.dev === d.dev && s.ino === d.ino) {
      throw new FwsealError("OUTPUT_UNWRITABLE", `${dest}: is also an input (${i}); refusing to overwrite it, choose another output file`);
    }
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.lstat(p);
    return true;
  } catch {
    return false;
  }
}
