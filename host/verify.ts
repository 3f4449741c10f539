// Host verification of a bundle: the device core's streaming verifier (the same code a
// device runs, so every decision is the device's) fed from a file or stream in large
// blocks, with node:crypto SHA-256. Memory is bounded by the verifier's chunk buffer and
// the read blocks, never by the image size.
import * as fsp from "node:fs/promises";
import { Limits } from "../formats/limits.js";
import { Reason, reasonName } from "../formats/reasons.js";
import { vendorUuid, classUuid, parseUuid, formatUuid } from "../formats/uuid.js";
import { createBundleVerifier, VerifyEvent, type VerifierConfig } from "../device-sim/core/bundle-verifier.js";
import { createNodePrimitives } from "./node-primitives.js";
import { inspectBytes, type SignerInfoView } from "./inspect.js";
import { FwsealError, inputError } from "./errors.js";
import type { Primitives } from "../device-sim/core/primitives.js";

/** Bytes per read from a bundle file. */
export const VERIFY_BLOCK = 4 * 1024 * 1024;

export interface VerifyPolicy {
  /** Root public keys (32 bytes each), in device slot order; 1..4. */
  roots: Uint8Array[];
  /** Bitmask of retired root slots (bit s = slot s). Default 0. */
  retiredRoots?: number;
  /** Expected vendor (domain name, UUID string or 16 bytes). Absent: the bundle's own. */
  vendor?: string | Uint8Array;
  /** Expected device class (name, UUID string or 16 bytes). Absent: the bundle's own. */
  deviceClass?: string | Uint8Array;
  /** Minimum sequence (anti-rollback). Default 0. */
  minSequence?: number;
  /** Minimum key epoch. Default 0. */
  minEpoch?: number;
  /** Distinct authorised signers required. Default 1. */
  threshold?: number;
  /** Trusted time in seconds since 1970; default the host clock; null = no trusted time. */
  now?: number | null;
  /** Largest chunk size accepted (default Limits.MAX_CHUNK_SIZE). */
  maxChunkSize?: number;
  /** Crypto primitives for the core (default node:crypto SHA-256 + core Ed25519). */
  primitives?: Primitives;
}

export interface ManifestSummary {
  vendorId: string;
  classId: string;
  sequence: number;
  version: string;
  imageSize: number;
  chunkSize: number;
  chunkCount: number;
  chainHead: string;
  keyEpochFloor: number | null;
  payloadEncoding: number;
}

export interface VerifyResult {
  valid: boolean;
  reason: number;
  reasonName: string;
  /** Chunk index of the rejection, -1 for the envelope (or when valid). */
  chunk: number;
  /** Authenticated manifest fields (present once the envelope passed). */
  manifest: ManifestSummary | null;
  /** Signers as listed in the envelope (descriptive; null if it could not be decoded). */
  signers: SignerInfoView[] | null;
  /** Vendor/class the bundle was checked against, and whether they came from the caller. */
  checkedVendor: string | null;
  checkedClass: string | null;
  vendorFromPolicy: boolean;
  classFromPolicy: boolean;
  /** Bundle bytes consumed. */
  bytes: number;
}

export interface VerifyHooks {
  /** Each chunk's data, once authenticated, in order. `data` is only valid during the call. */
  onChunk?: (index: number, data: Uint8Array) => void | Promise<void>;
  /** Progress in bundle bytes. */
  onProgress?: (done: number, total: number) => void;
}

