// Transparency-log proof check of the device (formats/SPEC.md §14). CONSTRAINED TS: every
// buffer is allocated in the constructor; check() never allocates and never throws. Under a
// log policy a bundle must carry, in its unprotected header, a log proof whose
//   - checkpoint note is signed by a trusted log key (c2sp.org/signed-note, Ed25519),
//   - cosignatures (c2sp.org/tlog-cosignature v1) by at least `quorum` trusted witnesses verify,
//   - entry names this envelope's manifest digest and exactly its signer key IDs,
//   - inclusion path (at most 63 hashes) leads from the entry's leaf hash to the checkpoint's
//     root (RFC 9162 §2.1.3.2).
// Keys are identified by their note key ID (which commits to the key's name); signature lines
// of unknown keys are ignored, and a line of a known key that fails to verify rejects the note.
import type { Primitives } from "../crypto/primitives.js";
import { Reason } from "../../../formats/device-safe/reasons.js";
import { Limits, LOG_KEY_RECORD, MAX_LOG_ENTRY, MAX_LOG_KEYS, MAX_LOG_NOTE, MAX_LOG_CHECKPOINT_TEXT, MAX_LOG_PROOF_HASHES } from "../../../formats/device-safe/limits.js";
import { CoseTag, HeaderLabel, LogEntryKey, LogProofItem } from "../../../formats/device-safe/labels.js";
import { CborReader } from "../../../formats/device-safe/cbor-reader.js";
import { bytesEqual, copyBytes } from "./bytes.js";

/** The log policy of a device: trusted log keys and witness keys, and the witness quorum. */
export interface LogPolicy {
  logKeys?: Uint8Array; // logKeyCount * LOG_KEY_RECORD: note key ID (type 0x01) || public key
  logKeyCount?: number; // >= 1: bundles must be logged
  witnessKeys?: Uint8Array; // witnessKeyCount * LOG_KEY_RECORD: cosignature key ID (type 0x04) || public key
  witnessKeyCount?: number;
  witnessQuorum?: number; // valid cosignatures by distinct trusted witnesses required (default 0)
}

/** Does `p` require logged bundles? */
export function logPolicyActive(p: LogPolicy): boolean {
  return typeof p.logKeyCount === "number" && p.logKeyCount >= 1 && p.logKeys !== undefined;
}

// "cosignature/v1\ntime " as bytes.
const COSIG_HEADER = [0x63, 0x6f, 0x73, 0x69, 0x67, 0x6e, 0x61, 0x74, 0x75, 0x72, 0x65, 0x2f, 0x76, 0x31, 0x0a, 0x74, 0x69, 0x6d, 0x65, 0x20];
const NL = 0x0a;
const NOTE_SIG_LEN = 4 + 64; // key ID || Ed25519 signature
const COSIG_LEN = 4 + 8 + 64; // key ID || timestamp || Ed25519 signature
const MAX_B64_LINE = 104; // base64 of COSIG_LEN bytes, padded
const TWO_32 = 4294967296;
const TWO_21 = 2097152;

// Value of one base64 character, -1 if none.
function b64Value(c: number): number {
  if (c >= 0x41 && c <= 0x5a) return c - 0x41;
  if (c >= 0x61 && c <= 0x7a) return c - 0x61 + 26;
  if (c >= 0x30 && c <= 0x39) return c - 0x30 + 52;
  if (c === 0x2b) return 62;
  if (c === 0x2f) return 63;
  return -1;
}

/**
 * Decodes standard padded base64 buf[off .. off+len) into out[0 ..); returns the byte
 * count, or -1 if it is not canonical base64 or does not fit in `max` bytes.
 */
