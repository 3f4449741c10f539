// Exclusive lock files shared by fwseal processes: created with O_EXCL and holding
// "pid host", removed when the holder is done. A lock whose holder died (same host, no such
// process) is taken over at once, so a crash does not block the locked file for ever; a lock
// older than `staleAfterMs` is taken over too (holders on another host sharing the disk).
import * as fs from "node:fs";
import * as os from "node:os";
import { FwsealError, outputError } from "../errors.js";

/** How to wait for a lock and what to say when it stays taken. */
export interface LockOptions {
  /** How long to wait for the holder, ms. */
  waitMs: number;
  /** Take over a lock file older than this (ms), whoever holds it. */
  staleAfterMs?: number;
  /** The error when the lock is still held after waitMs; `owner` is the lock file's "pid host". */
  busy: (owner: string) => FwsealError;
  /** The file named when the lock cannot be created at all (default: the lock file). */
  errorPath?: string;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Remove the lock when its holder is gone or it is too old; true when the caller may try again at once. */
function removeIfStale(lock: string, staleAfterMs: number | undefined): boolean {
  let owner: string;
  let mtimeMs: number;
  try {
    owner = fs.readFileSync(lock, "utf8").trim();
    mtimeMs = fs.statSync(lock).mtimeMs;
  } catch {
    return true; // released meanwhile
  }
  const m = /^(\d+)(?: (.*))?$/.exec(owner);
  const deadHolder = m !== null && (m[2] === undefined || m[2] === os.hostname()) && !processAlive(Number(m[1]));
  const tooOld = staleAfterMs !== undefined && Date.now() - mtimeMs > staleAfterMs;
  if (!deadHolder && !tooOld) return false;
  try {
    fs.unlinkSync(lock);
  } catch {
    /* another waiter removed it first */
  }
  return true;
}

/** Run `fn` holding the lock file `lock` (see the file comment). */
export async function withLockFile<T>(lock: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + opts.waitMs;
  let fd: number;
  for (;;) {
    try {
      fd = fs.openSync(lock, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
      fs.writeSync(fd, `${process.pid} ${os.hostname()}\n`);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw outputError(opts.errorPath ?? lock, e);
      if (removeIfStale(lock, opts.staleAfterMs)) continue;
      if (Date.now() >= deadline) {
        let owner = "?";
        try {
          owner = fs.readFileSync(lock, "utf8").trim();
        } catch {
          /* released just now */
        }
        throw opts.busy(owner);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  try {
    return await fn();
  } finally {
    fs.closeSync(fd);
    try {
      fs.unlinkSync(lock);
    } catch {
      /* removed by hand */
    }
  }
}
