// COSE pieces shared by every signed structure the device checks (formats/SPEC.md §3, §5,
// §11): the bundle envelope (COSE_Sign1 / COSE_Sign), delegation certificates and
// root-retirement statements. CONSTRAINED TS: buffers are allocated in the constructors,
// the methods never allocate and never throw; every input byte is attacker-controlled.
//   SignerHeaders      protected / unprotected header decoding and the header checks
//   SignatureCheck     Sig_structure building (RFC 9052 §4.4) and the signature verification
//                      (Ed25519, or HSS/LMS through the shared HSS verifier)
//   RootKeyTable       root keys by slot (Ed25519 or HSS/LMS), their key IDs, kid -> slot
import { Reason } from "../../../formats/device-safe/reasons.js";
import { Limits, AlgorithmBit } from "../../../formats/device-safe/limits.js";
import { coseAlgorithmBit, rootKeyLength } from "../../../formats/device-safe/root-keys.js";
import { HeaderLabel } from "../../../formats/device-safe/labels.js";
import { CborReader, CborMapWalk, MapKeys } from "../../../formats/device-safe/cbor-reader.js";
import type { Primitives } from "../crypto/primitives.js";
import type { HssVerifier } from "../crypto/hss-lms.js";
import { bytesEqual, copyBytes } from "./bytes.js";

// "Signature1" / "Signature" as bytes (Sig_structure context strings): "Signature" is the
// first 9 bytes of "Signature1".
const CTX_SIGNATURE1 = [0x53, 0x69, 0x67, 0x6e, 0x61, 0x74, 0x75, 0x72, 0x65, 0x31];

// Bytes a Sig_structure adds around its protected header, AAD and payload: array head,
// context string, empty body_protected and three byte-string heads.
export const SIG_STRUCTURE_OVERHEAD = 64;

/** An empty external_aad (bundle signers and certificates). */
export const NO_AAD: number[] = [];

/** Header rules: how strictly a protected header's labels are read. */
export const HeaderRules = {
  // COSE as RFC 9052 allows it (bundle envelope, certificates): text labels are skipped,
  // a text alg is unsupported, a text crit entry is not understood.
  COSE: 0,
  // Integer labels only (root-retirement statements): a text label, a text alg or a text
  // crit entry is MALFORMED, an integer label beyond 2^53 TOO_LARGE.
  INT_ONLY: 1
};

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

/**
 * Decoded headers of up to `slots` signers, as offsets into the signed buffer: protected
 * header bytes, alg (as an AlgorithmBit; 0 = not an integer alg fwseal knows), crit array,
 * kid, the certificate carried in the unprotected header, and the signature.
 */
export class SignerHeaders {
  protOff: Int32Array;
  protLen: Int32Array;
  alg: Int32Array;
  // AlgorithmBits check() accepts (a device without the HSS/LMS verifier leaves it out)
  accepted: number;
  critOff: Int32Array; // offset of the crit array head, -1 none
  kidOff: Int32Array;
  certOff: Int32Array; // -1 none
  certEnd: Int32Array;
  sigOff: Int32Array;
  sigLen: Int32Array;
  private buf: Uint8Array;
  private r: CborReader;
  private walk: CborMapWalk;

  // `r` reads the protected headers (it may be shared with other decoders: every
  // method re-initialises it).
  constructor(r: CborReader, slots: number) {
    this.r = r;
    this.walk = new CborMapWalk(r);
    this.buf = new Uint8Array(0);
    this.protOff = new Int32Array(slots);
    this.protLen = new Int32Array(slots);
    this.alg = new Int32Array(slots);
    this.critOff = new Int32Array(slots);
    this.kidOff = new Int32Array(slots);
    this.certOff = new Int32Array(slots);
    this.certEnd = new Int32Array(slots);
    this.sigOff = new Int32Array(slots);
    this.sigLen = new Int32Array(slots);
    this.accepted = AlgorithmBit.ED25519 | AlgorithmBit.HSS_LMS;
  }