function decodeBase64(buf: Uint8Array, off: number, len: number, out: Uint8Array, max: number): number {
  if (len === 0 || len % 4 !== 0) return -1;
  let pad = 0;
  if (buf[off + len - 1] === 0x3d) pad++;
  if (buf[off + len - 2] === 0x3d) pad++;
  const n = (len / 4) * 3 - pad;
  if (n > max) return -1;
  let o = 0;
  for (let i = 0; i < len; i += 4) {
    const a = b64Value(buf[off + i]);
    const b = b64Value(buf[off + i + 1]);
    const last = i + 4 === len;
    const c = last && pad >= 2 ? 0 : b64Value(buf[off + i + 2]);
    const d = last && pad >= 1 ? 0 : b64Value(buf[off + i + 3]);
    if (a < 0 || b < 0 || c < 0 || d < 0) return -1;
    const v = a * 262144 + b * 4096 + c * 64 + d;
    out[o++] = (v >> 16) & 255;
    if (o < n) out[o++] = (v >> 8) & 255;
    if (o < n) out[o++] = v & 255;
    // Canonical: the bits dropped by the padding are zero.
    if (last && pad === 1 && (d !== 0 || (c & 3) !== 0)) return -1;
    if (last && pad === 2 && (b & 15) !== 0) return -1;
  }
  return n;
}

/** Checks a bundle's log proof against the device's log policy. */
export class LogProofCheck {
  // results of the last check(), for reports and tests
  leafIndex: number;
  treeSize: number;
  cosignatures: number;

  private prim: Primitives;
  private logKeys: Uint8Array;
  private logKeyCount: number;
  private witnessKeys: Uint8Array;
  private witnessKeyCount: number;
  private quorum: number;
  private r: CborReader;
  private hash: Uint8Array; // running hash of the path
  private digest: Uint8Array; // manifest digest
  private root: Uint8Array; // checkpoint root
  private node: Uint8Array; // 0x01 || left || right
  private leaf: Uint8Array; // 0x00 || entry
  private line: Uint8Array; // a decoded signature line
  private msg: Uint8Array; // cosignature message scratch
  private pk: Uint8Array;
  private sig: Uint8Array;
  // proof item offsets in the envelope
  private entryOff: number;
  private entryLen: number;
  private pathOff: number;
  private pathLen: number;
  private noteOff: number;
  private noteLen: number;
  private textLen: number;

  constructor(primitives: Primitives, p: LogPolicy) {
    this.prim = primitives;
    let lc = typeof p.logKeyCount === "number" ? p.logKeyCount : 0;
    if (lc > MAX_LOG_KEYS) lc = MAX_LOG_KEYS;
    let wc = typeof p.witnessKeyCount === "number" ? p.witnessKeyCount : 0;
    if (wc > MAX_LOG_KEYS) wc = MAX_LOG_KEYS;
    this.logKeys = new Uint8Array(MAX_LOG_KEYS * LOG_KEY_RECORD);
    this.witnessKeys = new Uint8Array(MAX_LOG_KEYS * LOG_KEY_RECORD);
    if (p.logKeys !== undefined && p.logKeys.length < lc * LOG_KEY_RECORD) lc = (p.logKeys.length / LOG_KEY_RECORD) | 0;
    if (p.witnessKeys === undefined) wc = 0;
    else if (p.witnessKeys.length < wc * LOG_KEY_RECORD) wc = (p.witnessKeys.length / LOG_KEY_RECORD) | 0;
    if (p.logKeys !== undefined) copyBytes(p.logKeys, 0, this.logKeys, 0, lc * LOG_KEY_RECORD);
    if (p.witnessKeys !== undefined) copyBytes(p.witnessKeys, 0, this.witnessKeys, 0, wc * LOG_KEY_RECORD);
    this.logKeyCount = lc;
    this.witnessKeyCount = wc;
    // A quorum above the witnesses configured can never be met: kept, so every bundle fails.
    this.quorum = typeof p.witnessQuorum === "number" && p.witnessQuorum > 0 ? p.witnessQuorum : 0;
    this.r = new CborReader();
    this.hash = new Uint8Array(Limits.HASH_LEN);
    this.digest = new Uint8Array(Limits.HASH_LEN);
    this.root = new Uint8Array(Limits.HASH_LEN);
    this.node = new Uint8Array(1 + 2 * Limits.HASH_LEN);
    this.leaf = new Uint8Array(1 + MAX_LOG_ENTRY);
    this.line = new Uint8Array(COSIG_LEN + 2);
    this.msg = new Uint8Array(COSIG_HEADER.length + 17 + MAX_LOG_CHECKPOINT_TEXT);
    this.pk = new Uint8Array(Limits.PUBLIC_KEY_LEN);
    this.sig = new Uint8Array(Limits.SIGNATURE_LEN);
    this.leafIndex = -1;
    this.treeSize = -1;
    this.cosignatures = 0;
    this.entryOff = 0;
    this.entryLen = 0;
    this.pathOff = 0;
    this.pathLen = 0;
    this.noteOff = 0;
    this.noteLen = 0;
    this.textLen = 0;
  }

