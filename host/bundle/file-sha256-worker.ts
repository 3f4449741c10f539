// The SHA-256 of a whole file, or of the image a bundle file's chunk stream carries, computed
// on a worker thread in large sequential reads while this thread does something else with the
// same file: pack hashes the image front to back there while it chains the chunks back to front
// here (host/bundle/pack.ts), and `fwseal verify` hashes a raw bundle's image there while the
// chain is checked here (host/bundle/verified-image-digest.ts), so the image digest costs no
// second pass on this thread. Starting a worker costs tens of milliseconds,
// and on a busy machine it only shares this process's CPU time, so small files, and any file
// when no core is idle, are hashed here afterwards instead (worthAWorker decides).
import type { Worker } from "node:worker_threads";
import { createRequire } from "node:module";
import { idleCores } from "./chunk-digest-pool.js";

/** Smallest file hashed on a worker thread by startFileSha256 (smaller ones: on this thread, when asked). */
export const WORKER_FILE_HASH_MIN = 16 * 1024 * 1024;

/** Bytes per read on the worker. */
const READ_BLOCK = 4 * 1024 * 1024;

// Plain CommonJS source evaluated by the Worker (no file to locate next to a bundle).
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const fs = require("node:fs");
const { createHash } = require("node:crypto");
let fd = -1;
try {
  fd = fs.openSync(workerData.path, "r");
  const buf = Buffer.allocUnsafe(workerData.block);
  const h = createHash("sha256");
  const g = workerData.chunks;
  if (!g) {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } else {
    // A chunk stream from g.start: each chunk's data, then its 32-byte link (skipped).
    let pos = g.start, left = g.imageSize, inChunk = 0, skip = 0;
    while (left > 0) {
      const n = fs.readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) throw Object.assign(new Error("bundle ends before its image"), { code: "ESHORT" });
      pos += n;
      let off = 0;
      while (off < n && left > 0) {
        if (skip > 0) {
          const k = Math.min(skip, n - off);
          skip -= k;
          off += k;
          continue;
        }
        const k = Math.min(g.chunkSize - inChunk, left, n - off);
        h.update(buf.subarray(off, off + k));
        off += k;
        left -= k;
        inChunk += k;
        if (inChunk === g.chunkSize) {
          inChunk = 0;
          skip = 32;
        }
      }
    }
  }
  parentPort.postMessage({ digest: h.digest() });
} catch (e) {
  parentPort.postMessage({ error: { message: String(e && e.message), code: e && e.code } });
} finally {
  if (fd >= 0) fs.closeSync(fd);
}
`;

/** A digest being computed: `result()` resolves to it; `cancel()` stops the work. */
export interface PendingFileSha256 {
  /** The SHA-256 of the file; rejects with the worker's error (an Error with its `code`). */
  result(): Promise<Uint8Array>;
  /** Stops the worker (after a failure elsewhere); result() is not to be awaited then. */
  cancel(): Promise<void>;
}

/**
 * Whether `size` bytes are worth a worker thread now: large enough to repay its start, and a
 * core idle (idleCores).
 */
export function worthAWorker(size: number): boolean {
  return size >= WORKER_FILE_HASH_MIN && idleCores() >= 1;
}

/**
 * Starts hashing the file at `path` (`size` bytes) on a worker thread when worthAWorker(size);
 * otherwise returns null and the caller hashes it itself.
 */
export function startFileSha256(path: string, size: number): PendingFileSha256 | null {
  return worthAWorker(size) ? fileSha256OnWorker(path) : null;
}

/** Starts hashing the file at `path` (or, with `chunks`, the image of its chunk stream) on a worker thread. */
export function fileSha256OnWorker(path: string, chunks?: { start: number; chunkSize: number; imageSize: number }): PendingFileSha256 {
  const { Worker: WorkerThread } = createRequire(import.meta.url)("node:worker_threads") as typeof import("node:worker_threads");
  const w: Worker = new WorkerThread(WORKER_SOURCE, { eval: true, workerData: { path, block: READ_BLOCK, chunks } });
  const done = new Promise<Uint8Array>((resolve, reject) => {
    w.once("message", (m: { digest?: Uint8Array; error?: { message: string; code?: string } }) => {
      if (m.digest) resolve(new Uint8Array(m.digest));
      else reject(Object.assign(new Error(m.error?.message ?? "hashing failed"), { code: m.error?.code }));
    });
    w.once("error", reject);
    w.once("exit", (code) => reject(new Error(`hashing worker exited (${code})`)));
  });
  done.catch(() => undefined); // cancel() may leave it unawaited
  return {
    result: async () => {
      try {
        return await done;
      } finally {
        void w.terminate();
      }
    },
    cancel: async () => {
      await w.terminate();
    }
  };
}
