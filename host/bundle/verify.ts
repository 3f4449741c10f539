// Host verification of a bundle: the device core's streaming verifier (the same code a
// device runs, so every decision is the device's) fed from a file or stream in large
// blocks, with node:crypto SHA-256. Memory is bounded by the verifier's chunk buffer and
// the read blocks, never by the image size.
import { packRoots } from "../../formats/host-only/root-slots.js";
import * as fsp from "node:fs/promises";
import { Limits } from "../../formats/device-safe/limits.js";
import { chunkDataLength, writeChunkPrefix } from "../../formats/device-safe/chunk-layout.js";
import { sha256Latin1, ZERO_HASH_LATIN1 } from "./chunk-hash.js";
import { Reason, reasonName } from "../../formats/device-safe/reasons.js";
import { vendorUuid, classUuid, parseUuid, formatUuid } from "../../formats/host-only/uuid.js";
import { createBundleVerifier, VerifyEvent, type VerifierConfig } from "../../device-sim/core/verify/bundle-verifier.js";
import { createHostPrimitives } from "./host-ed25519.js";
import { ChunkDigestPool, defaultDigestThreads, sharedBuffer } from "./chunk-digest-pool.js";
import { ChainLookahead, LOOKAHEAD_BUFFERS, type PreDigests } from "./chain-lookahead.js";
import { inspectBytes, type ManifestView, type SignerInfoView } from "./inspect.js";
import { FwsealError, inputError } from "../errors.js";
import { openInput } from "../io/input-file.js";
import { throwIfAborted } from "../io/abort.js";
import type { Primitives } from "../../device-sim/core/crypto/primitives.js";
import type { LogPolicy } from "../../device-sim/core/verify/log-proof.js";
import { PayloadEncoding } from "../../formats/device-safe/labels.js";
import { PayloadResultCheck, wrongPrecursor } from "./decode-payload.js";
import type { Precursor } from "./precursor.js";

/** Smallest image whose chunks are hashed on worker threads by default (see VerifyPolicy.hashThreads). */
export const PARALLEL_MIN_IMAGE = 32 * 1024 * 1024;

/** Bytes per read from a bundle file. */
// 1 MiB: large enough that per-read costs vanish, small enough that first-touch page
// faults on fresh buffers (measurable on VMs) stay cheap for small bundles.
export const VERIFY_BLOCK = 1024 * 1024;

/**
 * A policy's vendor or deviceClass that accepts any (the bundle's own, unchecked): the
 * library's verify functions need either a value or this, so "unchecked" is never a default.
 */
export const ANY = "*";

