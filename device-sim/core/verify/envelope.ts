// COSE pieces shared by every signed structure the device checks (formats/SPEC.md §3, §5,
// §11): the bundle envelope (COSE_Sign1 / COSE_Sign), delegation certificates and
// root-retirement statements. CONSTRAINED TS: buffers are allocated in the constructors,
// the methods never allocate and never throw; every input byte is attacker-controlled.
//   SignerHeaders      protected / unprotected header decoding and the header checks
//   SignatureCheck     Sig_structure building (RFC 9052 §4.4) and the Ed25519 verification
//   RootKeyTable       root key IDs by slot and the kid -> slot lookup
import { Reason } from "../../../formats/device-safe/reasons.js";
import { Limits, ALG_EDDSA, ALG_ED25519 } from "../../../formats/device-safe/limits.js";
import { HeaderLabel } from "../../../formats/device-safe/labels.js";
import { CborReader, CborMapWalk, MapKeys } from "../../../formats/device-safe/cbor-reader.js";
import type { Primitives } from "../crypto/primitives.js";
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
 * header bytes, alg (0 = not an accepted integer alg), crit array, kid, the certificate
 * carried in the unprotected header, and the signature.
 */
export class SignerHeaders {
  protOff: Int32Array;
  protLen: Int32Array;
  alg: Int32Array;
  critOff: Int32Array; // offset of the crit array head, -1 none
  kidOff: Int32Array;
  certOff: Int32Array; // -1 none
  certEnd: Int32Array;
  sigOff: Int32Array;
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
          this.alg[slot] = a === ALG_EDDSA || a === ALG_ED25519 ? a : 0;
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
   * Header values of `slot` (after parseProtected): alg accepted (else badAlg), every crit
   * label understood (else badCrit). Understood: alg, crit, kid, and the certificate label
   * when `certLabel` (a structure that may carry a certificate).
   */
  check(slot: number, badAlg: number, badCrit: number, certLabel: boolean): number {
    if (this.alg[slot] === 0) return badAlg;
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

/** Ed25519 over a COSE Sig_structure, built in one contiguous scratch buffer. */
export class SignatureCheck {
  private prim: Primitives;
  private scratch: Uint8Array;
  private pk: Uint8Array;
  private sig: Uint8Array;

  // maxItem: the largest signed structure (protected header + AAD + payload fit in it).
  constructor(primitives: Primitives, maxItem: number) {
    this.prim = primitives;
    this.scratch = new Uint8Array(maxItem + SIG_STRUCTURE_OVERHEAD);
    this.pk = new Uint8Array(Limits.PUBLIC_KEY_LEN);
    this.sig = new Uint8Array(Limits.SIGNATURE_LEN);
  }

  /**
   * Verifies the signature buf[sigOff ..+64) by key[keyOff ..+32) over the Sig_structure
   * [context, (COSE_Sign: empty body_protected), protected = buf[protOff ..+protLen),
   * external_aad = aad, payload = buf[payOff ..+payLen)]. Context is
   * "Signature" for a COSE_Sign signer (`sign`), else "Signature1".
   */
  verify(
    key: Uint8Array, keyOff: number, buf: Uint8Array, protOff: number, protLen: number,
    aad: number[], payOff: number, payLen: number, sign: boolean, sigOff: number
  ): boolean {
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
    copyBytes(key, keyOff, this.pk, 0, Limits.PUBLIC_KEY_LEN);
    copyBytes(buf, sigOff, this.sig, 0, Limits.SIGNATURE_LEN);
    return this.prim.ed25519Verify(this.pk, this.sig, s, 0, o);
  }
}

/** Key IDs of the device's root slots, for the kid -> slot lookup. */
export class RootKeyTable {
  count: number; // slots in use
  private kids: Uint8Array;

  constructor() {
    this.count = 0;
    this.kids = new Uint8Array(Limits.MAX_ROOT_SLOTS * Limits.KEY_ID_LEN);
  }

  /**
   * Computes the key IDs of roots[0 .. rootCount*32) (at most MAX_ROOT_SLOTS, and no more
   * than `roots` holds). `hash` is a 32-byte scratch.
   */
  load(prim: Primitives, roots: Uint8Array, rootCount: number, hash: Uint8Array): void {
    const kl = Limits.PUBLIC_KEY_LEN;
    let rc = rootCount;
    if (rc > Limits.MAX_ROOT_SLOTS) rc = Limits.MAX_ROOT_SLOTS;
    if (rc * kl > roots.length) rc = (roots.length / kl) | 0;
    for (let s = 0; s < rc; s++) {
      prim.sha256(roots, s * kl, kl, hash);
      copyBytes(hash, 0, this.kids, s * Limits.KEY_ID_LEN, Limits.KEY_ID_LEN);
    }
    this.count = rc;
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
