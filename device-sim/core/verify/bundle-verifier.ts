// Streaming bundle verifier (formats/SPEC.md §7-§9). CONSTRAINED TS: runs unchanged on
// Node, Duktape and Espruino. Every buffer is allocated once in createBundleVerifier();
// push() never allocates. All input is attacker-controlled: the envelope is fully checked
// (SPEC §8 steps 1-5, in that order) before the first chunk is accepted, and each chunk is
// hashed and compared before its data is released to the caller.
//
// This file is the state machine (envelope bytes, then chunks) and the signer policy; the
// structures are decoded by envelope.ts (COSE headers, Sig_structure, root keys),
// manifest.ts and certificate.ts, on the readers and buffers allocated here.
import { Primitives } from "../crypto/primitives.js";
import { Reason } from "../../../formats/device-safe/reasons.js";
import { Limits, AlgorithmBit } from "../../../formats/device-safe/limits.js";
import { keyAlgorithmBit } from "../../../formats/device-safe/root-keys.js";
import { createHssVerifier, HssVerifier } from "../crypto/hss-lms.js";
import { CoseTag } from "../../../formats/device-safe/labels.js";
import { CborReader, CborItemScanner, CborMapWalk, MapKeys } from "../../../formats/device-safe/cbor-reader.js";
import { writeChunkPrefix, chunkDataLength } from "../../../formats/device-safe/chunk-layout.js";
import { bytesEqual, copyBytes } from "./bytes.js";
import { SignerHeaders, SignatureCheck, RootKeyTable, HeaderRules, NO_AAD, SIG_STRUCTURE_OVERHEAD } from "./envelope.js";
import { ManifestDecoder, ManifestFields } from "./manifest.js";
import { CertificateCheck } from "./certificate.js";
import { LogProofCheck, logPolicyActive, type LogPolicy } from "./log-proof.js";

export const VerifyEvent = { NEED_MORE: 0, ENVELOPE: 1, CHUNK: 2, DONE: 3, REJECT: 4 };

/** Reads len bytes of an installed image at imageOffset into dst[dstOff ..]. */
export type ImageRead = (imageOffset: number, dst: Uint8Array, dstOff: number, len: number) => void;

/** A device's trust configuration and policy (SPEC §8); the optional log policy fields (verify/log-proof.ts) make bundles require a log proof (SPEC §14). */
export interface VerifierConfig extends LogPolicy {
  primitives: Primitives;
  // root public keys, packed in slot order: 32 bytes per Ed25519 slot, 60 per HSS/LMS slot
  // (formats/device-safe/root-keys.ts); all Ed25519: rootCount * 32 bytes
  roots: Uint8Array;
  rootCount: number; // 1..4
  rootHssMask?: number; // bit s set = root slot s holds an HSS/LMS key; absent or 0: all Ed25519
  rootRetired: number; // bitmask: bit s set = slot s retired
  vendorId: Uint8Array; // 16
  classId: Uint8Array; // 16
  minSequence: number;
  minEpoch: number;
  threshold: number; // k >= 1: distinct keys required
  // r: distinct root slots the counted signers must come through (a root-signed signer
  // through its own slot, a delegated one through the slot that issued its certificate);
  // absent or < 1: 1, which any counted signer meets (SPEC §8.1)
  rootThreshold?: number;
  now: number; // seconds since 1970, or -1 = no trusted time
  maxChunkSize: number; // chunk buffer sized for this
  // Compressed and delta payloads (SPEC §15): the largest deflate window (bits, 9..15) the
  // device decodes. Absent or 0: it decodes none (encodings 1 and 3 are UNSUPPORTED_ENCODING).
  maxWindowBits?: number;
  // Hybrid policy (SPEC §8.1): AlgorithmBits the counted signers must include, at least one
  // signer of each (e.g. ED25519 | HSS_LMS); absent or 0: any algorithm.
  requiredAlgorithms?: number;
  // The boot check (SPEC §8.5): AlgorithmBits whose signatures it verifies. Absent or 0:
  // the install policy, unchanged. Else only signers of these algorithms are examined
  // (others skipped unverified) and one counted signer of each of them suffices (key and
  // root thresholds 1): e.g. HSS_LMS alone keeps a hybrid image's boot check cheap.
  bootAlgorithms?: number;
  // Accept HSS/LMS signatures (allocates the HSS/LMS verifier at creation); implied by an
  // HSS/LMS root slot or an HSS/LMS requirement. Without it alg -46 is UNSUPPORTED_ALGORITHM.
  hss?: boolean;
  // An HSS/LMS verifier to use (its maxMsgLen at least MAX_SIGNED + 64), so the verifiers of
  // one device share its scratch (SPEC §9); implies `hss`. Absent: created here if needed.
  hssVerifier?: HssVerifier | null;
}

