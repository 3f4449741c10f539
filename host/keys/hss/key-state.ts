// What keeps a stateful key file from handing out a leaf twice: an exclusive lock file
// beside the key (one signer at a time, across processes), a durable replace of the key
// file (temporary file, fsync, rename, fsync of the directory: after a crash either the old
// or the new counter is on disk, and the new one is there before any signature exists), and
// the audit log's record of the highest leaf each key has used (catches a key file restored
// from an old backup).
import * as fs from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { FwsealError, outputError } from "../../errors.js";
import { listAuditLog } from "../../audit/audit-log.js";
import { withLockFile } from "../../io/lock-file.js";

/** Lock file of a key file. */
export function lockPathOf(keyPath: string): string {
  return `${keyPath}.lock`;
}

/**
 * Run `fn` holding the key's lock file. Waits up to `waitMs` for another signer; the lock of
 * a signer that died on this host is taken over.
 */
export async function withKeyLock<T>(keyPath: string, waitMs: number, fn: () => Promise<T>): Promise<T> {
  const lock = lockPathOf(keyPath);
  return withLockFile(lock, { waitMs, busy: (owner) => new FwsealError("KEY_STATE", `${keyPath}: key is in use by process ${owner} (lock ${lock}); one signer at a time`) }, fn);
}

/**
 * Replace `dest` durably: write a temporary file (mode `mode`) in its directory, fsync it,
 * rename it over `dest`, fsync the directory so the rename itself survives a power cut.
 * `overwrite: false` refuses an existing `dest` (link instead of rename).
 */
export function replaceFileDurably(dest: string, data: string | Uint8Array, mode: number, overwrite = true): void {
  const dir = path.dirname(dest);
  const tmp = path.join(dir, `.${path.basename(dest)}.${randomBytes(6).toString("hex")}.tmp`);
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, mode);
    fs.writeFileSync(fd, data);
    fs.fchmodSync(fd, mode);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    if (overwrite) fs.renameSync(tmp, dest);
    else {
      fs.linkSync(tmp, dest);
      fs.unlinkSync(tmp);
    }
    const dfd = fs.openSync(dir, fs.constants.O_RDONLY);
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch (e) {
    if (fd !== null) fs.closeSync(fd);
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* renamed or never created */
    }
    if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new FwsealError("OUTPUT_EXISTS", `${dest}: already exists (use --force to overwrite)`);
    throw outputError(dest, e);
  }
}

/** Highest global leaf index the audit log records for this key ID, or -1 (none, or no log yet). */
export async function highestAuditedLeaf(logPath: string, keyId: string): Promise<number> {
  if (!fs.existsSync(logPath)) return -1;
  let best = -1;
  for (const r of await listAuditLog(logPath)) {
    const leaf = r.summary?.hssLeaf;
    if (typeof leaf === "number" && r.keyIds.includes(keyId) && leaf > best) best = leaf;
  }
  return best;
}