  /**
   * Protected header of `slot` (bstr content buf[off .. off+len)): alg, crit, kid; other
   * labels are skipped. Structure only (MALFORMED ...; alg and kid are mandatory); the
   * values are judged by check().
   */
  parseProtected(buf: Uint8Array, slot: number, off: number, len: number, rules: number): number {
    const r = this.r;
    const w = this.walk;
    const intOnly = rules === HeaderRules.INT_ONLY;
    this.buf = buf;
    r.init(buf, off, off + len);
    this.protOff[slot] = off;
    this.protLen[slot] = len;
    this.alg[slot] = 0;
    this.critOff[slot] = -1;
    this.kidOff[slot] = -1;
    let haveAlg = false;
    if (w.begin(intOnly ? MapKeys.SAFE_INT : MapKeys.ANY) < 0) return r.err;
    while (w.next()) {
      const label = r.isInt() ? r.intValue() : 0;
      if (label === HeaderLabel.ALG) {
        if (!r.head()) return r.err;
        if (r.isInt()) {
          const a = r.intValue();
          this.alg[slot] = coseAlgorithmBit(a);
        } else if (intOnly || (r.major !== 0 && r.major !== 1 && r.major !== 3)) {
          return Reason.MALFORMED; // alg is an int or a text string (RFC 9052)
        }
        haveAlg = true;
      } else if (label === HeaderLabel.CRIT) {
        this.critOff[slot] = r.pos;
        const cn = r.readArray();
        if (cn < 0) return r.err;
        if (cn === 0) return Reason.MALFORMED;
        for (let j = 0; j < cn; j++) {
          if (!r.head()) return r.err;
          if (intOnly ? !r.isInt() : r.major !== 0 && r.major !== 1 && r.major !== 3) return Reason.MALFORMED;
        }
      } else if (label === HeaderLabel.KID) {
        const ko = r.readBytesN(Limits.KEY_ID_LEN);
        if (ko < 0) return r.err;
        this.kidOff[slot] = ko;
      } else if (!r.skip(1)) {
        return r.err;
      }
    }
    if (r.err !== 0) return r.err;
    if (r.pos !== off + len) return Reason.MALFORMED;
    if (!haveAlg || this.kidOff[slot] < 0) return Reason.MALFORMED;
    return Reason.OK;
  }

  /**
   * The signature of `slot` at r.pos, read by the alg of its protected header (parsed
   * before): HSS/LMS up to MAX_HSS_SIGNATURE bytes (longer: TOO_LARGE; its exact length is
   * checked against the key's parameter set before any hashing), anything else exactly 64
   * bytes (Ed25519; an unknown alg is judged after the structure).
   */
  readSignature(r: CborReader, slot: number): number {
    if (this.alg[slot] === AlgorithmBit.HSS_LMS) {
      const n = r.readBytes();
      if (n < 0) return r.err;
      if (n > Limits.MAX_HSS_SIGNATURE) return Reason.TOO_LARGE;
      this.sigOff[slot] = r.dataOff;
      this.sigLen[slot] = n;
      return Reason.OK;
    }
    const so = r.readBytesN(Limits.SIGNATURE_LEN);
    if (so < 0) return r.err;
    this.sigOff[slot] = so;
    this.sigLen[slot] = Limits.SIGNATURE_LEN;
    return Reason.OK;
  }

  /**
   * Unprotected header of `slot` at r.pos (r: the reader of the enclosing structure, walk:
   * a map walk on it): records the certificate (label FWSEAL_CERT), skips the rest.
   * depth = containers enclosing the map's values.
   */
  parseUnprotected(r: CborReader, walk: CborMapWalk, slot: number, depth: number): number {
    this.certOff[slot] = -1;
    if (walk.begin(MapKeys.ANY) < 0) return r.err;
    while (walk.next()) {
      if (r.isInt() && r.intValue() === HeaderLabel.FWSEAL_CERT) {
        // The certificate is the one place a tag may appear inside the envelope. Its
        // meaning is checked with the signer (BAD_CERTIFICATE); here only its CBOR.
        const co = r.pos;
        if (co < r.end && r.buf[co] >> 5 === 6) {
          if (!r.head()) return r.err;
        }
        if (!r.skip(depth)) return r.err;
        this.certOff[slot] = co;
        this.certEnd[slot] = r.pos;
      } else if (!r.skip(depth)) {
        return r.err;
      }
    }
    return r.err;
  }