  /**
   * Checks the log proof of the envelope env[0 .. envLen) (already verified: signatures,
   * policy) whose payload is env[payOff ..+payLen) and whose signers' kids are at
   * kidOff[0 .. signerCount). Returns Reason.OK, NOT_LOGGED, BAD_LOG_PROOF or
   * WITNESS_QUORUM_NOT_MET.
   */
  check(env: Uint8Array, envLen: number, payOff: number, payLen: number, kidOff: Int32Array, signerCount: number): number {
    this.leafIndex = -1;
    this.treeSize = -1;
    this.cosignatures = 0;
    const found = this.findProof(env, envLen);
    if (found !== Reason.OK) return found;
    let rc = this.checkEntry(env, payOff, payLen, kidOff, signerCount);
    if (rc !== Reason.OK) return rc;
    rc = this.checkNote(env);
    if (rc !== Reason.OK) return rc;
    return this.checkInclusion(env);
  }

  // The proof item in the (body) unprotected header: NOT_LOGGED if absent.
  private findProof(env: Uint8Array, envLen: number): number {
    const r = this.r;
    r.init(env, 0, envLen);
    if (!r.head() || r.major !== 6 || (r.arg !== CoseTag.SIGN1 && r.arg !== CoseTag.SIGN)) return Reason.BAD_LOG_PROOF;
    if (r.readArray() !== 4) return Reason.BAD_LOG_PROOF;
    if (r.readBytes() < 0) return Reason.BAD_LOG_PROOF; // protected header (Sign1) / empty body header (Sign)
    const n = r.readMap();
    if (n < 0) return Reason.BAD_LOG_PROOF;
    for (let i = 0; i < n; i++) {
      if (!r.head()) return Reason.BAD_LOG_PROOF;
      const isProof = r.isInt() && r.intValue() === HeaderLabel.FWSEAL_LOG_PROOF;
      if (!isProof) {
        if (r.buf[r.pos] >> 5 === 6 && !r.head()) return Reason.BAD_LOG_PROOF; // a certificate's tag
        if (!r.skip(2)) return Reason.BAD_LOG_PROOF;
        continue;
      }
      if (r.readArray() !== LogProofItem.COUNT) return Reason.BAD_LOG_PROOF;
      this.entryLen = r.readBytes();
      this.entryOff = r.dataOff;
      const idx = r.readUint();
      this.pathLen = r.readBytes();
      this.pathOff = r.dataOff;
      this.noteLen = r.readBytes();
      this.noteOff = r.dataOff;
      if (r.err !== 0 || idx < 0 || this.entryLen < 1 || this.noteLen < 1) return Reason.BAD_LOG_PROOF;
      if (this.entryLen > MAX_LOG_ENTRY || this.noteLen > MAX_LOG_NOTE) return Reason.BAD_LOG_PROOF;
      if (this.pathLen % Limits.HASH_LEN !== 0 || this.pathLen > MAX_LOG_PROOF_HASHES * Limits.HASH_LEN) return Reason.BAD_LOG_PROOF;
      this.leafIndex = idx;
      return Reason.OK;
    }
    return Reason.NOT_LOGGED;
  }

  // The entry names this manifest (SHA-256 of the payload) and exactly these signers, in order.
  private checkEntry(env: Uint8Array, payOff: number, payLen: number, kidOff: Int32Array, signerCount: number): number {
    const r = this.r;
    this.prim.sha256(env, payOff, payLen, this.digest);
    r.init(env, this.entryOff, this.entryOff + this.entryLen);
    const n = r.readMap();
    if (n < 0) return Reason.BAD_LOG_PROOF;
    let haveDigest = false;
    let haveKids = false;
    for (let i = 0; i < n; i++) {
      const k = r.readUint();
      if (k < 0) return Reason.BAD_LOG_PROOF;
      if (k === LogEntryKey.MANIFEST_DIGEST) {
        const o = r.readBytesN(Limits.HASH_LEN);
        if (o < 0 || !bytesEqual(env, o, this.digest, 0, Limits.HASH_LEN)) return Reason.BAD_LOG_PROOF;
        haveDigest = true;
      } else if (k === LogEntryKey.SIGNER_KEY_IDS) {
        if (r.readArray() !== signerCount) return Reason.BAD_LOG_PROOF;
        for (let j = 0; j < signerCount; j++) {
          const o = r.readBytesN(Limits.KEY_ID_LEN);
          if (o < 0 || !bytesEqual(env, o, env, kidOff[j], Limits.KEY_ID_LEN)) return Reason.BAD_LOG_PROOF;
        }
        haveKids = true;
      } else if (!r.skip(1)) {
        return Reason.BAD_LOG_PROOF;
      }
    }
    if (r.err !== 0 || r.pos !== this.entryOff + this.entryLen || !haveDigest || !haveKids) return Reason.BAD_LOG_PROOF;
    return Reason.OK;
  }