/** What a device trusts and enforces: root keys in slot order, vendor, class, minimum sequence and epoch, thresholds, time. */
export interface VerifyPolicy {
  /** Root public keys (32 bytes Ed25519 or 60 bytes HSS/LMS), in device slot order; 1..4. */
  roots: Uint8Array[];
  /** Bitmask of retired root slots (bit s = slot s). Default 0. */
  retiredRoots?: number;
  /** Expected vendor (domain name, UUID string or 16 bytes). Absent or ANY: the bundle's own. */
  vendor?: string | Uint8Array;
  /** Expected device class (name, UUID string or 16 bytes). Absent or ANY: the bundle's own. */
  deviceClass?: string | Uint8Array;
  /** Minimum sequence (anti-rollback). Default 0. */
  minSequence?: number;
  /** Minimum key epoch. Default 0. */
  minEpoch?: number;
  /** Distinct authorised signers (keys) required. Default 1. */
  threshold?: number;
  /**
   * Distinct root slots the counted signers must come through (root-signed: its own slot;
   * delegated: the slot that issued its certificate). Default 1. With roots held by
   * different custodians, 2 is the two-person rule (formats/SPEC.md §8.1).
   */
  rootThreshold?: number;
  /**
   * Hybrid policy: AlgorithmBits (formats/device-safe/limits.ts: ED25519 1, HSS_LMS 2) the
   * counted signers must include, one signer of each (formats/SPEC.md §8.1). Default 0: any.
   */
  requiredAlgorithms?: number;
  /**
   * Accept HSS/LMS signatures (default true). false verifies as a device built without the
   * HSS/LMS verifier, which accepts them only from HSS/LMS roots or under an HSS/LMS requirement.
   */
  hss?: boolean;
  /** Trusted time in seconds since 1970; default the host clock; null = no trusted time. */
  now?: number | null;
  /** Largest chunk size accepted (default Limits.MAX_CHUNK_SIZE). */
  maxChunkSize?: number;
  /**
   * Crypto primitives for the core. Default: node:crypto SHA-256, and node:crypto Ed25519
   * behind the SPEC §6.1 encoding checks (host-ed25519.ts: the core's verdicts, natively).
   */
  primitives?: Primitives;
  /**
   * "fast" (default): the core verifies the envelope, the chunk chain is then checked by
   * FastChain below with one node:crypto call per chunk and no copies. "core": every byte
   * goes through the core's push(). Both give the same verdict (test/unit/host-verify.test.ts).
   */
  engine?: "fast" | "core";
  /** A device log policy (formats/SPEC.md §14): the bundle must carry a valid log proof. */
  log?: LogPolicy;
  /**
   * "fast" engine: worker threads that hash the chunks of the next read block while this
   * thread checks the chain in order (same decisions; host/bundle/chain-lookahead.ts).
   * Default: defaultDigestThreads() (one per core the load average leaves idle) for images of
   * PARALLEL_MIN_IMAGE bytes or more when this thread has per-chunk work (an onChunk hook, a
   * payload decoder), none otherwise (starting a worker costs more than it saves there).
   * 0: hash on this thread only.
   */
  hashThreads?: number;
  /**
   * Compressed and delta payloads (formats/SPEC.md §15): the largest deflate window in bits a
   * device decodes (default 15, every window the format allows; 0: a device without a decoder).
   */
  maxWindowBits?: number;
  /**
   * A delta payload's precursor: the image the devices run and its chain head. Given, the
   * delta is checked against it (WRONG_PRECURSOR) and decoded, and the result checked; absent,
   * a delta's envelope and wire chain are verified and its result is not (resultChecked false).
   */
  precursor?: Precursor;
}

/** What a verdict says of a compressed or delta payload (formats/SPEC.md §15). */
export interface EncodedPayloadSummary {
  /** PayloadEncoding: 1 compressed, 3 delta. */
  encoding: number;
  wireSize: number;
  wireChunkCount: number;
  wireChainHead: string;
  /** PayloadCodec: 0 none, 1 deflate. */
  codec: number;
  windowBits: number | null;
  precursorChainHead: string | null;
  precursorSize: number | null;
  /** Was the payload decoded and the image it gives checked against the manifest (a delta only with its precursor)? */
  resultChecked: boolean;
}

/** The manifest fields a VerifyResult reports. */
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
  /** PayloadEncoding code (0 raw, 1 compressed, 3 delta); documents (verdictDoc) give the name here and this code as payloadEncodingCode. */
  payloadEncoding: number;
  /** A compressed or delta payload's wire stream and codec; null for a raw payload. */
  encodedPayload: EncodedPayloadSummary | null;
}

/** A verdict: `valid`, `reason`/`reasonName`, the failing `chunk` (null: the envelope), the manifest and signers. */
export interface VerifyResult {
  valid: boolean;
  reason: number;
  reasonName: string;
  /** Chunk index of the rejection; null for the envelope (or when valid), as in the --json documents. */
  chunk: number | null;
  /** Authenticated manifest fields (present once the envelope passed). */
  manifest: ManifestSummary | null;
  /** Signers as listed in the envelope (descriptive; null if it could not be decoded). */
  signers: SignerInfoView[] | null;
  /** The manifest as the envelope claims it, before any verdict (null if it could not be decoded): what a rejection is explained with. */
  claimedManifest: ManifestView | null;
  /**
   * Vendor/class the bundle was checked against, and whether they came from the caller; null
   * when neither the caller nor a decodable envelope named one (nothing was compared).
   */
  checkedVendor: string | null;
  checkedClass: string | null;
  vendorFromPolicy: boolean;
  classFromPolicy: boolean;
  /** Bundle bytes verified: all of them for a valid bundle; for a rejection, those before the piece of input it was found in (so that count depends on how the input was cut). */
  bytes: number;
}

