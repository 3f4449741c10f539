// Streaming bundle verifier (formats/SPEC.md §7-§9). CONSTRAINED TS: runs unchanged on
// Node, Duktape and Espruino. Every buffer is allocated once in createBundleVerifier();
// push() never allocates. All input is attacker-controlled: the envelope is fully checked
// (SPEC §8 steps 1-5, in that order) before the first chunk is accepted, and each chunk is
// hashed and compared before its data is released to the caller.
import { Primitives } from "../crypto/primitives.js";
import { Reason } from "../../../formats/device-safe/reasons.js";
import { Limits, CHUNK_DOMAIN, ALG_EDDSA, ALG_ED25519 } from "../../../formats/device-safe/limits.js";
import { CoseTag, HeaderLabel, ManifestKey, CertKey, ProvenanceKey, PayloadEncoding } from "../../../formats/device-safe/labels.js";
import { CborReader, CborItemScanner } from "../../../formats/device-safe/cbor-reader.js";

export const VerifyEvent = { NEED_MORE: 0, ENVELOPE: 1, CHUNK: 2, DONE: 3, REJECT: 4 };

export interface VerifierConfig {
  primitives: Primitives;
  roots: Uint8Array; // rootCount * 32 bytes of root public keys (slot order)
  rootCount: number; // 1..4
  rootRetired: number; // bitmask: bit s set = slot s retired
  vendorId: Uint8Array; // 16
  classId: Uint8Array; // 16
  minSequence: number;
  minEpoch: number;
  threshold: number; // k >= 1
  now: number; // seconds since 1970, or -1 = no trusted time
  maxChunkSize: number; // chunk buffer sized for this
}

// Verifier states.
const ST_ENVELOPE = 0;
const ST_CHUNKS = 1;
const ST_DONE = 2;
const ST_REJECTED = 3;

// "Signature1" / "Signature" as bytes (Sig_structure context strings, RFC 9052 §4.4).
const CTX_SIGNATURE1 = [0x53, 0x69, 0x67, 0x6e, 0x61, 0x74, 0x75, 0x72, 0x65, 0x31];

// Signer bookkeeping slots: MAX_SIGNERS envelope signers + 1 for the certificate being checked.
const CERT_SLOT = Limits.MAX_SIGNERS;

// Decodes UTF-8 for display (the verifier itself never interprets text). Invalid -> U+FFFD.
function utf8ToString(b: Uint8Array, off: number, len: number): string {
  let s = "";
  let i = off;
  const end = off + len;
  while (i < end) {
    const c = b[i];
    let cp = 0xfffd;
    let n = 1;
    if (c < 0x80) {
      cp = c;
    } else if (c >= 0xc2 && c < 0xe0 && i + 1 < end && (b[i + 1] & 0xc0) === 0x80) {
      cp = ((c & 0x1f) << 6) | (b[i + 1] & 0x3f);
      n = 2;
    } else if (c >= 0xe0 && c < 0xf0 && i + 2 < end && (b[i + 1] & 0xc0) === 0x80 && (b[i + 2] & 0xc0) === 0x80) {
      cp = ((c & 0x0f) << 12) | ((b[i + 1] & 0x3f) << 6) | (b[i + 2] & 0x3f);
      n = 3;
      if (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000)) cp = 0xfffd;
    } else if (
      c >= 0xf0 && c < 0xf5 && i + 3 < end &&
      (b[i + 1] & 0xc0) === 0x80 && (b[i + 2] & 0xc0) === 0x80 && (b[i + 3] & 0xc0) === 0x80
    ) {
      cp = ((c & 0x07) << 18) | ((b[i + 1] & 0x3f) << 12) | ((b[i + 2] & 0x3f) << 6) | (b[i + 3] & 0x3f);
      n = 4;
      if (cp < 0x10000 || cp > 0x10ffff) cp = 0xfffd;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      s += String.fromCharCode(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    } else {
      s += String.fromCharCode(cp);
    }
    i += n;
  }
  return s;
}

function bytesEqual(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number, n: number): boolean {
  let d = 0;
  for (let i = 0; i < n; i++) d |= a[aOff + i] ^ b[bOff + i];
  return d === 0;
}

function copyBytes(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, n: number): void {
  for (let i = 0; i < n; i++) dst[dstOff + i] = src[srcOff + i];
}

// Writes a CBOR head (major, arg < 2^32) at out[o]; returns the new offset.
function putHead(out: Uint8Array, o: number, major: number, arg: number): number {
  const m = major << 5;
  if (arg < 24) {
    out[o] = m | arg;
    return o + 1;
  }
  if (arg < 256) {
    out[o] = m | 24;
    out[o + 1] = arg;
    return o + 2;
  }
  if (arg < 65536) {
    out[o] = m | 25;
    out[o + 1] = arg >> 8;
    out[o + 2] = arg & 255;
    return o + 3;
  }
  out[o] = m | 26;
  out[o + 1] = (arg >>> 24) & 255;
  out[o + 2] = (arg >> 16) & 255;
  out[o + 3] = (arg >> 8) & 255;
  out[o + 4] = arg & 255;
  return o + 5;
}