  // Record index of the key with note key ID buf[off ..+4) in `keys`, or -1.
  private keyIndex(keys: Uint8Array, count: number, buf: Uint8Array, off: number): number {
    for (let i = 0; i < count; i++) if (bytesEqual(keys, i * LOG_KEY_RECORD, buf, off, 4)) return i;
    return -1;
  }

  // The checkpoint note: text, blank line, signature lines; the log's signature and the
  // witness quorum; the tree size and root from the text.
  private checkNote(env: Uint8Array): number {
    const o = this.noteOff;
    const end = o + this.noteLen;
    if (env[end - 1] !== NL) return Reason.BAD_LOG_PROOF;
    // The text ends at the last blank line.
    let split = -1;
    for (let i = end - 2; i > o; i--) {
      if (env[i] === NL && env[i - 1] === NL) {
        split = i; // env[split] is the blank line
        break;
      }
    }
    if (split < 0) return Reason.BAD_LOG_PROOF;
    this.textLen = split - o;
    if (this.textLen > MAX_LOG_CHECKPOINT_TEXT) return Reason.BAD_LOG_PROOF;
    const rc = this.parseCheckpointText(env, o, split);
    if (rc !== Reason.OK) return rc;
    let logOk = false;
    let witnessMask = 0;
    let p = split + 1;
    while (p < end) {
      let e = p;
      while (e < end && env[e] !== NL) e++;
      // "— " (U+2014, space), name, space, base64
      if (e - p < 6 || env[p] !== 0xe2 || env[p + 1] !== 0x80 || env[p + 2] !== 0x94 || env[p + 3] !== 0x20) return Reason.BAD_LOG_PROOF;
      let sp = p + 4;
      while (sp < e && env[sp] !== 0x20) sp++;
      if (sp === p + 4 || sp >= e) return Reason.BAD_LOG_PROOF;
      const blen = e - sp - 1;
      if (blen <= MAX_B64_LINE) {
        const n = decodeBase64(env, sp + 1, blen, this.line, COSIG_LEN);
        if (n < 0) return Reason.BAD_LOG_PROOF;
        if (n === NOTE_SIG_LEN) {
          const k = this.keyIndex(this.logKeys, this.logKeyCount, this.line, 0);
          if (k >= 0) {
            if (!this.verifyWith(this.logKeys, k, 4, env, o, this.textLen)) return Reason.BAD_LOG_PROOF;
            logOk = true;
          }
        } else if (n === COSIG_LEN) {
          const w = this.keyIndex(this.witnessKeys, this.witnessKeyCount, this.line, 0);
          if (w >= 0 && ((witnessMask >> w) & 1) === 0) {
            const ml = this.cosignedMessage(env, o);
            if (ml < 0) return Reason.BAD_LOG_PROOF;
            if (!this.verifyWith(this.witnessKeys, w, 12, this.msg, 0, ml)) return Reason.BAD_LOG_PROOF;
            witnessMask |= 1 << w;
            this.cosignatures++;
          }
        }
      }
      // longer lines are signatures of other types: ignored
      p = e + 1;
    }
    if (!logOk) return Reason.BAD_LOG_PROOF;
    if (this.cosignatures < this.quorum) return Reason.WITNESS_QUORUM_NOT_MET;
    return Reason.OK;
  }