/** The value of an optional bitmask field: 0 when absent. */
function maskOf(v: number | undefined): number {
  return typeof v === "number" ? v : 0;
}

/** Does a device with this configuration accept HSS/LMS signatures (and so need the HSS verifier)? */
export function needsHss(cfg: VerifierConfig): boolean {
  return cfg.hss === true || maskOf(cfg.rootHssMask) !== 0 || (maskOf(cfg.requiredAlgorithms) & AlgorithmBit.HSS_LMS) !== 0 ||
    (maskOf(cfg.bootAlgorithms) & AlgorithmBit.HSS_LMS) !== 0;
}

// Verifier states.
const ST_ENVELOPE = 0;
const ST_CHUNKS = 1;
const ST_DONE = 2;
const ST_REJECTED = 3;

// Signer header slots: MAX_SIGNERS envelope signers + 1 for the certificate being checked.
const CERT_SLOT = Limits.MAX_SIGNERS;

export class BundleVerifier implements ManifestFields {
  // ---- public results ----
  reason: number;
  rejectChunk: number;
  consumed: number;
  // manifest (valid after ENVELOPE; decoded by manifest.ts)
  sequence: number;
  version: string;
  imageSize: number;
  chunkSize: number;
  chunkCount: number;
  chainHead: Uint8Array;
  vendorId: Uint8Array;
  classId: Uint8Array;
  keyEpochFloor: number;
  payloadEncoding: number;
  // the wire stream the chain covers (SPEC §15; the image itself for a raw payload)
  wireSize: number;
  wireChunkCount: number;
  wireChainHead: Uint8Array;
  codec: number;
  windowBits: number;
  precursorChainHead: Uint8Array;
  precursorSize: number;
  signerCount: number; // signers in the envelope
  countedSigners: number; // distinct authorised signers that verified
  countedRoots: number; // distinct root slots those signers came through
  signerEpoch: number; // lowest certificate epoch among the counted signers, -1 none delegated
  // raw envelope (store for boot / resume)
  envelope: Uint8Array;
  envelopeLen: number;
  // chunk output (valid after CHUNK until the next push): chunkData[0 .. chunkLen), wire
  // chunk chunkIndex (of an encoded payload: encoded bytes, SPEC §15)
  chunkIndex: number;
  chunkData: Uint8Array;
  chunkLen: number;
  // chain state
  expected: Uint8Array;
  nextChunk: number;
  // whole chunk buffer: prefix (20) || data || next (32); the boot verifier reuses it
  chunkBuffer: Uint8Array;
  // false while the boot verifier borrows this instance (SPEC §7: boot skips rollback)
  checkRollback: boolean;
  // false while the boot verifier borrows this instance (SPEC §8.5: a certificate's validity
  // window is checked at install, never at boot)
  checkValidity: boolean;
  // true while the boot verifier borrows this instance: cfg.bootAlgorithms applies (SPEC §8.5)
  atBoot: boolean;
  countedAlgorithms: number; // AlgorithmBits of the counted signers
  // the HSS/LMS verifier (one per device: root statements share it), null without HSS/LMS
  hss: HssVerifier | null;

  // ---- configuration ----
  private cfg: VerifierConfig;
  private prim: Primitives;
  private maxChunk: number;
  private maxWindowBits: number;
  private rootKeys: RootKeyTable;
  private threshold: number;
  private rootThreshold: number;
  private requiredAlgs: number;
  private bootAlgs: number;
  private logProof: LogProofCheck | null; // null: no log policy