function toId(v: string | Uint8Array, what: string, vendor?: Uint8Array): Uint8Array {
  if (v instanceof Uint8Array) {
    if (v.length !== Limits.UUID_LEN) throw new FwsealError("USAGE", `${what} must be 16 bytes`);
    return v;
  }
  try {
    return vendor ? classUuid(vendor, v) : vendorUuid(v);
  } catch (e) {
    throw new FwsealError("USAGE", `${what}: ${(e as Error).message}`);
  }
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

/** Validate a policy and build the core's VerifierConfig for the given head of the bundle. */
function makeConfig(policy: VerifyPolicy, head: Uint8Array): { cfg: VerifierConfig; signers: SignerInfoView[] | null; vendorFromPolicy: boolean; classFromPolicy: boolean } {
  const roots = policy.roots;
  if (roots.length < 1 || roots.length > Limits.MAX_ROOT_SLOTS) throw new FwsealError("USAGE", `between 1 and ${Limits.MAX_ROOT_SLOTS} root keys are needed`);
  const rootBytes = new Uint8Array(32 * roots.length);
  roots.forEach((r, i) => {
    if (r.length !== 32) throw new FwsealError("KEY_CORRUPT", `root key ${i + 1} is not 32 bytes`);
    rootBytes.set(r, 32 * i);
  });
  const threshold = policy.threshold ?? 1;
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > Limits.MAX_SIGNERS) throw new FwsealError("USAGE", `threshold must be 1..${Limits.MAX_SIGNERS}`);
  for (const [k, v] of [["min-seq", policy.minSequence], ["min-epoch", policy.minEpoch]] as const) {
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0)) throw new FwsealError("USAGE", `${k} must be a non-negative integer`);
  }
  // Without an explicit vendor/class the bundle's own (unverified) IDs are used, so only
  // signature, trust, rollback and integrity are checked. A decode failure here leaves zero
  // IDs: the core rejects such an envelope before the policy step anyway.
  let info: ReturnType<typeof inspectBytes> | null = null;
  try {
    info = inspectBytes(head, -1);
  } catch {
    info = null;
  }
  const zero = new Uint8Array(Limits.UUID_LEN);
  const bundleVendor = info?.manifest.vendorId ? parseUuid(info.manifest.vendorId) : zero;
  const bundleClass = info?.manifest.classId ? parseUuid(info.manifest.classId) : zero;
  const vendorId = policy.vendor !== undefined ? toId(policy.vendor, "vendor") : bundleVendor;
  const classId = policy.deviceClass !== undefined ? toId(policy.deviceClass, "class", vendorId) : bundleClass;
  let now = -1;
  if (policy.now === undefined) now = Math.floor(Date.now() / 1000);
  else if (policy.now !== null) {
    if (!(Number.isSafeInteger(policy.now) && policy.now >= 0)) throw new FwsealError("USAGE", "now must be seconds since 1970");
    now = policy.now;
  }
  const cfg: VerifierConfig = {
    primitives: policy.primitives ?? createNodePrimitives(),
    roots: rootBytes,
    rootCount: roots.length,
    rootRetired: policy.retiredRoots ?? 0,
    vendorId,
    classId,
    minSequence: policy.minSequence ?? 0,
    minEpoch: policy.minEpoch ?? 0,
    threshold,
    now,
    maxChunkSize: policy.maxChunkSize ?? Limits.MAX_CHUNK_SIZE
  };
  return { cfg, signers: info ? info.signers : null, vendorFromPolicy: policy.vendor !== undefined, classFromPolicy: policy.deviceClass !== undefined };
}

/** A source of bundle bytes: successive blocks (any sizes). */
export type ByteBlocks = AsyncIterable<Uint8Array>;

/** Blocks of a file, read ahead one block (the next read runs while this one is verified). */
async function* fileBlocks(fh: fsp.FileHandle, blockSize: number): AsyncGenerator<Uint8Array> {
  const bufs = [Buffer.allocUnsafe(blockSize), Buffer.allocUnsafe(blockSize)];
  let pos = 0;
  let k = 0;
  const read = (b: Buffer, at: number) => {
    const p = fh.read(b, 0, b.length, at).then((r) => r.bytesRead);
    p.catch(() => undefined);
    return p;
  };
  let pending = read(bufs[0], 0);
  for (;;) {
    const n = await pending;
    if (n === 0) return;
    const cur = bufs[k];
    pos += n;
    k ^= 1;
    pending = read(bufs[k], pos);
    yield cur.subarray(0, n);
  }
}

/**
 * Verify a bundle delivered as blocks of bytes. The first block(s) up to MAX_ENVELOPE bytes
 * are held back until the envelope can be described (vendor/class defaults, signer list).
 */
