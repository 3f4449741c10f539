// Chunk digests of one read block computed on several cores. Each chunk's hash depends only
// on its own bytes (prefix, data, the next hash it carries), so the chunks lying wholly in a
// block are split between this thread and worker threads; the caller then checks the chain
// in order with the digests (host/bundle/verify.ts). Blocks live in SharedArrayBuffer memory
// so workers read them where they are (each buffer is handed to a worker once, then named
// by number: posting a SharedArrayBuffer costs milliseconds). A digest is the prefix then
// the chunk fed to one hash object: the block is never written while workers read it, and
// no chunk is copied (copies out of shared memory are slow in V8).
import type { Worker } from "node:worker_threads";
import { createRequire } from "node:module";
import * as os from "node:os";
import { Limits, CHUNK_DOMAIN } from "../../formats/device-safe/limits.js";
import { writeChunkPrefix } from "../../formats/device-safe/chunk-layout.js";
import { createHash } from "node:crypto";

/** One chunk to hash: chunk `index` is block[off .. off + len) (data then next hash). */
export interface DigestJob {
  index: number;
  off: number;
  len: number;
}

// The worker: the same computation as digestInto() below, on its share of the jobs.
// Plain CommonJS source evaluated by the Worker (no file to locate next to a bundle).
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const DOMAIN = Buffer.from(workerData.domain);
const prefix = Buffer.alloc(workerData.prefixLen);
DOMAIN.copy(prefix, 0);
const memory = [];
parentPort.on("message", (m) => {
  if (m.sab) {
    memory[m.mem] = Buffer.from(m.sab);
    return;
  }
  const block = memory[m.mem];
  const out = new Array(m.jobs.length / 3);
  for (let j = 0; j < m.jobs.length; j += 3) {
    const index = m.jobs[j], off = m.jobs[j + 1], len = m.jobs[j + 2];
    prefix.writeUInt32BE(index, DOMAIN.length);
    out[j / 3] = createHash("sha256").update(prefix).update(block.subarray(off, off + len)).digest("latin1");
  }
  parentPort.postMessage({ id: m.id, digests: out });
});
`;

/**
 * Cores the machine has beyond this thread's that its 1-minute load average leaves idle,
 * rounded: a core idle most of the time counts. A worker pays off only on an idle core: on a
 * busy machine the process's threads share the CPU time it gets, and a worker measured slower
 * than hashing on one thread. (Rounded down, a pipeline's own previous command, which keeps
 * the load near 1 on two cores, turned every worker off: 256 MiB pack 0.65 s instead of 0.48.)
 */
export function idleCores(): number {
  const cores = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
  return Math.max(0, Math.min(cores - 1, Math.round(cores - os.loadavg()[0])));
}

/** Worker threads worth starting now: one per idle core beyond this one (at most 3). */
export function defaultDigestThreads(): number {
  return Math.min(3, idleCores());
}

/** A Buffer backed by SharedArrayBuffer memory (workers can read it without a copy). */
export function sharedBuffer(size: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(size));
}

// node:worker_threads is loaded with the first pool: a few milliseconds that a command
// verifying a small bundle (no pool) does not pay at start-up.
function workerClass(): typeof Worker {
  return (createRequire(import.meta.url)("node:worker_threads") as typeof import("node:worker_threads")).Worker;
}

/** Computes chunk digests (32-char latin1 strings, see chunk-hash.ts) on this thread and `threads` workers. */
export class ChunkDigestPool {
  private readonly workers: Worker[];
  private readonly waiting = new Map<number, { resolve: (d: string[]) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private readonly prefix = Buffer.alloc(Limits.CHUNK_PREFIX_LEN);
  private failure: Error | null = null;
  // Shared memory already handed to the workers, and the number it goes by.
  private readonly memory = new Map<SharedArrayBuffer, number>();

  constructor(threads: number) {
    const workerData = { prefixLen: Limits.CHUNK_PREFIX_LEN, domain: Array.from(CHUNK_DOMAIN) };
    const WorkerThread = threads > 0 ? workerClass() : null;
    this.workers = Array.from({ length: threads }, () => {
      const w = new WorkerThread!(WORKER_SOURCE, { eval: true, workerData });
      w.unref(); // never keeps the process alive
      w.on("message", (m: { id: number; digests: string[] }) => {
        const p = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        p?.resolve(m.digests);
      });
      w.on("error", (e) => this.fail(e));
      return w;
    });
  }

  private fail(e: Error): void {
    this.failure = e;
    for (const p of this.waiting.values()) p.reject(e);
    this.waiting.clear();
  }

  /** Digest of one chunk on this thread (as the workers compute it). */
  private digestHere(block: Buffer, job: DigestJob): string {
    writeChunkPrefix(this.prefix, 0, job.index);
    return createHash("sha256").update(this.prefix).update(block.subarray(job.off, job.off + job.len)).digest("binary");
  }

  /** Worker threads in the pool. */
  get threads(): number {
    return this.workers.length;
  }

  /**
   * Digests of `jobs` (chunks of `block`, which must be a sharedBuffer() or a view of one),
   * in job order. Shares are contiguous runs of jobs, one per thread; this thread takes the
   * last share while the workers compute theirs.
   */
  async digest(block: Buffer, jobs: readonly DigestJob[]): Promise<string[]> {
    const per = Math.ceil(jobs.length / (this.workers.length + 1));
    const theirs = this.digestOnWorkers(block, jobs.slice(0, per * this.workers.length));
    const mine = jobs.slice(per * this.workers.length).map((j) => this.digestHere(block, j));
    return (await theirs).concat(mine);
  }

  /**
   * Digests of `jobs` computed by the workers alone (this thread stays free: the promise
   * settles when they are done), in job order; `block` as for digest(). The block must not
   * be written until the promise settles.
   */
  async digestOnWorkers(block: Buffer, jobs: readonly DigestJob[]): Promise<string[]> {
    if (this.failure) throw this.failure;
    if (jobs.length === 0) return [];
    if (this.workers.length === 0) return jobs.map((j) => this.digestHere(block, j));
    const per = Math.ceil(jobs.length / this.workers.length);
    const pending: Promise<string[]>[] = [];
    const sab = block.buffer as SharedArrayBuffer;
    let mem = this.memory.get(sab);
    if (mem === undefined) {
      mem = this.memory.size;
      this.memory.set(sab, mem);
      for (const w of this.workers) w.postMessage({ mem, sab });
    }
    const base = block.byteOffset;
    for (let w = 0; w < this.workers.length; w++) {
      const share = jobs.slice(w * per, (w + 1) * per);
      if (share.length === 0) break;
      const flat = new Array<number>(share.length * 3);
      share.forEach((j, k) => {
        flat[3 * k] = j.index;
        flat[3 * k + 1] = base + j.off;
        flat[3 * k + 2] = j.len;
      });
      const id = this.nextId++;
      pending.push(new Promise<string[]>((resolve, reject) => this.waiting.set(id, { resolve, reject })));
      this.workers[w].postMessage({ id, mem, jobs: flat });
    }
    return (await Promise.all(pending)).flat();
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