  // ---- internal state ----
  private state: number;
  private envHave: number;
  private scanner: CborItemScanner;
  private r: CborReader; // envelope structure, certificate structure
  private walk: CborMapWalk; // maps read with r
  private headers: SignerHeaders; // per signer; reads with r2 (headers, manifest)
  private manifest: ManifestDecoder; // reads with r2
  private cert: CertificateCheck; // reads with r and r3 (certificate body)
  private sigs: SignatureCheck; // Sig_structure scratch
  private hash: Uint8Array; // 32-byte SHA-256 output
  private isSign: boolean;
  private payOff: number;
  private payLen: number;
  // key IDs of the signers already counted, as offsets of their kid in the envelope
  private countedKid: Int32Array;
  private chunkHave: number;
  private chunkNeed: number; // data + 32
  private chunkFresh: boolean; // ENVELOPE just returned, no chunk byte consumed yet

  constructor(cfg: VerifierConfig) {
    this.cfg = cfg;
    this.prim = cfg.primitives;
    let mc = cfg.maxChunkSize;
    if (mc > Limits.MAX_CHUNK_SIZE) mc = Limits.MAX_CHUNK_SIZE;
    if (mc < Limits.MIN_CHUNK_SIZE) mc = Limits.MIN_CHUNK_SIZE;
    this.maxChunk = mc;
    this.maxWindowBits = typeof cfg.maxWindowBits === "number" ? cfg.maxWindowBits : 0;
    this.threshold = cfg.threshold >= 1 ? cfg.threshold : 1;
    const rt = cfg.rootThreshold;
    this.rootThreshold = typeof rt === "number" && rt >= 1 ? rt : 1;
    this.requiredAlgs = maskOf(cfg.requiredAlgorithms);
    this.bootAlgs = maskOf(cfg.bootAlgorithms);
    const hssMask = maskOf(cfg.rootHssMask);
    this.hash = new Uint8Array(Limits.HASH_LEN);
    this.rootKeys = new RootKeyTable();
    this.rootKeys.load(this.prim, cfg.roots, cfg.rootCount, hssMask, this.hash);
    this.logProof = logPolicyActive(cfg) ? new LogProofCheck(this.prim, cfg) : null;

    this.envelope = new Uint8Array(Limits.MAX_ENVELOPE);
    const given = cfg.hssVerifier;
    const withHss = needsHss(cfg) || (given !== undefined && given !== null);
    if (given !== undefined && given !== null) this.hss = given;
    else this.hss = withHss ? createHssVerifier(this.prim, Limits.MAX_SIGNED + SIG_STRUCTURE_OVERHEAD) : null;
    this.sigs = new SignatureCheck(this.prim, Limits.MAX_SIGNED, this.hss);
    this.chunkBuffer = new Uint8Array(Limits.CHUNK_PREFIX_LEN + mc + Limits.HASH_LEN);
    writeChunkPrefix(this.chunkBuffer, 0, 0);
    this.chunkData = this.chunkBuffer.subarray(Limits.CHUNK_PREFIX_LEN);
    this.expected = new Uint8Array(Limits.HASH_LEN);
    this.scanner = new CborItemScanner();
    this.r = new CborReader();
    this.walk = new CborMapWalk(this.r);
    const r2 = new CborReader();
    this.headers = new SignerHeaders(r2, Limits.MAX_SIGNERS + 1);
    this.headers.accepted = AlgorithmBit.ED25519 | (withHss ? AlgorithmBit.HSS_LMS : 0);
    this.manifest = new ManifestDecoder(r2);
    this.cert = new CertificateCheck(this.prim, this.r, new CborReader(), this.headers, CERT_SLOT, this.sigs, this.hash);
    this.countedKid = new Int32Array(Limits.MAX_SIGNERS);
    this.chainHead = new Uint8Array(Limits.HASH_LEN);
    this.wireChainHead = new Uint8Array(Limits.HASH_LEN);
    this.precursorChainHead = new Uint8Array(Limits.HASH_LEN);
    this.vendorId = new Uint8Array(Limits.UUID_LEN);
    this.classId = new Uint8Array(Limits.UUID_LEN);

    this.reason = 0;
    this.rejectChunk = -1;
    this.consumed = 0;
    this.sequence = 0;
    this.version = "";
    this.imageSize = 0;
    this.chunkSize = 0;
    this.chunkCount = 0;
    this.keyEpochFloor = -1;
    this.payloadEncoding = 0;
    this.wireSize = 0;
    this.wireChunkCount = 0;
    this.codec = 0;
    this.windowBits = 0;
    this.precursorSize = -1;
    this.signerCount = 0;
    this.countedSigners = 0;
    this.countedRoots = 0;
    this.signerEpoch = -1;
    this.envelopeLen = 0;
    this.chunkIndex = -1;
    this.chunkLen = 0;
    this.nextChunk = 0;
    this.state = ST_ENVELOPE;
    this.envHave = 0;
    this.isSign = false;
    this.payOff = 0;
    this.payLen = 0;
    this.chunkHave = 0;
    this.chunkNeed = 0;
    this.chunkFresh = false;
    this.checkRollback = true;
    this.checkValidity = true;
    this.atBoot = false;
    this.countedAlgorithms = 0;
    this.reset();
  }