export async function verifyBlocks(blocks: ByteBlocks, policy: VerifyPolicy, hooks: VerifyHooks = {}, totalSize = -1): Promise<VerifyResult> {
  const it = blocks[Symbol.asyncIterator]();
  // Collect the head: at least MAX_ENVELOPE bytes (or the whole input if shorter).
  const headParts: Uint8Array[] = [];
  let headLen = 0;
  let ended = false;
  while (headLen < Limits.MAX_ENVELOPE) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    // Copy: a block may be a reused read buffer.
    headParts.push(Uint8Array.from(r.value));
    headLen += r.value.length;
  }
  const head = Buffer.concat(headParts);
  const { cfg, signers, vendorFromPolicy, classFromPolicy } = makeConfig(policy, head.subarray(0, Math.min(head.length, Limits.MAX_ENVELOPE)));
  const v = createBundleVerifier(cfg);

  const result: VerifyResult = {
    valid: false, reason: Reason.BAD_STATE, reasonName: "", chunk: -1, manifest: null, signers,
    checkedVendor: formatUuid(cfg.vendorId), checkedClass: formatUuid(cfg.classId), vendorFromPolicy, classFromPolicy, bytes: 0
  };
  const finish = (reason: number, chunk: number): VerifyResult => {
    result.reason = reason;
    result.reasonName = reasonName(reason);
    result.valid = reason === Reason.OK;
    result.chunk = reason === Reason.OK ? -1 : chunk;
    return result;
  };
  const onChunk = hooks.onChunk;

  // Feed one block; returns true when the verdict is in (REJECT).
  const feed = async (buf: Uint8Array): Promise<boolean> => {
    let off = 0;
    const len = buf.length;
    while (off < len) {
      const ev = v.push(buf, off, len - off);
      off += v.consumed;
      if (ev === VerifyEvent.CHUNK) {
        if (onChunk) await onChunk(v.chunkIndex, v.chunkData.subarray(0, v.chunkLen));
      } else if (ev === VerifyEvent.ENVELOPE) {
        result.manifest = {
          vendorId: formatUuid(v.vendorId), classId: formatUuid(v.classId), sequence: v.sequence, version: v.version,
          imageSize: v.imageSize, chunkSize: v.chunkSize, chunkCount: v.chunkCount, chainHead: hex(v.chainHead),
          keyEpochFloor: v.keyEpochFloor >= 0 ? v.keyEpochFloor : null, payloadEncoding: v.payloadEncoding
        };
      } else if (ev === VerifyEvent.REJECT) {
        result.bytes += off;
        finish(v.reason, v.rejectChunk);
        return true;
      } else if (ev === VerifyEvent.NEED_MORE && v.consumed === 0) {
        break; // defensive: never spin on a verifier that takes nothing
      }
    }
    result.bytes += len;
    hooks.onProgress?.(result.bytes, totalSize);
    return false;
  };

  if (await feed(head)) return result;
  if (!ended) {
    for (;;) {
      const r = await it.next();
      if (r.done) break;
      if (await feed(r.value)) {
        await it.return?.(undefined);
        return result;
      }
    }
  }
  const ev = v.end();
  if (ev === VerifyEvent.DONE) return finish(Reason.OK, -1);
  return finish(v.reason, v.rejectChunk);
}

/** Verify the bundle file at `path`. */
export async function verifyFile(path: string, policy: VerifyPolicy, hooks: VerifyHooks = {}): Promise<VerifyResult> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, "r");
  } catch (e) {
    throw inputError(path, e);
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw inputError(path, Object.assign(new Error(), { code: "EISDIR" }));
    return await verifyBlocks(fileBlocks(fh, VERIFY_BLOCK), policy, hooks, st.size);
  } catch (e) {
    if (e instanceof FwsealError) throw e;
    throw inputError(path, e);
  } finally {
    await fh.close();
  }
}

/** Verify a bundle held in memory. */
export async function verifyBytes(bundle: Uint8Array, policy: VerifyPolicy, hooks: VerifyHooks = {}): Promise<VerifyResult> {
  async function* one() {
    yield bundle;
  }
  return verifyBlocks(one(), policy, hooks, bundle.length);
}

/** Verify a bundle from a Node Readable (or any async iterable of byte blocks). */
export async function verifyStream(stream: AsyncIterable<Uint8Array | string>, policy: VerifyPolicy, hooks: VerifyHooks = {}): Promise<VerifyResult> {
  async function* blocks() {
    for await (const b of stream) {
      if (typeof b === "string") throw new FwsealError("USAGE", "bundle stream must be binary");
      yield b;
    }
  }
  return verifyBlocks(blocks(), policy, hooks);
}