/** Callbacks of the verify functions (progress, and each authenticated chunk). */
export interface VerifyHooks {
  /** Each chunk's data, once authenticated, in order. `data` is only valid during the call. */
  onChunk?: (index: number, data: Uint8Array) => void | Promise<void>;
  /** Progress in bundle bytes. */
  onProgress?: (done: number, total: number) => void;
  /** Stops verification at the next block: the promise rejects with FwsealError ABORTED. */
  signal?: AbortSignal;
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

/**
 * A root threshold must be 1..4 and at most the number of root slots, else no bundle could
 * ever pass. (Retired slots are the device's state, not a policy error: the verdict names
 * them.)
 */
export function checkRootThreshold(rootThreshold: number, rootCount: number): void {
  if (!Number.isInteger(rootThreshold) || rootThreshold < 1 || rootThreshold > Limits.MAX_ROOT_SLOTS) {
    throw new FwsealError("USAGE", `root threshold must be 1..${Limits.MAX_ROOT_SLOTS}`);
  }
  if (rootThreshold > rootCount) {
    throw new FwsealError("USAGE", `policy can never be met: root threshold ${rootThreshold} but only ${rootCount} root key(s)`);
  }
}

/** Validate a policy and build the core's VerifierConfig for the given head of the bundle. */
function makeConfig(policy: VerifyPolicy, head: Uint8Array): { cfg: VerifierConfig; signers: SignerInfoView[] | null; claimedManifest: ManifestView | null; vendorFromPolicy: boolean; classFromPolicy: boolean } {
  const roots = policy.roots;
  if (roots.length < 1 || roots.length > Limits.MAX_ROOT_SLOTS) throw new FwsealError("USAGE", `between 1 and ${Limits.MAX_ROOT_SLOTS} root keys are needed`);
  roots.forEach((r, i) => {
    if (r.length !== Limits.PUBLIC_KEY_LEN && r.length !== Limits.HSS_PUBLIC_KEY_LEN) {
      throw new FwsealError("KEY_CORRUPT", `root key ${i + 1} is ${r.length} bytes (not a 32-byte Ed25519 or 60-byte HSS/LMS key)`);
    }
  });
  const packed = packRoots(roots);
  const required = policy.requiredAlgorithms ?? 0;
  const threshold = policy.threshold ?? 1;
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > Limits.MAX_SIGNERS) throw new FwsealError("USAGE", `threshold must be 1..${Limits.MAX_SIGNERS}`);
  const rootThreshold = policy.rootThreshold ?? 1;
  checkRootThreshold(rootThreshold, roots.length);
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
  const vendorGiven = policy.vendor !== undefined && policy.vendor !== ANY;
  const classGiven = policy.deviceClass !== undefined && policy.deviceClass !== ANY;
  const vendorId = vendorGiven ? toId(policy.vendor as string | Uint8Array, "vendor") : bundleVendor;
  const classId = classGiven ? toId(policy.deviceClass as string | Uint8Array, "class", vendorId) : bundleClass;
  let now = -1;
  if (policy.now === undefined) now = Math.floor(Date.now() / 1000);
  else if (policy.now !== null) {
    if (!(Number.isSafeInteger(policy.now) && policy.now >= 0)) throw new FwsealError("USAGE", "now must be seconds since 1970");
    now = policy.now;
  }
  const cfg: VerifierConfig = {
    primitives: policy.primitives ?? createHostPrimitives(),
    roots: packed.roots,
    rootCount: roots.length,
    rootHssMask: packed.rootHssMask,
    requiredAlgorithms: required,
    hss: policy.hss ?? true,
    rootRetired: policy.retiredRoots ?? 0,
    vendorId,
    classId,
    minSequence: policy.minSequence ?? 0,
    minEpoch: policy.minEpoch ?? 0,
    threshold,
    rootThreshold,
    now,
    maxChunkSize: policy.maxChunkSize ?? Limits.MAX_CHUNK_SIZE,
    maxWindowBits: policy.maxWindowBits ?? Limits.MAX_WINDOW_BITS,
    ...(policy.log ?? {})
  };
  return { cfg, signers: info ? info.signers : null, claimedManifest: info ? info.manifest : null, vendorFromPolicy: vendorGiven, classFromPolicy: classGiven };
}