  // Ready for a new bundle with the same configuration. Allocation-free.
  reset(): void {
    this.state = ST_ENVELOPE;
    this.envHave = 0;
    this.envelopeLen = 0;
    this.scanner.reset(Limits.MAX_ENVELOPE);
    this.reason = 0;
    this.rejectChunk = -1;
    this.consumed = 0;
    this.chunkIndex = -1;
    this.chunkLen = 0;
    this.nextChunk = 0;
    this.chunkHave = 0;
    this.chunkFresh = false;
    this.signerCount = 0;
    this.countedSigners = 0;
    this.countedRoots = 0;
    this.countedAlgorithms = 0;
    this.signerEpoch = -1;
    this.version = "";
    this.keyEpochFloor = -1;
  }

  private reject(reason: number, chunk: number): number {
    this.state = ST_REJECTED;
    this.reason = reason;
    this.rejectChunk = chunk;
    return VerifyEvent.REJECT;
  }

  // ---------------------------------------------------------------- streaming input

  push(buf: Uint8Array, off: number, len: number): number {
    this.consumed = 0;
    if (this.state === ST_REJECTED) return VerifyEvent.REJECT;
    if (this.state === ST_DONE) {
      if (len > 0) return this.reject(Reason.TRAILING_DATA, this.wireChunkCount);
      return VerifyEvent.DONE;
    }
    let used = 0;
    while (used < len) {
      if (this.state === ST_ENVELOPE) {
        // Copy only up to what the scanner needs, so the envelope never swallows chunk bytes.
        let n = this.scanner.need - this.envHave;
        if (n > len - used) n = len - used;
        if (n < 1 || this.envHave + n > Limits.MAX_ENVELOPE) return this.rejectEnv(Reason.TOO_LARGE, used); // unreachable: scanner bounds need
        copyBytes(buf, off + used, this.envelope, this.envHave, n);
        this.envHave += n;
        used += n;
        // Early exit for streams that are not a tagged COSE_Sign1 / COSE_Sign at all.
        const b0 = this.envelope[0];
        if (b0 !== 0xd2 && b0 !== 0xd8) return this.rejectEnv(Reason.MALFORMED, used);
        if (b0 === 0xd8 && this.envHave > 1 && this.envelope[1] !== CoseTag.SIGN) return this.rejectEnv(Reason.MALFORMED, used);
        const res = this.scanner.scan(this.envelope, this.envHave);
        if (res < 0) return this.rejectEnv(-res, used);
        if (res > 0) {
          this.envelopeLen = res;
          const rc = this.verifyEnvelope();
          if (rc !== Reason.OK) return this.rejectEnv(rc, used);
          this.state = ST_CHUNKS;
          this.startChunk(0);
          this.chunkFresh = true;
          this.consumed = used;
          return VerifyEvent.ENVELOPE;
        }
      } else {
        this.chunkFresh = false;
        let n = this.chunkNeed - this.chunkHave;
        if (n > len - used) n = len - used;
        const prim = this.prim;
        if (prim.copyBytes) prim.copyBytes(buf, off + used, this.chunkBuffer, Limits.CHUNK_PREFIX_LEN + this.chunkHave, n);
        else copyBytes(buf, off + used, this.chunkBuffer, Limits.CHUNK_PREFIX_LEN + this.chunkHave, n);
        this.chunkHave += n;
        used += n;
        if (this.chunkHave === this.chunkNeed) {
          this.consumed = used;
          return this.finishChunk();
        }
      }
    }
    this.consumed = used;
    return VerifyEvent.NEED_MORE;
  }