  // Ed25519 verification by key record `k` of `keys`, signature at line[sigAt ..+64).
  private verifyWith(keys: Uint8Array, k: number, sigAt: number, msg: Uint8Array, off: number, len: number): boolean {
    copyBytes(keys, k * LOG_KEY_RECORD + 4, this.pk, 0, Limits.PUBLIC_KEY_LEN);
    copyBytes(this.line, sigAt, this.sig, 0, Limits.SIGNATURE_LEN);
    return this.prim.ed25519Verify(this.pk, this.sig, msg, off, len);
  }

  // msg = "cosignature/v1\ntime <decimal timestamp>\n" || checkpoint text; its length, or -1.
  private cosignedMessage(env: Uint8Array, textOff: number): number {
    const l = this.line;
    const hi = ((l[4] * 256 + l[5]) * 256 + l[6]) * 256 + l[7];
    const lo = ((l[8] * 256 + l[9]) * 256 + l[10]) * 256 + l[11];
    if (hi >= TWO_21) return -1; // beyond 2^53: not a time a device can read
    let t = hi * TWO_32 + lo;
    const m = this.msg;
    let o = 0;
    for (let i = 0; i < COSIG_HEADER.length; i++) m[o++] = COSIG_HEADER[i];
    // decimal digits, most significant first
    let digits = 1;
    let div = 1;
    while (t >= div * 10) {
      div *= 10;
      digits++;
    }
    for (let i = 0; i < digits; i++) {
      const d = Math.floor(t / div);
      m[o++] = 0x30 + d;
      t -= d * div;
      div = div / 10;
    }
    m[o++] = NL;
    copyBytes(env, textOff, m, o, this.textLen);
    return o + this.textLen;
  }

  // "<origin>\n<size>\n<base64 root>\n[extension lines]": size and root.
  private parseCheckpointText(env: Uint8Array, o: number, end: number): number {
    let p = o;
    while (p < end && env[p] !== NL) p++;
    if (p === o || p >= end) return Reason.BAD_LOG_PROOF; // empty origin
    p++;
    const s = p;
    let size = 0;
    while (p < end && env[p] !== NL) {
      const c = env[p];
      if (c < 0x30 || c > 0x39 || p - s >= 16) return Reason.BAD_LOG_PROOF;
      size = size * 10 + (c - 0x30);
      p++;
    }
    if (p === s || p >= end || (env[s] === 0x30 && p - s > 1)) return Reason.BAD_LOG_PROOF;
    p++;
    const rs = p;
    while (p < end && env[p] !== NL) p++;
    if (p >= end) return Reason.BAD_LOG_PROOF;
    if (decodeBase64(env, rs, p - rs, this.line, Limits.HASH_LEN) !== Limits.HASH_LEN) return Reason.BAD_LOG_PROOF;
    copyBytes(this.line, 0, this.root, 0, Limits.HASH_LEN);
    this.treeSize = size;
    return Reason.OK;
  }

  // RFC 9162 §2.1.3.2 from SHA-256(0x00 || entry) along the path to the checkpoint root.
  private checkInclusion(env: Uint8Array): number {
    let fn = this.leafIndex;
    let sn = this.treeSize - 1;
    if (!(fn >= 0 && fn <= sn)) return Reason.BAD_LOG_PROOF;
    const leaf = this.leaf;
    leaf[0] = 0;
    copyBytes(env, this.entryOff, leaf, 1, this.entryLen);
    this.prim.sha256(leaf, 0, 1 + this.entryLen, this.hash);
    const node = this.node;
    const h = Limits.HASH_LEN;
    node[0] = 1;
    for (let p = this.pathOff; p < this.pathOff + this.pathLen; p += h) {
      if (sn === 0) return Reason.BAD_LOG_PROOF;
      if (fn % 2 === 1 || fn === sn) {
        copyBytes(env, p, node, 1, h);
        copyBytes(this.hash, 0, node, 1 + h, h);
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) {
            fn = Math.floor(fn / 2);
            sn = Math.floor(sn / 2);
          }
        }
      } else {
        copyBytes(this.hash, 0, node, 1, h);
        copyBytes(env, p, node, 1 + h, h);
      }
      this.prim.sha256(node, 0, 1 + 2 * h, this.hash);
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    if (sn !== 0 || !bytesEqual(this.hash, 0, this.root, 0, h)) return Reason.BAD_LOG_PROOF;
    return Reason.OK;
  }
}