/**
 * A block of bundle bytes: data is buf[off .. off+len). Bytes buf[0 .. off) are scratch the
 * verifier may overwrite (headroom, or bytes of this block it has already consumed).
 */
export interface Block {
  buf: Buffer;
  off: number;
  len: number;
}

/** Headroom in front of every block: room for a chunk-hash prefix. */
const HEADROOM = 64;

/**
 * Blocks of a file, read ahead one block (the next read runs while this one is verified).
 * LOOKAHEAD_BUFFERS buffers in turn, each allocated on first use: a block is not rewritten
 * until three more have been yielded (ChainLookahead holds two). A failed read is an input
 * error naming `path`; nothing else is: what the caller's hooks throw reaches the caller as it is.
 */
async function* fileBlocks(fh: fsp.FileHandle, blockSize: number, path: string): AsyncGenerator<Block> {
  // Shared memory: worker threads hash chunks straight out of these (chunk-digest-pool.ts).
  const bufs: Buffer[] = [];
  let pos = 0;
  let k = 0;
  const read = (at: number) => {
    bufs[k] ??= sharedBuffer(HEADROOM + blockSize);
    const p = fh.read(bufs[k], HEADROOM, blockSize, at).then((r) => r.bytesRead);
    p.catch(() => undefined);
    return p;
  };
  let pending = read(0);
  for (;;) {
    let n: number;
    try {
      n = await pending;
    } catch (e) {
      throw inputError(path, e);
    }
    if (n === 0) return;
    const cur = bufs[k];
    pos += n;
    k = (k + 1) % LOOKAHEAD_BUFFERS;
    pending = read(pos);
    yield { buf: cur, off: HEADROOM, len: n };
  }
}

/** Blocks from any byte source, copied behind headroom into LOOKAHEAD_BUFFERS buffers in turn (the source is never modified). */
async function* copiedBlocks(src: AsyncIterable<Uint8Array>): AsyncGenerator<Block> {
  const stages: Buffer[] = [];
  let k = 0;
  for await (const b of src) {
    for (let o = 0; o < b.length; ) {
      const n = Math.min(VERIFY_BLOCK, b.length - o);
      const stage = (stages[k] ??= sharedBuffer(HEADROOM + VERIFY_BLOCK));
      k = (k + 1) % LOOKAHEAD_BUFFERS;
      stage.set(b.subarray(o, o + n), HEADROOM);
      yield { buf: stage, off: HEADROOM, len: n };
      o += n;
    }
  }
}

/**
 * SPEC §7 streaming chunk check after the core has accepted the envelope, for speed on the
 * host: each chunk is hashed where it lies in the read buffer (the 20-byte prefix is
 * written over the previous chunk's already-consumed next-hash, or headroom), with one
 * crypto.hash call. Decisions mirror BundleVerifier.finishChunk/push/end exactly:
 *   hash != expected -> CHUNK_HASH_MISMATCH at i; last chunk with non-zero next ->
 *   CHUNK_HASH_MISMATCH at i; byte after the last chunk -> TRAILING_DATA at chunkCount;
 *   end before the last chunk completes -> TRUNCATED at the incomplete chunk.
 */
class FastChain {
  reason: number = Reason.OK;
  rejectChunk = -1;
  done = false;
  private i = 0;
  private expected: string;
  private readonly carry: Buffer;
  private have = 0;
  private need: number;

  // Digests computed ahead by worker threads for some chunks of the block being fed.
  private pre: PreDigests | null = null;