  /**
   * Verifies an envelope the caller has already placed in envelope[0 .. len) (read back
   * from flash, say), exactly as push() of those bytes would; only right after reset()
   * (else BAD_STATE). Returns ENVELOPE, REJECT, or NEED_MORE if len ends inside it.
   */
  pushStoredEnvelope(len: number): number {
    if (this.state !== ST_ENVELOPE || this.envHave !== 0) return this.reject(Reason.BAD_STATE, -1);
    let n = len;
    if (n > Limits.MAX_ENVELOPE) n = Limits.MAX_ENVELOPE;
    // push() copies its input to envelope[envHave ..]; here that is each byte onto itself.
    return this.push(this.envelope, 0, n);
  }

  private rejectEnv(reason: number, used: number): number {
    this.consumed = used;
    return this.reject(reason, -1);
  }

  // End of input: DONE if the last chunk completed, else TRUNCATED.
  end(): number {
    if (this.state === ST_DONE) return VerifyEvent.DONE;
    if (this.state === ST_REJECTED) return VerifyEvent.REJECT;
    return this.reject(Reason.TRUNCATED, this.state === ST_ENVELOPE ? -1 : this.nextChunk);
  }

  // Continue an interrupted install at chunk `chunkIndex` whose hash is `expected`. Only
  // right after ENVELOPE (before any chunk byte). Returns Reason.OK or BAD_STATE.
  resume(chunkIndex: number, expected: Uint8Array): number {
    if (this.state !== ST_CHUNKS || !this.chunkFresh || this.nextChunk !== 0) return Reason.BAD_STATE;
    if (!(chunkIndex >= 0 && chunkIndex < this.wireChunkCount) || expected.length < Limits.HASH_LEN) return Reason.BAD_STATE;
    copyBytes(expected, 0, this.expected, 0, Limits.HASH_LEN);
    this.startChunk(chunkIndex);
    return Reason.OK;
  }

  private startChunk(i: number): void {
    this.nextChunk = i;
    writeChunkPrefix(this.chunkBuffer, 0, i);
    this.chunkHave = 0;
    this.chunkNeed = chunkDataLength(this.wireSize, this.chunkSize, this.wireChunkCount, i) + Limits.HASH_LEN;
  }

  /**
   * The SPEC §7 chain over an installed image (the manifest's image geometry, keys 6-8),
   * recomputed back to front through readImage with the chunk buffer; H_0 goes to out (32
   * bytes). Valid after ENVELOPE: the boot check, and an encoded install's result check
   * (SPEC §15), both compare it with chainHead.
   */
  imageChainHead(readImage: ImageRead, out: Uint8Array): void {
    const buf = this.chunkBuffer;
    const pre = Limits.CHUNK_PREFIX_LEN;
    for (let k = 0; k < Limits.HASH_LEN; k++) out[k] = 0;
    for (let i = this.chunkCount - 1; i >= 0; i--) {
      const len = this.dataLen(i);
      readImage(i * this.chunkSize, buf, pre, len);
      writeChunkPrefix(buf, 0, i);
      for (let k = 0; k < Limits.HASH_LEN; k++) buf[pre + len + k] = out[k];
      this.prim.sha256(buf, 0, pre + len + Limits.HASH_LEN, out);
    }
  }

  // The configured SHA-256 (the boot verifier hashes with the same primitive).
  primitivesSha256(buf: Uint8Array, off: number, len: number, out: Uint8Array): void {
    this.prim.sha256(buf, off, len, out);
  }