export class BundleVerifier {
  // ---- public results ----
  reason: number;
  rejectChunk: number;
  consumed: number;
  // manifest (valid after ENVELOPE)
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
  signerCount: number; // signers in the envelope
  countedSigners: number; // distinct authorised signers that verified
  // raw envelope (store for boot / resume)
  envelope: Uint8Array;
  envelopeLen: number;
  // chunk output (valid after CHUNK until the next push): chunkData[0 .. chunkLen)
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

  // ---- configuration ----
  private cfg: VerifierConfig;
  private prim: Primitives;
  private maxChunk: number;
  private rootKids: Uint8Array;
  private threshold: number;

  // ---- internal state ----
  private state: number;
  private envHave: number;
  private scanner: CborItemScanner;
  private r: CborReader; // envelope structure
  private r2: CborReader; // embedded items (headers, manifest, certificate)
  private r3: CborReader; // certificate protected header / body
  private scratch: Uint8Array; // Sig_structure
  private hash: Uint8Array; // 32-byte SHA-256 output
  private pk: Uint8Array; // 32-byte public key being used
  private sig: Uint8Array; // 64-byte signature being checked
  private isSign: boolean;
  private payOff: number;
  private payLen: number;
  // per signer (index CERT_SLOT = the certificate's own header)
  private sgProtOff: Int32Array;
  private sgProtLen: Int32Array;
  private sgAlg: Int32Array; // 0 = not an accepted integer alg
  private sgCritOff: Int32Array; // offset of the crit array head, -1 none
  private sgKidOff: Int32Array;
  private sgCertOff: Int32Array; // -1 none
  private sgCertEnd: Int32Array;
  private sgSigOff: Int32Array;
  // keys already counted: >= 0 offset of a certificate subject key in envelope, < 0: -1-slot
  private countedKey: Int32Array;
  // manifest value offsets by key (1..16), -1 absent
  private mPos: Int32Array;
  private certPkOff: number;
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
    this.threshold = cfg.threshold >= 1 ? cfg.threshold : 1;
    let rc = cfg.rootCount;
    if (rc > Limits.MAX_ROOT_SLOTS) rc = Limits.MAX_ROOT_SLOTS;
    if (rc * 32 > cfg.roots.length) rc = (cfg.roots.length / 32) | 0;
    this.rootKids = new Uint8Array(Limits.MAX_ROOT_SLOTS * Limits.KEY_ID_LEN);
    this.hash = new Uint8Array(Limits.HASH_LEN);
    for (let s = 0; s < rc; s++) {
      this.prim.sha256(cfg.roots, s * 32, 32, this.hash);
      copyBytes(this.hash, 0, this.rootKids, s * Limits.KEY_ID_LEN, Limits.KEY_ID_LEN);
    }
    this.rootCountUsed = rc;