  constructor(
    readonly chunkCount: number,
    readonly chunkSize: number,
    readonly imageSize: number,
    chainHead: Uint8Array,
    private readonly onChunk?: (index: number, data: Uint8Array) => void | Promise<void>
  ) {
    this.expected = Buffer.from(chainHead).toString("latin1");
    this.carry = Buffer.allocUnsafe(Limits.CHUNK_PREFIX_LEN + chunkSize + Limits.HASH_LEN);
    this.need = this.dataLen(0) + Limits.HASH_LEN;
  }

  private dataLen(i: number): number {
    return chunkDataLength(this.imageSize, this.chunkSize, this.chunkCount, i);
  }

  private reject(reason: number, chunk: number): boolean {
    this.reason = reason;
    this.rejectChunk = chunk;
    return true;
  }

  /**
   * Check the chunk at buf[s .. s+need); buf[s-20 .. s) is writable. Synchronous (no
   * promise per chunk). Returns -1 on reject, else the accepted chunk's data length.
   */
  private check(buf: Buffer, s: number): number {
    const P = Limits.CHUNK_PREFIX_LEN;
    const dl = this.need - Limits.HASH_LEN;
    const i = this.i;
    let h: string;
    const pre = this.pre;
    const k = pre === null ? -1 : i - pre.first;
    // A digest computed ahead is used only for this very chunk where it lies now.
    if (pre !== null && buf === pre.buf && k >= 0 && k < pre.digests.length && s === pre.firstOff + k * pre.slot) h = pre.digests[k];
    else {
      writeChunkPrefix(buf, s - P, i);
      h = sha256Latin1(buf.subarray(s - P, s + this.need));
    }
    if (h !== this.expected) {
      this.reject(Reason.CHUNK_HASH_MISMATCH, i);
      return -1;
    }
    const next = buf.toString("latin1", s + dl, s + dl + Limits.HASH_LEN);
    const last = i === this.chunkCount - 1;
    if (last && next !== ZERO_HASH_LATIN1) {
      this.reject(Reason.CHUNK_HASH_MISMATCH, i);
      return -1;
    }
    this.expected = next;
    if (last) {
      this.done = true;
      this.i = this.chunkCount;
    } else {
      this.i = i + 1;
      this.need = this.dataLen(i + 1) + Limits.HASH_LEN;
    }
    this.have = 0;
    return dl;
  }

  /**
   * Feed buf[off .. off+len) (buf[0 .. off) writable), with the digests computed ahead for
   * some of its chunks, if any. Returns true once rejected.
   */
  async feed(buf: Buffer, off: number, len: number, pre: PreDigests | null = null): Promise<boolean> {
    const P = Limits.CHUNK_PREFIX_LEN;
    const onChunk = this.onChunk;
    let pos = off;
    const end = off + len;
    this.pre = pre;
    while (pos < end) {
      if (this.done) return this.reject(Reason.TRAILING_DATA, this.chunkCount);
      if (this.have > 0 || end - pos < this.need || pos < P) {
        // Straddling a block boundary (or no room for the prefix): assemble in carry.
        const n = Math.min(this.need - this.have, end - pos);
        buf.copy(this.carry, P + this.have, pos, pos + n);
        this.have += n;
        pos += n;
        if (this.have === this.need) {
          const index = this.i;
          const dl = this.check(this.carry, P);
          if (dl < 0) return true;
          if (onChunk) await onChunk(index, this.carry.subarray(P, P + dl));
        }
        continue;
      }
      // Whole chunk inside this block: hash it in place.
      const s = pos;
      const index = this.i;
      pos += this.need;
      const dl = this.check(buf, s);
      if (dl < 0) return true;
      if (onChunk) await onChunk(index, buf.subarray(s, s + dl));
    }
    return false;
  }

  /** End of input. */
  end(): number {
    if (!this.done && this.reason === Reason.OK) this.reject(Reason.TRUNCATED, this.i);
    return this.reason;
  }
}

/** Verify a bundle delivered as blocks (see Block); on an error (an abort) the source is released. */
async function verifyBlockStream(blocks: AsyncIterable<Block>, policy: VerifyPolicy, hooks: VerifyHooks, totalSize: number, envelopeOnly = false): Promise<VerifyResult> {
  const pools: ChunkDigestPool[] = [];
  try {
    return await verifyBlocksWith(blocks, policy, hooks, totalSize, pools, envelopeOnly);
  } finally {
    for (const p of pools) await p.close();
  }
}