  // Data length of image chunk i (the last one may be short): the slot's chunks, which the
  // boot check re-hashes (for a raw payload also the wire chunks).
  dataLen(i: number): number {
    return chunkDataLength(this.imageSize, this.chunkSize, this.chunkCount, i);
  }

  private finishChunk(): number {
    const i = this.nextChunk;
    const dl = this.chunkNeed - Limits.HASH_LEN;
    const cb = this.chunkBuffer;
    this.prim.sha256(cb, 0, Limits.CHUNK_PREFIX_LEN + this.chunkNeed, this.hash);
    if (!bytesEqual(this.hash, 0, this.expected, 0, Limits.HASH_LEN)) return this.reject(Reason.CHUNK_HASH_MISMATCH, i);
    const nextOff = Limits.CHUNK_PREFIX_LEN + dl;
    const last = i === this.wireChunkCount - 1;
    if (last) {
      let z = 0;
      for (let k = 0; k < Limits.HASH_LEN; k++) z |= cb[nextOff + k];
      if (z !== 0) return this.reject(Reason.CHUNK_HASH_MISMATCH, i);
    }
    copyBytes(cb, nextOff, this.expected, 0, Limits.HASH_LEN);
    this.chunkIndex = i;
    this.chunkLen = dl;
    if (last) {
      this.nextChunk = this.wireChunkCount;
      this.state = ST_DONE;
    } else {
      // Only the prefix is rewritten; chunkData stays intact until the next push.
      this.startChunk(i + 1);
    }
    return VerifyEvent.CHUNK;
  }

  // ---------------------------------------------------------------- envelope (SPEC §8)

  private verifyEnvelope(): number {
    let rc = this.parseEnvelope(); // step 1
    if (rc !== Reason.OK) return rc;
    for (let i = 0; i < this.signerCount; i++) {
      rc = this.headers.check(i, Reason.UNSUPPORTED_ALGORITHM, Reason.UNSUPPORTED_CRITICAL, true); // step 2
      if (rc !== Reason.OK) return rc;
    }
    rc = this.manifest.decode(this.envelope, this.payOff, this.payLen, this.maxChunk, this.maxWindowBits, this); // step 3
    if (rc !== Reason.OK) return rc;
    this.cert.checkValidity = this.checkValidity;
    rc = this.checkSigners(); // step 4
    if (rc !== Reason.OK) return rc;
    // step 5: policy on the authenticated manifest
    if (!bytesEqual(this.vendorId, 0, this.cfg.vendorId, 0, Limits.UUID_LEN)) return Reason.WRONG_VENDOR;
    if (!bytesEqual(this.classId, 0, this.cfg.classId, 0, Limits.UUID_LEN)) return Reason.WRONG_CLASS;
    if (this.checkRollback && this.sequence < this.cfg.minSequence) return Reason.ROLLBACK;
    rc = this.checkEpochFloor();
    if (rc !== Reason.OK) return rc;
    // step 6: under a log policy, the release is in the log (SPEC §14)
    if (this.logProof !== null) {
      rc = this.logProof.check(this.envelope, this.envelopeLen, this.payOff, this.payLen, this.headers.kidOff, this.signerCount);
      if (rc !== Reason.OK) return rc;
    }
    copyBytes(this.wireChainHead, 0, this.expected, 0, Limits.HASH_LEN);
    return Reason.OK;
  }

  // Step 5, key-epoch floor (SPEC §8.3): a release may not revoke a key that signed it
  // (floor above a counted delegated signer's epoch: KEY_NOT_AUTHORIZED; once confirmed,
  // its own boot check would fail), nor raise the device's minimum by more than
  // MAX_EPOCH_STEP (TOO_LARGE). Both hold again at boot, where the minimum is only higher.
  private checkEpochFloor(): number {
    const floor = this.keyEpochFloor;
    if (floor < 0) return Reason.OK;
    if (this.signerEpoch >= 0 && floor > this.signerEpoch) return Reason.KEY_NOT_AUTHORIZED;
    if (floor - this.cfg.minEpoch > Limits.MAX_EPOCH_STEP) return Reason.TOO_LARGE;
    return Reason.OK;
  }