    this.envelope = new Uint8Array(Limits.MAX_ENVELOPE);
    this.scratch = new Uint8Array(Limits.MAX_ENVELOPE + 64);
    this.chunkBuffer = new Uint8Array(Limits.CHUNK_PREFIX_LEN + mc + Limits.HASH_LEN);
    for (let i = 0; i < 16; i++) this.chunkBuffer[i] = CHUNK_DOMAIN[i];
    this.chunkData = this.chunkBuffer.subarray(Limits.CHUNK_PREFIX_LEN);
    this.expected = new Uint8Array(Limits.HASH_LEN);
    this.chainHead = new Uint8Array(Limits.HASH_LEN);
    this.vendorId = new Uint8Array(Limits.UUID_LEN);
    this.classId = new Uint8Array(Limits.UUID_LEN);
    this.pk = new Uint8Array(32);
    this.sig = new Uint8Array(64);
    this.scanner = new CborItemScanner();
    this.r = new CborReader();
    this.r2 = new CborReader();
    this.r3 = new CborReader();
    const ns = Limits.MAX_SIGNERS + 1;
    this.sgProtOff = new Int32Array(ns);
    this.sgProtLen = new Int32Array(ns);
    this.sgAlg = new Int32Array(ns);
    this.sgCritOff = new Int32Array(ns);
    this.sgKidOff = new Int32Array(ns);
    this.sgCertOff = new Int32Array(ns);
    this.sgCertEnd = new Int32Array(ns);
    this.sgSigOff = new Int32Array(ns);
    this.countedKey = new Int32Array(Limits.MAX_SIGNERS);
    this.mPos = new Int32Array(17);

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
    this.signerCount = 0;
    this.countedSigners = 0;
    this.envelopeLen = 0;
    this.chunkIndex = -1;
    this.chunkLen = 0;
    this.nextChunk = 0;
    this.state = ST_ENVELOPE;
    this.envHave = 0;
    this.isSign = false;
    this.payOff = 0;
    this.payLen = 0;
    this.certPkOff = 0;
    this.chunkHave = 0;
    this.chunkNeed = 0;
    this.chunkFresh = false;
    this.checkRollback = true;
    this.reset();
  }

  private rootCountUsed: number;

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
      if (len > 0) return this.reject(Reason.TRAILING_DATA, this.chunkCount);
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
        copyBytes(buf, off + used, this.chunkBuffer, Limits.CHUNK_PREFIX_LEN + this.chunkHave, n);
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
    if (!(chunkIndex >= 0 && chunkIndex < this.chunkCount) || expected.length < Limits.HASH_LEN) return Reason.BAD_STATE;
    copyBytes(expected, 0, this.expected, 0, Limits.HASH_LEN);
    this.startChunk(chunkIndex);
    return Reason.OK;
  }

  private startChunk(i: number): void {
    this.nextChunk = i;
    const cb = this.chunkBuffer;
    cb[16] = (i >>> 24) & 255;
    cb[17] = (i >>> 16) & 255;
    cb[18] = (i >>> 8) & 255;
    cb[19] = i & 255;
    this.chunkHave = 0;
    this.chunkNeed = this.dataLen(i) + Limits.HASH_LEN;
  }

  // The configured SHA-256 (the boot verifier hashes with the same primitive).
  primitivesSha256(buf: Uint8Array, off: number, len: number, out: Uint8Array): void {
    this.prim.sha256(buf, off, len, out);
  }

  // Data length of chunk i (the last one may be short).
  dataLen(i: number): number {
    if (i === this.chunkCount - 1) return this.imageSize - (this.chunkCount - 1) * this.chunkSize;
    return this.chunkSize;
  }

  private finishChunk(): number {
    const i = this.nextChunk;
    const dl = this.chunkNeed - Limits.HASH_LEN;
    const cb = this.chunkBuffer;
    this.prim.sha256(cb, 0, Limits.CHUNK_PREFIX_LEN + this.chunkNeed, this.hash);
    if (!bytesEqual(this.hash, 0, this.expected, 0, Limits.HASH_LEN)) return this.reject(Reason.CHUNK_HASH_MISMATCH, i);
    const nextOff = Limits.CHUNK_PREFIX_LEN + dl;
    const last = i === this.chunkCount - 1;
    if (last) {
      let z = 0;
      for (let k = 0; k < Limits.HASH_LEN; k++) z |= cb[nextOff + k];
      if (z !== 0) return this.reject(Reason.CHUNK_HASH_MISMATCH, i);
    }
    copyBytes(cb, nextOff, this.expected, 0, Limits.HASH_LEN);
    this.chunkIndex = i;
    this.chunkLen = dl;
    if (last) {
      this.nextChunk = this.chunkCount;
      this.state = ST_DONE;
    } else {
      // Only the index prefix changes; chunkData stays intact until the next push.
      this.startChunk(i + 1);
    }
    return VerifyEvent.CHUNK;
  }

  // ---------------------------------------------------------------- envelope (SPEC §8)

  private verifyEnvelope(): number {
    let rc = this.parseEnvelope(); // step 1
    if (rc !== Reason.OK) return rc;
    for (let i = 0; i < this.signerCount; i++) {
      rc = this.checkHeader(i, Reason.UNSUPPORTED_ALGORITHM, Reason.UNSUPPORTED_CRITICAL); // step 2
      if (rc !== Reason.OK) return rc;
    }
    rc = this.parseManifest(); // step 3
    if (rc !== Reason.OK) return rc;
    rc = this.checkSigners(); // step 4
    if (rc !== Reason.OK) return rc;
    // step 5: policy on the authenticated manifest
    if (!bytesEqual(this.vendorId, 0, this.cfg.vendorId, 0, Limits.UUID_LEN)) return Reason.WRONG_VENDOR;
    if (!bytesEqual(this.classId, 0, this.cfg.classId, 0, Limits.UUID_LEN)) return Reason.WRONG_CLASS;
    if (this.checkRollback && this.sequence < this.cfg.minSequence) return Reason.ROLLBACK;
    copyBytes(this.chainHead, 0, this.expected, 0, Limits.HASH_LEN);
    return Reason.OK;
  }

  // Step 1: CBOR and COSE structure of the whole envelope (SPEC §3).
  private parseEnvelope(): number {
    const r = this.r;
    const env = this.envelope;
    r.init(env, 0, this.envelopeLen);
    if (!r.head()) return r.err;
    if (r.major !== 6 || (r.arg !== CoseTag.SIGN1 && r.arg !== CoseTag.SIGN)) return Reason.MALFORMED;
    this.isSign = r.arg === CoseTag.SIGN;
    if (r.readArray() !== 4) return r.err !== 0 ? r.err : Reason.MALFORMED;
    if (!this.isSign) {
      const pl = r.readBytes();
      if (pl < 0) return r.err;
      let rc = this.parseProtected(0, r.dataOff, pl);
      if (rc !== Reason.OK) return rc;
      rc = this.parseUnprotected(0, 2);
      if (rc !== Reason.OK) return rc;
      const yl = r.readBytes();
      if (yl < 0) return r.err;
      this.payOff = r.dataOff;
      this.payLen = yl;
      const so = r.readBytesN(64);
      if (so < 0) return r.err;
      this.sgSigOff[0] = so;
      this.signerCount = 1;
    } else {
      // body: protected MUST be empty, unprotected a map (its labels are ignored)
      if (r.readBytes() !== 0) return r.err !== 0 ? r.err : Reason.MALFORMED;
      if (r.readMap() < 0) return r.err;
      if (!this.skipMapBody(r, r.arg, 2)) return r.err;
      const yl = r.readBytes();
      if (yl < 0) return r.err;
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
        let rc = this.parseProtected(i, r.dataOff, pl);
        if (rc !== Reason.OK) return rc;
        rc = this.parseUnprotected(i, 4);
        if (rc !== Reason.OK) return rc;
        const so = r.readBytesN(64);
        if (so < 0) return r.err;
        this.sgSigOff[i] = so;
      }
    }
    if (r.pos !== this.envelopeLen) return Reason.MALFORMED;
    return Reason.OK;
  }

  // Skips the entries of a map whose head was just read (n entries, keys of any type),
  // validating everything. `depth` = containers enclosing the entries.
  private skipMapBody(r: CborReader, n: number, depth: number): boolean {
    if (n > Limits.MAX_MAP_ENTRIES) return r.fail(Reason.TOO_LARGE);
    let prevOff = -1;
    let prevLen = 0;
    for (let i = 0; i < n; i++) {
      const kl = r.readKey(prevOff, prevLen);
      if (kl < 0) return false;
      prevOff = r.headStart;
      prevLen = kl;
      if (!r.skip(depth)) return false;
    }
    return true;
  }

  // signer-unprotected header at r.pos: records the certificate (label -65537), skips the rest.
  // depth = containers enclosing the map's values.
  private parseUnprotected(slot: number, depth: number): number {
    const r = this.r;
    this.sgCertOff[slot] = -1;
    const n = r.readMap();
    if (n < 0) return r.err;
    let prevOff = -1;
    let prevLen = 0;
    for (let i = 0; i < n; i++) {
      const kl = r.readKey(prevOff, prevLen);
      if (kl < 0) return r.err;
      prevOff = r.headStart;
      prevLen = kl;
      if (r.isInt() && r.intValue() === HeaderLabel.FWSEAL_CERT) {
        // The certificate is the one place a tag may appear inside the envelope. Its
        // meaning is checked in step 4 (BAD_CERTIFICATE); here only its CBOR.
        const co = r.pos;
        if (co < r.end && r.buf[co] >> 5 === 6) {
          if (!r.head()) return r.err;
        }
        if (!r.skip(depth)) return r.err;
        this.sgCertOff[slot] = co;
        this.sgCertEnd[slot] = r.pos;
      } else if (!r.skip(depth)) {
        return r.err;
      }
    }
    return Reason.OK;
  }

  // signer-protected header (bstr content env[off .. off+len)): alg, crit, kid, others skipped.
  // Structure only (MALFORMED ...); the values are judged in step 2 (checkHeader).
  private parseProtected(slot: number, off: number, len: number): number {
    const r = this.r2;
    r.init(this.envelope, off, off + len);
    this.sgProtOff[slot] = off;
    this.sgProtLen[slot] = len;
    this.sgAlg[slot] = 0;
    this.sgCritOff[slot] = -1;
    this.sgKidOff[slot] = -1;
    let haveAlg = false;
    const n = r.readMap();
    if (n < 0) return r.err;
    let prevOff = -1;
    let prevLen = 0;
    for (let i = 0; i < n; i++) {
      const kl = r.readKey(prevOff, prevLen);
      if (kl < 0) return r.err;
      prevOff = r.headStart;
      prevLen = kl;
      const label = r.isInt() ? r.intValue() : 0;
      if (label === HeaderLabel.ALG) {
        if (!r.head()) return r.err;
        if (r.isInt()) {
          const a = r.intValue();
          this.sgAlg[slot] = a === ALG_EDDSA || a === ALG_ED25519 ? a : 0;
        } else if (r.major !== 0 && r.major !== 1 && r.major !== 3) {
          return Reason.MALFORMED; // alg is an int or a text string (RFC 9052)
        }
        haveAlg = true;
      } else if (label === HeaderLabel.CRIT) {
        this.sgCritOff[slot] = r.pos;
        const cn = r.readArray();
        if (cn < 0) return r.err;
        if (cn === 0) return Reason.MALFORMED;
        for (let j = 0; j < cn; j++) {
          if (!r.head()) return r.err;
          if (r.major !== 0 && r.major !== 1 && r.major !== 3) return Reason.MALFORMED;
        }
      } else if (label === HeaderLabel.KID) {
        const ko = r.readBytesN(Limits.KEY_ID_LEN);
        if (ko < 0) return r.err;
        this.sgKidOff[slot] = ko;
      } else if (!r.skip(1)) {
        return r.err;
      }
    }
    if (r.pos !== off + len) return Reason.MALFORMED;
    if (!haveAlg || this.sgKidOff[slot] < 0) return Reason.MALFORMED;
    return Reason.OK;
  }

  // Step 2 for one header: alg accepted, every crit label understood.
  private checkHeader(slot: number, badAlg: number, badCrit: number): number {
    if (this.sgAlg[slot] === 0) return badAlg;
    const co = this.sgCritOff[slot];
    if (co < 0) return Reason.OK;
    const r = this.r2;
    r.init(this.envelope, co, this.sgProtOff[slot] + this.sgProtLen[slot]);
    const cn = r.readArray();
    for (let j = 0; j < cn; j++) {
      r.head();
      if (!r.isInt()) return badCrit;
      const l = r.intValue();
      if (l !== HeaderLabel.ALG && l !== HeaderLabel.CRIT && l !== HeaderLabel.KID && l !== HeaderLabel.FWSEAL_CERT) return badCrit;
    }
    return Reason.OK;
  }

  // ---------------------------------------------------------------- manifest (SPEC §4)

  // Positions the reader r2 at manifest key k's value; false if absent.
  private mAt(k: number): boolean {
    const p = this.mPos[k];
    if (p < 0) return false;
    this.r2.init(this.envelope, p, this.payOff + this.payLen);
    return true;
  }

  // Reads manifest key k as a uint (-1 absent; -2 error, reason in r2.err).
  private mUint(k: number): number {
    if (!this.mAt(k)) return -1;
    const v = this.r2.readUint();
    return v < 0 ? -2 : v;
  }

  private parseManifest(): number {
    const r = this.r2;
    const end = this.payOff + this.payLen;
    r.init(this.envelope, this.payOff, end);
    for (let k = 0; k <= 16; k++) this.mPos[k] = -1;
    // 3a: canonical CBOR map with integer keys; remember where known keys' values are.
    const n = r.readMap();
    if (n < 0) return r.err;
    let prevOff = -1;
    let prevLen = 0;
    for (let i = 0; i < n; i++) {
      const kl = r.readKey(prevOff, prevLen);
      if (kl < 0) return r.err;
      if (r.major === 3) return Reason.MALFORMED;
      prevOff = r.headStart;
      prevLen = kl;
      if (r.isInt()) {
        const k = r.intValue();
        if (k >= 1 && k <= 16) this.mPos[k] = r.pos;
      }
      if (!r.skip(1)) return r.err;
    }
    if (r.pos !== end) return Reason.MALFORMED;
    // 3b: format version
    const fv = this.mUint(ManifestKey.FORMAT_VERSION);
    if (fv === -1) return Reason.MALFORMED;
    if (fv === -2) return r.err === Reason.TOO_LARGE ? Reason.UNSUPPORTED_VERSION : r.err;
    if (fv !== Limits.FORMAT_VERSION) return Reason.UNSUPPORTED_VERSION;
    // 3c: types and sizes of every field
    let rc = this.manifestFields();
    if (rc !== Reason.OK) return rc;
    // 3d: crit
    if (this.mAt(ManifestKey.CRIT)) {
      const cn = r.readArray();
      for (let j = 0; j < cn; j++) {
        r.head();
        const k = r.intValue();
        if (!r.isInt() || k < 1 || k > 16) return Reason.UNSUPPORTED_CRITICAL;
      }
    }
    // 3e: payload encoding
    if (this.payloadEncoding !== PayloadEncoding.RAW) return Reason.UNSUPPORTED_ENCODING;
    // 3f: geometry
    const cs = this.chunkSize;
    if (cs > Limits.MAX_CHUNK_SIZE || cs > this.maxChunk) return Reason.TOO_LARGE;
    if (cs < Limits.MIN_CHUNK_SIZE || (cs & (cs - 1)) !== 0) return Reason.MALFORMED;
    const cc = this.chunkCount;
    if (cc > Limits.MAX_CHUNK_COUNT) return Reason.TOO_LARGE;
    // chunk-count = ceil(image-size / chunk-size); exact in doubles since cs is a power of two
    if (cc < 1 || (cc - 1) * cs >= this.imageSize || cc * cs < this.imageSize) return Reason.MALFORMED;
    rc = Reason.OK;
    return rc;
  }

  // 3c: every known manifest field has its type and size (MALFORMED / TOO_LARGE).
  private manifestFields(): number {
    const r = this.r2;
    // mandatory 2..10
    for (let k = 2; k <= 10; k++) if (this.mPos[k] < 0) return Reason.MALFORMED;
    this.mAt(ManifestKey.VENDOR_ID);
    let o = r.readBytesN(Limits.UUID_LEN);
    if (o < 0) return r.err;
    copyBytes(this.envelope, o, this.vendorId, 0, Limits.UUID_LEN);
    this.mAt(ManifestKey.CLASS_ID);
    o = r.readBytesN(Limits.UUID_LEN);
    if (o < 0) return r.err;
    copyBytes(this.envelope, o, this.classId, 0, Limits.UUID_LEN);
    let v = this.mUint(ManifestKey.SEQUENCE);
    if (v < 0) return r.err;
    this.sequence = v;
    this.mAt(ManifestKey.VERSION);
    const vl = r.readText();
    if (vl < 0) return r.err;
    if (vl === 0) return Reason.MALFORMED;
    if (vl > Limits.MAX_VERSION_LEN) return Reason.TOO_LARGE;
    const vo = r.dataOff;
    v = this.mUint(ManifestKey.IMAGE_SIZE);
    if (v < 0) return r.err;
    if (v === 0) return Reason.MALFORMED;
    this.imageSize = v;
    v = this.mUint(ManifestKey.CHUNK_SIZE);
    if (v < 0) return r.err;
    this.chunkSize = v;
    v = this.mUint(ManifestKey.CHUNK_COUNT);
    if (v < 0) return r.err;
    this.chunkCount = v;
    this.mAt(ManifestKey.CHAIN_HEAD);
    o = r.readBytesN(Limits.HASH_LEN);
    if (o < 0) return r.err;
    copyBytes(this.envelope, o, this.chainHead, 0, Limits.HASH_LEN);
    v = this.mUint(ManifestKey.PAYLOAD_ENCODING);
    if (v < 0) return r.err;
    this.payloadEncoding = v;
    // optional 11..16
    if (this.mAt(ManifestKey.ENCODING_PARAMS)) {
      const en = r.readMap();
      if (en < 0) return r.err;
      let prevOff = -1;
      let prevLen = 0;
      for (let i = 0; i < en; i++) {
        const kl = r.readKey(prevOff, prevLen);
        if (kl < 0) return r.err;
        if (r.major === 3) return Reason.MALFORMED;
        prevOff = r.headStart;
        prevLen = kl;
        if (!r.skip(2)) return r.err;
      }
    }
    if (this.mAt(ManifestKey.PROVENANCE)) {
      const pn = r.readMap();
      if (pn < 0) return r.err;
      let prevOff = -1;
      let prevLen = 0;
      for (let i = 0; i < pn; i++) {
        const kl = r.readKey(prevOff, prevLen);
        if (kl < 0) return r.err;
        if (r.major === 3) return Reason.MALFORMED;
        prevOff = r.headStart;
        prevLen = kl;
        const pk = r.isInt() ? r.intValue() : 0;
        if (pk === ProvenanceKey.SOURCE_REVISION || pk === ProvenanceKey.BUILDER) {
          const tl = r.readText();
          if (tl < 0) return r.err;
          if (tl > Limits.MAX_TEXT_LEN) return Reason.TOO_LARGE;
        } else if (pk === ProvenanceKey.BUILD_TIME) {
          if (r.readUint() < 0) return r.err;
        } else if (!r.skip(2)) {
          return r.err;
        }
      }
    }
    if (this.mAt(ManifestKey.SBOM_DIGEST)) {
      if (r.readBytesN(Limits.HASH_LEN) < 0) return r.err;
    }
    if (this.mAt(ManifestKey.RELEASE_NOTES)) {
      const nl = r.readText();
      if (nl < 0) return r.err;
      if (nl > Limits.MAX_NOTES_LEN) return Reason.TOO_LARGE;
    }
    this.keyEpochFloor = -1;
    v = this.mUint(ManifestKey.KEY_EPOCH_FLOOR);
    if (v === -2) return r.err;
    this.keyEpochFloor = v;
    if (this.mAt(ManifestKey.CRIT)) {
      const cn = r.readArray();
      if (cn < 0) return r.err;
      if (cn === 0) return Reason.MALFORMED;
      if (cn > 8) return Reason.TOO_LARGE;
      for (let j = 0; j < cn; j++) {
        if (!r.head()) return r.err;
        if (r.major !== 0 && r.major !== 1) return Reason.MALFORMED;
      }
    }
    this.version = utf8ToString(this.envelope, vo, vl);
    return Reason.OK;
  }

  // ---------------------------------------------------------------- signers (SPEC §5, §6, §8.1)

  // Builds the Sig_structure for signer `slot` in scratch; returns its length.
  private buildSigStructure(slot: number, payOff: number, payLen: number, sign: boolean): number {
    const s = this.scratch;
    const env = this.envelope;
    let o = 0;
    s[o++] = sign ? 0x85 : 0x84;
    o = putHead(s, o, 3, sign ? 9 : 10);
    for (let i = 0; i < (sign ? 9 : 10); i++) s[o++] = CTX_SIGNATURE1[i];
    if (sign) s[o++] = 0x40; // body_protected: empty
    const pl = this.sgProtLen[slot];
    o = putHead(s, o, 2, pl);
    copyBytes(env, this.sgProtOff[slot], s, o, pl);
    o += pl;
    s[o++] = 0x40; // external_aad: empty
    o = putHead(s, o, 2, payLen);
    copyBytes(env, payOff, s, o, payLen);
    return o + payLen;
  }

  // Root slot whose key ID equals env[kidOff..+8]: slot >= 0 if live, -2 if only retired
  // slots match, -1 if none.
  private findRoot(kidOff: number): number {
    let retired = false;
    for (let s = 0; s < this.rootCountUsed; s++) {
      if (bytesEqual(this.rootKids, s * Limits.KEY_ID_LEN, this.envelope, kidOff, Limits.KEY_ID_LEN)) {
        if (((this.cfg.rootRetired >> (s & 31)) & 1) === 0) return s;
        retired = true;
      }
    }
    return retired ? -2 : -1;
  }

  private verifySig(slot: number, payOff: number, payLen: number, sign: boolean, sigOff: number): boolean {
    const len = this.buildSigStructure(slot, payOff, payLen, sign);
    copyBytes(this.envelope, sigOff, this.sig, 0, 64);
    return this.prim.ed25519Verify(this.pk, this.sig, this.scratch, 0, len);
  }

  private checkSigners(): number {
    let counted = 0;
    let firstFail = 0;
    const k = this.threshold;
    for (let i = 0; i < this.signerCount && counted < k; i++) {
      let keyRef = 0;
      let rc = Reason.OK;
      if (this.sgCertOff[i] >= 0) {
        rc = this.checkCertificate(i);
        keyRef = this.certPkOff;
        if (rc === Reason.OK) copyBytes(this.envelope, keyRef, this.pk, 0, 32);
      } else {
        const s = this.findRoot(this.sgKidOff[i]);
        if (s === -1) rc = Reason.UNKNOWN_KEY;
        else if (s === -2) rc = Reason.REVOKED_ROOT;
        else {
          keyRef = -1 - s;
          copyBytes(this.cfg.roots, s * 32, this.pk, 0, 32);
        }
      }
      if (rc !== Reason.OK) {
        if (firstFail === 0) firstFail = rc;
        continue;
      }
      // A key already counted is skipped: not checked again, not counted twice.
      let dup = false;
      for (let j = 0; j < counted; j++) {
        const c = this.countedKey[j];
        if (c < 0) {
          if (bytesEqual(this.cfg.roots, (-1 - c) * 32, this.pk, 0, 32)) dup = true;
        } else if (bytesEqual(this.envelope, c, this.pk, 0, 32)) {
          dup = true;
        }
      }
      if (dup) continue;
      if (!this.verifySig(i, this.payOff, this.payLen, this.isSign, this.sgSigOff[i])) {
        if (firstFail === 0) firstFail = Reason.BAD_SIGNATURE;
        continue;
      }
      this.countedKey[counted] = keyRef;
      counted++;
    }
    this.countedSigners = counted;
    if (counted >= k) return Reason.OK;
    return firstFail !== 0 ? firstFail : Reason.THRESHOLD_NOT_MET;
  }

  // Certificate of signer i (SPEC §5). On success certPkOff = subject key offset in envelope.
  private checkCertificate(i: number): number {
    const r = this.r;
    const env = this.envelope;
    const BAD = Reason.BAD_CERTIFICATE;
    r.init(env, this.sgCertOff[i], this.sgCertEnd[i]);
    // (a) structure: #6.18([protected, unprotected, payload, signature])
    if (!r.head() || r.major !== 6 || r.arg !== CoseTag.SIGN1) return BAD;
    if (r.readArray() !== 4) return BAD;
    const pl = r.readBytes();
    if (pl < 0) return BAD;
    const po = r.dataOff;
    if (r.readMap() < 0) return BAD;
    if (!this.skipMapBody(r, r.arg, 1)) return BAD;
    const yl = r.readBytes();
    if (yl < 0) return BAD;
    const yo = r.dataOff;
    const so = r.readBytesN(64);
    if (so < 0 || r.pos !== this.sgCertEnd[i]) return BAD;
    if (this.parseProtected(CERT_SLOT, po, pl) !== Reason.OK) return BAD;
    if (this.checkHeader(CERT_SLOT, BAD, BAD) !== Reason.OK) return BAD;
    // (b) issuer: a root slot
    const s = this.findRoot(this.sgKidOff[CERT_SLOT]);
    if (s === -1) return BAD;
    if (s === -2) return Reason.REVOKED_ROOT;
    // (c) root signature over the certificate
    copyBytes(this.cfg.roots, s * 32, this.pk, 0, 32);
    if (!this.verifySig(CERT_SLOT, yo, yl, false, so)) return BAD;
    // (d) body
    const b = this.r3;
    b.init(env, yo, yo + yl);
    const n = b.readMap();
    if (n < 0) return BAD;
    let prevOff = -1;
    let prevLen = 0;
    let version = -1;
    let pkOff = -1;
    let notBefore = -1;
    let notAfter = -1;
    let epoch = -1;
    let vendorOff = -1;
    let classOff = -1;
    let classN = 0;
    for (let e = 0; e < n; e++) {
      const kl = b.readKey(prevOff, prevLen);
      if (kl < 0 || b.major === 3) return BAD;
      prevOff = b.headStart;
      prevLen = kl;
      const key = b.isInt() ? b.intValue() : 0;
      if (key === CertKey.FORMAT_VERSION) {
        if (!b.head() || b.major !== 0) return BAD;
        version = b.big ? 0 : b.arg;
      } else if (key === CertKey.PUBLIC_KEY) {
        pkOff = b.readBytesN(32);
        if (pkOff < 0) return BAD;
      } else if (key === CertKey.NOT_BEFORE) {
        notBefore = b.readUint();
        if (notBefore < 0) return BAD;
      } else if (key === CertKey.NOT_AFTER) {
        notAfter = b.readUint();
        if (notAfter < 0) return BAD;
      } else if (key === CertKey.EPOCH) {
        epoch = b.readUint();
        if (epoch < 0) return BAD;
      } else if (key === CertKey.VENDOR_ID) {
        vendorOff = b.readBytesN(Limits.UUID_LEN);
        if (vendorOff < 0) return BAD;
      } else if (key === CertKey.CLASS_IDS) {
        classN = b.readArray();
        if (classN < 1 || classN > Limits.MAX_CERT_CLASSES) return BAD;
        classOff = b.pos;
        for (let c = 0; c < classN; c++) if (b.readBytesN(Limits.UUID_LEN) < 0) return BAD;
      } else if (!b.skip(1)) {
        return BAD;
      }
    }
    if (b.pos !== yo + yl) return BAD;
    if (version < 0) return BAD;
    if (version !== Limits.FORMAT_VERSION) return Reason.UNSUPPORTED_VERSION;
    if (pkOff < 0 || epoch < 0) return BAD;
    // (e) the signer's kid names the certified key
    this.prim.sha256(env, pkOff, 32, this.hash);
    if (!bytesEqual(this.hash, 0, env, this.sgKidOff[i], Limits.KEY_ID_LEN)) return BAD;
    // (f) epoch, (g) validity window, (h) scope
    if (epoch < this.cfg.minEpoch) return Reason.REVOKED_KEY;
    const now = this.cfg.now;
    if (now >= 0) {
      if (notBefore >= 0 && now < notBefore) return Reason.EXPIRED_KEY;
      if (notAfter >= 0 && now > notAfter) return Reason.EXPIRED_KEY;
    }
    if (vendorOff >= 0 && !bytesEqual(env, vendorOff, this.cfg.vendorId, 0, Limits.UUID_LEN)) return Reason.KEY_NOT_AUTHORIZED;
    if (classOff >= 0) {
      let found = false;
      // each entry is 0x50 (bstr of 16) followed by 16 bytes
      for (let c = 0; c < classN; c++) {
        if (bytesEqual(env, classOff + c * 17 + 1, this.cfg.classId, 0, Limits.UUID_LEN)) found = true;
      }
      if (!found) return Reason.KEY_NOT_AUTHORIZED;
    }
    this.certPkOff = pkOff;
    return Reason.OK;
  }
}

export function createBundleVerifier(cfg: VerifierConfig): BundleVerifier {
  return new BundleVerifier(cfg);
}