/**
 * Worker threads for the chunks of an image of `imageSize` bytes (VerifyPolicy.hashThreads).
 * By default only when this thread has per-chunk work of its own (`perChunkWork`: an onChunk
 * hook or a decoder): the workers then take the whole chain while this thread does that work.
 * Without it, hashing here alone measured faster than sharing the chunks with a worker (256 MiB:
 * 0.24 s against 0.25 s; the messages cost what the second core saves).
 */
function hashThreadsFor(policy: VerifyPolicy, imageSize: number, perChunkWork: boolean): number {
  if (policy.hashThreads !== undefined) return policy.hashThreads;
  return perChunkWork && imageSize >= PARALLEL_MIN_IMAGE ? defaultDigestThreads() : 0;
}

/** The all-zero UUID the verifier is configured with when it has no ID to compare against. */
const NO_ID = "00000000-0000-0000-0000-000000000000";

/** A checked vendor or class ID: null when it came from no caller and no decodable envelope. */
function checkedId(id: Uint8Array, fromPolicy: boolean): string | null {
  const s = formatUuid(id);
  return fromPolicy || s !== NO_ID ? s : null;
}

/** verifyBlockStream's body; the hashing pool it starts, if any, is put in `pools` (for closing). */
async function verifyBlocksWith(blocks: AsyncIterable<Block>, policy: VerifyPolicy, hooks: VerifyHooks, totalSize: number, pools: ChunkDigestPool[], envelopeOnly: boolean): Promise<VerifyResult> {
  const it = blocks[Symbol.asyncIterator]();
  try {
    return await verifyBlocksFrom(it, policy, hooks, totalSize, pools, envelopeOnly);
  } catch (e) {
    await it.return?.(undefined);
    throw e;
  }
}