  // Step 1: CBOR and COSE structure of the whole envelope (SPEC §3).
  private parseEnvelope(): number {
    const r = this.r;
    const h = this.headers;
    const env = this.envelope;
    r.init(env, 0, this.envelopeLen);
    if (!r.head()) return r.err;
    if (r.major !== 6 || (r.arg !== CoseTag.SIGN1 && r.arg !== CoseTag.SIGN)) return Reason.MALFORMED;
    this.isSign = r.arg === CoseTag.SIGN;
    if (r.readArray() !== 4) return r.err !== 0 ? r.err : Reason.MALFORMED;
    if (!this.isSign) {
      const pl = r.readBytes();
      if (pl < 0) return r.err;
      let rc = h.parseProtected(env, 0, r.dataOff, pl, HeaderRules.COSE);
      if (rc !== Reason.OK) return rc;
      rc = h.parseUnprotected(r, this.walk, 0, 2);
      if (rc !== Reason.OK) return rc;
      const yl = r.readBytes();
      if (yl < 0) return r.err;
      if (pl + yl > Limits.MAX_SIGNED) return Reason.TOO_LARGE;
      this.payOff = r.dataOff;
      this.payLen = yl;
      rc = h.readSignature(r, 0);
      if (rc !== Reason.OK) return rc;
      this.signerCount = 1;
    } else {
      // body: protected MUST be empty, unprotected a map (its labels are ignored)
      if (r.readBytes() !== 0) return r.err !== 0 ? r.err : Reason.MALFORMED;
      if (this.walk.begin(MapKeys.ANY) < 0) return r.err;
      while (this.walk.next()) if (!r.skip(2)) return r.err;
      if (r.err !== 0) return r.err;
      const yl = r.readBytes();
      if (yl < 0) return r.err;
      if (yl > Limits.MAX_SIGNED) return Reason.TOO_LARGE;
      this.payOff = r.dataOff;
      this.payLen = yl;
      const n = r.readArray();
      if (n < 0) return r.err;
      if (n === 0) return Reason.MALFORMED;
      if (n > Limits.MAX_SIGNERS) return Reason.TOO_LARGE;
      this.signerCount = n;
      for (let i = 0; i < n; i++) {
        if (r.readArray() !== 3) return r.err !== 0 ? r.err : Reason.MALFORMED;
        const pl = r.readBytes();
        if (pl < 0) return r.err;
        if (pl + yl > Limits.MAX_SIGNED) return Reason.TOO_LARGE;
        let rc = h.parseProtected(env, i, r.dataOff, pl, HeaderRules.COSE);
        if (rc !== Reason.OK) return rc;
        rc = h.parseUnprotected(r, this.walk, i, 4);
        if (rc !== Reason.OK) return rc;
        rc = h.readSignature(r, i);
        if (rc !== Reason.OK) return rc;
      }
    }
    if (r.pos !== this.envelopeLen) return Reason.MALFORMED;
    return Reason.OK;
  }

  // ---------------------------------------------------------------- signers (SPEC §5, §6, §8.1)