  /**
   * Header values of `slot` (after parseProtected): alg one of `accepted` (else badAlg), every crit
   * label understood (else badCrit). Understood: alg, crit, kid, and the certificate label
   * when `certLabel` (a structure that may carry a certificate).
   */
  check(slot: number, badAlg: number, badCrit: number, certLabel: boolean): number {
    if ((this.alg[slot] & this.accepted) === 0) return badAlg;
    const co = this.critOff[slot];
    if (co < 0) return Reason.OK;
    const r = this.r;
    r.init(this.buf, co, this.protOff[slot] + this.protLen[slot]);
    const cn = r.readArray();
    for (let j = 0; j < cn; j++) {
      r.head();
      if (!r.isInt()) return badCrit;
      const l = r.intValue();
      if (l === HeaderLabel.ALG || l === HeaderLabel.CRIT || l === HeaderLabel.KID) continue;
      if (certLabel && l === HeaderLabel.FWSEAL_CERT) continue;
      return badCrit;
    }
    return Reason.OK;
  }
}

/**
 * A signature over a COSE Sig_structure, built in one contiguous scratch buffer: Ed25519 by
 * a 32-byte key, HSS/LMS by a 60-byte key (through the HSS verifier shared by every check
 * of one device, whose scratch exists once).
 */
export class SignatureCheck {
  private prim: Primitives;
  private scratch: Uint8Array;
  private maxSigned: number;
  private hss: HssVerifier | null;
  private pk: Uint8Array;
  private sig: Uint8Array;

  // maxSigned: the largest signed content (protected header + AAD + payload); hss: the
  // device's HSS/LMS verifier (its maxMsgLen at least maxSigned + SIG_STRUCTURE_OVERHEAD),
  // or null on a device that accepts only Ed25519.
  constructor(primitives: Primitives, maxSigned: number, hss: HssVerifier | null) {
    this.prim = primitives;
    this.maxSigned = maxSigned;
    this.scratch = new Uint8Array(maxSigned + SIG_STRUCTURE_OVERHEAD);
    this.hss = hss;
    this.pk = new Uint8Array(Limits.PUBLIC_KEY_LEN);
    this.sig = new Uint8Array(Limits.SIGNATURE_LEN);
  }

  /**
   * Verifies the signature buf[sigOff ..+sigLen) by key[keyOff ..+keyLen) over the
   * Sig_structure [context, (COSE_Sign: empty body_protected), protected = buf[protOff
   * ..+protLen), external_aad = aad, payload = buf[payOff ..+payLen)]. Context is
   * "Signature" for a COSE_Sign signer (`sign`), else "Signature1". The key's length names
   * its algorithm (the caller has matched it with the signature's alg). False also for
   * signed content over maxSigned (callers reject that as TOO_LARGE first).
   */
  verify(
    key: Uint8Array, keyOff: number, keyLen: number, buf: Uint8Array, protOff: number, protLen: number,
    aad: number[], payOff: number, payLen: number, sign: boolean, sigOff: number, sigLen: number
  ): boolean {
    if (protLen + aad.length + payLen > this.maxSigned) return false;
    const s = this.scratch;
    const ctxLen = sign ? 9 : 10;
    let o = 0;
    s[o++] = sign ? 0x85 : 0x84;
    o = putHead(s, o, 3, ctxLen);
    for (let i = 0; i < ctxLen; i++) s[o++] = CTX_SIGNATURE1[i];
    if (sign) s[o++] = 0x40; // body_protected: empty
    o = putHead(s, o, 2, protLen);
    copyBytes(buf, protOff, s, o, protLen);
    o += protLen;
    o = putHead(s, o, 2, aad.length);
    for (let i = 0; i < aad.length; i++) s[o++] = aad[i];
    o = putHead(s, o, 2, payLen);
    copyBytes(buf, payOff, s, o, payLen);
    o += payLen;
    if (keyLen === Limits.HSS_PUBLIC_KEY_LEN) {
      if (this.hss === null) return false;
      return this.hss.verify(key, keyOff, keyLen, buf, sigOff, sigLen, s, 0, o) === Reason.OK;
    }
    if (keyLen !== Limits.PUBLIC_KEY_LEN || sigLen !== Limits.SIGNATURE_LEN) return false;
    copyBytes(key, keyOff, this.pk, 0, Limits.PUBLIC_KEY_LEN);
    copyBytes(buf, sigOff, this.sig, 0, Limits.SIGNATURE_LEN);
    return this.prim.ed25519Verify(this.pk, this.sig, s, 0, o);
  }
}