async function verifyBlocksFrom(it: AsyncIterator<Block>, policy: VerifyPolicy, hooks: VerifyHooks, totalSize: number, pools: ChunkDigestPool[], envelopeOnly: boolean): Promise<VerifyResult> {
  // Collect the head: the first MAX_ENVELOPE bytes (or the whole input if shorter), copied
  // (blocks are reused buffers) behind headroom; the rest of that block is fed afterwards
  // from the block itself.
  const headParts: Buffer[] = [Buffer.alloc(HEADROOM)];
  let headLen = 0;
  let ended = false;
  let rest: Block | null = null;
  while (headLen < Limits.MAX_ENVELOPE) {
    throwIfAborted(hooks.signal, "verify");
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    const b = r.value;
    const take = Math.min(b.len, Limits.MAX_ENVELOPE - headLen);
    headParts.push(Buffer.from(b.buf.subarray(b.off, b.off + take)));
    headLen += take;
    if (take < b.len) rest = { buf: b.buf, off: b.off + take, len: b.len - take };
  }
  const head = Buffer.concat(headParts);
  const { cfg, signers, claimedManifest, vendorFromPolicy, classFromPolicy } = makeConfig(policy, head.subarray(HEADROOM, HEADROOM + Math.min(headLen, Limits.MAX_ENVELOPE)));
  const v = createBundleVerifier(cfg);
  const fastEngine = (policy.engine ?? "fast") === "fast";
  let fast: FastChain | null = null;
  let chainStart = 0; // stream offset of chunk 0

  const result: VerifyResult = {
    valid: false, reason: Reason.BAD_STATE, reasonName: "", chunk: null, manifest: null, signers, claimedManifest,
    checkedVendor: checkedId(cfg.vendorId, vendorFromPolicy), checkedClass: checkedId(cfg.classId, classFromPolicy), vendorFromPolicy, classFromPolicy, bytes: 0
  };
  const finish = (reason: number, chunk: number): VerifyResult => {
    result.reason = reason;
    result.reasonName = reasonName(reason);
    result.valid = reason === Reason.OK;
    // The core says -1 for "no chunk" (the envelope); results say null, like the documents.
    result.chunk = reason === Reason.OK || chunk < 0 ? null : chunk;
    return result;
  };
  // An encoded payload's wire chunks are decoded as they are authenticated; the caller's
  // onChunk sees the image bytes each one gives. A decoding failure stops the feed.
  let payload: PayloadResultCheck | null = null;
  let payloadFailure: { reason: number; chunk: number } | null = null;
  const userOnChunk = hooks.onChunk;
  const decodeChunk = async (index: number, data: Uint8Array): Promise<void> => {
    const check = payload as PayloadResultCheck;
    const r = check.chunk(data);
    if (r.reason !== Reason.OK) {
      payloadFailure = { reason: r.reason, chunk: index };
      throw PAYLOAD_STOP;
    }
    if (userOnChunk && r.end > r.start) await userOnChunk(index, check.image.subarray(r.start, r.end));
  };
  let onChunk = userOnChunk;

  // Feed one block; returns true when the verdict is in (REJECT).
  const feed = async (buf: Buffer, start: number, len: number, pre: PreDigests | null = null): Promise<boolean> => {
    throwIfAborted(hooks.signal, "verify");
    let off = start;
    const end = start + len;
    while (off < end) {
      if (fast) {
        let stop: boolean;
        try {
          stop = await fast.feed(buf, off, end - off, pre);
        } catch (e) {
          if (e !== PAYLOAD_STOP) throw e;
          const f = payloadFailure as unknown as { reason: number; chunk: number };
          finish(f.reason, f.chunk);
          return true;
        }
        if (stop) {
          finish(fast.reason, fast.rejectChunk);
          return true;
        }
        break;
      }
      const ev = v.push(buf, off, end - off);
      off += v.consumed;
      if (ev === VerifyEvent.CHUNK) {
        if (onChunk) {
          try {
            await onChunk(v.chunkIndex, v.chunkData.subarray(0, v.chunkLen));
          } catch (e) {
            if (e !== PAYLOAD_STOP) throw e;
            const f = payloadFailure as unknown as { reason: number; chunk: number };
            finish(f.reason, f.chunk);
            return true;
          }
        }
      } else if (ev === VerifyEvent.ENVELOPE) {
        const encoded = v.payloadEncoding !== PayloadEncoding.RAW;
        const delta = v.payloadEncoding === PayloadEncoding.DELTA;
        result.manifest = {
          vendorId: formatUuid(v.vendorId), classId: formatUuid(v.classId), sequence: v.sequence, version: v.version,
          imageSize: v.imageSize, chunkSize: v.chunkSize, chunkCount: v.chunkCount, chainHead: hex(v.chainHead),
          keyEpochFloor: v.keyEpochFloor >= 0 ? v.keyEpochFloor : null, payloadEncoding: v.payloadEncoding,
          encodedPayload: encoded
            ? {
                encoding: v.payloadEncoding, wireSize: v.wireSize, wireChunkCount: v.wireChunkCount, wireChainHead: hex(v.wireChainHead),
                codec: v.codec, windowBits: v.windowBits > 0 ? v.windowBits : null,
                precursorChainHead: delta ? hex(v.precursorChainHead) : null, precursorSize: delta ? v.precursorSize : null,
                resultChecked: !envelopeOnly && (!delta || policy.precursor !== undefined)
              }
            : null
        };
        if (envelopeOnly) {
          finish(Reason.OK, -1);
          return true;
        }
        if (delta && policy.precursor && (await wrongPrecursor(v, policy.precursor))) {
          finish(Reason.WRONG_PRECURSOR, -1);
          return true;
        }
        if (encoded) {
          if (!delta || policy.precursor) {
            payload = new PayloadResultCheck(v, policy.precursor ? policy.precursor.image : null);
            onChunk = decodeChunk;
          } else {
            onChunk = undefined; // a delta without its precursor: the wire chain only
          }
        }
        if (fastEngine) {
          fast = new FastChain(v.wireChunkCount, v.chunkSize, v.wireSize, v.wireChainHead, onChunk);
          chainStart = result.bytes + (off - start);
        }
      } else if (ev === VerifyEvent.REJECT) {
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

  if (await feed(head, HEADROOM, headLen)) return result;
  // The bytes before rest.off were copied into the head: they are scratch now.
  if (rest !== null && (await feed(rest.buf, rest.off, rest.len))) {
    await it.return?.(undefined);
    return result;
  }
  if (!ended) {
    // The chain's remaining blocks: hashed one block ahead on worker threads for a large
    // image (chain-lookahead.ts), else here as they come.
    const threads = fast ? hashThreadsFor(policy, (fast as FastChain).imageSize, onChunk !== undefined) : 0;
    let source: { next(): Promise<{ block: Block; pre: PreDigests | null } | null>; return(): Promise<void> };
    if (fast && threads > 0) {
      const pool = new ChunkDigestPool(threads);
      pools.push(pool);
      const f = fast as FastChain;
      // With per-chunk hooks this thread has their work: the workers hash every whole chunk.
      const share = onChunk ? 1 : threads / (threads + 1);
      source = new ChainLookahead(it, pool, { start: chainStart, chunkCount: f.chunkCount, chunkSize: f.chunkSize, imageSize: f.imageSize }, result.bytes, share);
    } else {
      source = {
        next: async () => {
          const r = await it.next();
          return r.done ? null : { block: r.value, pre: null };
        },
        return: async () => void (await it.return?.(undefined))
      };
    }
    for (;;) {
      const r = await source.next();
      if (r === null) break;
      if (await feed(r.block.buf, r.block.off, r.block.len, r.pre)) {
        await source.return();
        return result;
      }
    }
  }
  if (fast) {
    const rc = (fast as FastChain).end();
    if (rc === Reason.OK && payload) return finish(await (payload as PayloadResultCheck).finish(), -1);
    return finish(rc, (fast as FastChain).rejectChunk);
  }
  const ev = v.end();
  if (ev === VerifyEvent.DONE) return finish(payload ? await (payload as PayloadResultCheck).finish() : Reason.OK, -1);
  return finish(v.reason, v.rejectChunk);
}

/** Thrown through the chain check when an encoded payload's chunk does not decode (caught in verifyBlocksFrom). */
const PAYLOAD_STOP = new Error("payload rejected");

/** Verify a bundle delivered as byte blocks of any size (never modified). */
export async function verifyBlocks(blocks: AsyncIterable<Uint8Array>, policy: VerifyPolicy, hooks: VerifyHooks = {}, totalSize = -1): Promise<VerifyResult> {
  return verifyBlockStream(copiedBlocks(blocks), policy, hooks, totalSize);
}

/** Verify the bundle file at `path`. */
export async function verifyFile(path: string, policy: VerifyPolicy, hooks: VerifyHooks = {}): Promise<VerifyResult> {
  const { fh, stat: st } = await openInput(path);
  try {
    return await verifyBlockStream(fileBlocks(fh, VERIFY_BLOCK, path), policy, hooks, st.size);
  } finally {
    await fh.close();
  }
}

/**
 * The envelope of the bundle file at `path` checked exactly as a device checks it
 * (structure, signatures, trust, policy), not its chunks: `valid` means a device with this
 * policy accepts the envelope and goes on to the chain. For a bundle whose chunks pack has
 * just written from the very hashes its manifest commits to.
 */
export async function verifyEnvelopeFile(path: string, policy: VerifyPolicy): Promise<VerifyResult> {
  const { fh, stat: st } = await openInput(path);
  try {
    return await verifyBlockStream(fileBlocks(fh, VERIFY_BLOCK, path), policy, {}, st.size, true);
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
      // A stream with an encoding set yields strings; a Buffer passed as the stream, numbers.
      if (!(b instanceof Uint8Array)) throw new FwsealError("USAGE", "bundle stream must be binary: Uint8Array blocks, not " + (typeof b === "string" ? "strings (no setEncoding)" : typeof b));
      yield b;
    }
  }
  return verifyBlocks(blocks(), policy, hooks);
}