  // Step 4 (SPEC §8.1): signers in envelope order until `threshold` distinct keys that came
  // through at least `rootThreshold` distinct root slots, and include every required
  // algorithm, have verified. The work is bounded (SPEC §9): a signer that could not count
  // (or help the policy) costs no signature check; the first signature (the signer's or its
  // certificate's) that fails to verify ends the step; once a signer has failed, a
  // certificate's body is judged before its signature is checked. So an envelope costs at
  // most 2 * max(k, r, required algorithms) + 1 signature verifications.
  // At boot with bootAlgorithms set, only signers of those algorithms are examined and one
  // counted signer of each suffices (SPEC §8.5); none: ALGORITHM_POLICY_NOT_MET.
  private checkSigners(): number {
    const h = this.headers;
    const env = this.envelope;
    let minEpoch = -1;
    const boot = this.atBoot && this.bootAlgs !== 0;
    // At boot with bootAlgorithms, the algorithms alone are the policy: one counted signer of each.
    const k = boot ? 0 : this.threshold;
    const rk = boot ? 0 : this.rootThreshold;
    const need = boot ? this.bootAlgs : this.requiredAlgs;
    let keys = 0;
    let roots = 0;
    let rootMask = 0; // bit s: root slot s counted
    let algs = 0; // AlgorithmBits of the counted signers
    let firstFail = 0;
    for (let i = 0; i < this.signerCount && (keys < k || roots < rk || (algs & need) !== need); i++) {
      const kidOff = h.kidOff[i];
      const alg = h.alg[i];
      if (boot && (alg & need) === 0) continue;
      // A key already counted is skipped before any check: neither counted twice nor a
      // failure. The kid names the key (a root slot's, or the certified key: step (e)).
      let dup = false;
      for (let j = 0; j < keys; j++) {
        if (bytesEqual(env, this.countedKid[j], env, kidOff, Limits.KEY_ID_LEN)) dup = true;
      }
      if (dup) continue;
      // The root slot the signer comes through, without any signature work.
      const delegated = h.certOff[i] >= 0;
      let slot = -1;
      let rc = Reason.OK;
      if (delegated) {
        rc = this.cert.open(env, h.certOff[i], h.certEnd[i], this.cfg, this.rootKeys);
        slot = this.cert.issuerSlot;
      } else {
        slot = this.rootKeys.slotFor(this.cfg.rootRetired, env, kidOff);
        if (slot === -1) rc = Reason.UNKNOWN_KEY;
        else if (slot === -2) rc = Reason.REVOKED_ROOT;
        else if (alg !== keyAlgorithmBit(this.rootKeys.keyLength(slot))) rc = Reason.ALG_KEY_MISMATCH;
      }
      if (rc !== Reason.OK) {
        if (firstFail === 0) firstFail = rc;
        continue;
      }
      // Through a root already counted, a signer adds a key but no root: it can still
      // count only while more keys than roots are missing, or when its algorithm is missing.
      const newRoot = ((rootMask >> slot) & 1) === 0;
      const newAlg = (need & alg & ~algs) !== 0;
      if (!newRoot && k - keys <= rk - roots && !newAlg) continue;
      let keyBuf = this.cfg.roots;
      let keyOff = this.rootKeys.keyOffset(slot);
      let keyLen = this.rootKeys.keyLength(slot);
      if (delegated) {
        rc = this.cert.finish(env, kidOff, this.cfg, firstFail !== 0);
        if (rc === Reason.OK && alg !== keyAlgorithmBit(this.cert.pkLen)) rc = Reason.ALG_KEY_MISMATCH;
        if (rc !== Reason.OK) {
          if (firstFail === 0) firstFail = rc;
          if (this.cert.signatureFailed) break;
          continue;
        }
        keyBuf = env;
        keyOff = this.cert.pkOff;
        keyLen = this.cert.pkLen;
      }
      if (!this.sigs.verify(keyBuf, keyOff, keyLen, env, h.protOff[i], h.protLen[i], NO_AAD, this.payOff, this.payLen, this.isSign, h.sigOff[i], h.sigLen[i])) {
        if (firstFail === 0) firstFail = Reason.BAD_SIGNATURE;
        break;
      }
      this.countedKid[keys] = kidOff;
      keys++;
      algs |= alg;
      if (newRoot) {
        rootMask |= 1 << slot;
        roots++;
      }
      // A delegated signer: this.cert still holds its certificate.
      if (delegated && (minEpoch < 0 || this.cert.epoch < minEpoch)) minEpoch = this.cert.epoch;
    }
    this.countedSigners = keys;
    this.countedRoots = roots;
    this.countedAlgorithms = algs;
    this.signerEpoch = minEpoch;
    if (keys >= k && roots >= rk && (algs & need) === need) return Reason.OK;
    if (firstFail !== 0) return firstFail;
    return keys >= k && roots >= rk ? Reason.ALGORITHM_POLICY_NOT_MET : Reason.THRESHOLD_NOT_MET;
  }
}

export function createBundleVerifier(cfg: VerifierConfig): BundleVerifier {
  return new BundleVerifier(cfg);
}