/**
 * The device's root slots: where each slot's public key lies in the roots buffer, its
 * length (32: Ed25519, 60: HSS/LMS) and its key ID, for the kid -> slot lookup.
 */
export class RootKeyTable {
  count: number; // slots in use
  private kids: Uint8Array;
  private keyOff: Int32Array;
  private keyLen: Int32Array;

  constructor() {
    this.count = 0;
    this.kids = new Uint8Array(Limits.MAX_ROOT_SLOTS * Limits.KEY_ID_LEN);
    this.keyOff = new Int32Array(Limits.MAX_ROOT_SLOTS);
    this.keyLen = new Int32Array(Limits.MAX_ROOT_SLOTS);
  }

  /**
   * Computes the key IDs of the packed roots buffer (formats/device-safe/root-keys.ts:
   * rootCount keys in slot order, slot s an HSS/LMS key of 60 bytes when bit s of hssMask
   * is set, else an Ed25519 key of 32), at most MAX_ROOT_SLOTS and no more than `roots`
   * holds. `hash` is a 32-byte scratch.
   */
  load(prim: Primitives, roots: Uint8Array, rootCount: number, hssMask: number, hash: Uint8Array): void {
    let rc = rootCount;
    if (rc > Limits.MAX_ROOT_SLOTS) rc = Limits.MAX_ROOT_SLOTS;
    let o = 0;
    let s = 0;
    for (s = 0; s < rc; s++) {
      const kl = rootKeyLength(hssMask, s);
      if (o + kl > roots.length) break;
      this.keyOff[s] = o;
      this.keyLen[s] = kl;
      prim.sha256(roots, o, kl, hash);
      copyBytes(hash, 0, this.kids, s * Limits.KEY_ID_LEN, Limits.KEY_ID_LEN);
      o += kl;
    }
    this.count = s;
  }

  /** Offset of slot s's public key in the roots buffer. */
  keyOffset(s: number): number {
    return this.keyOff[s];
  }

  /** Length of slot s's public key: 32 (Ed25519) or 60 (HSS/LMS). */
  keyLength(s: number): number {
    return this.keyLen[s];
  }

  /** Does slot s have the key ID buf[kidOff ..+8)? */
  slotHasKid(s: number, buf: Uint8Array, kidOff: number): boolean {
    return bytesEqual(this.kids, s * Limits.KEY_ID_LEN, buf, kidOff, Limits.KEY_ID_LEN);
  }

  /**
   * Root slot whose key ID is buf[kidOff ..+8): slot >= 0 if live, -2 if only retired
   * slots (bits of `retiredMask`) match, -1 if none.
   */
  slotFor(retiredMask: number, buf: Uint8Array, kidOff: number): number {
    let retired = false;
    for (let s = 0; s < this.count; s++) {
      if (this.slotHasKid(s, buf, kidOff)) {
        if (((retiredMask >> (s & 31)) & 1) === 0) return s;
        retired = true;
      }
    }
    return retired ? -2 : -1;
  }
}
