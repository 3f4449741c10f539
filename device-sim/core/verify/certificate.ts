// Delegation certificates (formats/SPEC.md §5; checked in §8 step 4, sub-steps a-h in
// that order). CONSTRAINED TS: no allocation after construction, no exceptions. A
// certificate is a COSE_Sign1 by a root slot over a map that names a release key, its
// epoch, validity window and scope; every byte is attacker-controlled.
import { Reason } from "../../../formats/device-safe/reasons.js";
import { Limits } from "../../../formats/device-safe/limits.js";
import { CoseTag, CertKey } from "../../../formats/device-safe/labels.js";
import { CborReader, CborMapWalk, MapKeys } from "../../../formats/device-safe/cbor-reader.js";
import type { Primitives } from "../crypto/primitives.js";
import { bytesEqual } from "./bytes.js";
import { keyAlgorithmBit } from "../../../formats/device-safe/root-keys.js";
import { SignerHeaders, SignatureCheck, RootKeyTable, HeaderRules, NO_AAD } from "./envelope.js";

// Encoded size of one class-ids entry: a 0x50 head (bstr of 16) and the 16 bytes.
const CLASS_ENTRY_LEN = 1 + Limits.UUID_LEN;

/** What a certificate is judged against. A VerifierConfig has these fields. */
export interface CertificatePolicy {
  roots: Uint8Array; // packed root keys, slot order (formats/device-safe/root-keys.ts)
  rootRetired: number; // bit s set = slot s retired
  vendorId: Uint8Array; // 16
  classId: Uint8Array; // 16
  minEpoch: number;
  now: number; // seconds since 1970, or -1 = no trusted time
}

/**
 * Checks one delegation certificate in two calls: open() (structure and issuer, no
 * signature work) then finish() (root signature and body). On OK, issuerSlot is the root
 * slot that issued it, pkOff / pkLen the certified key's offset and length (32: Ed25519,
 * 60: HSS/LMS) and epoch its epoch.
 */
export class CertificateCheck {
  pkOff: number;
  pkLen: number;
  issuerSlot: number;
  epoch: number;
  // false: skip the validity window (g) whatever policy.now says (the boot check, SPEC §8.5)
  checkValidity: boolean;
  // finish() failed because the root's signature did not verify (not for another fault)
  signatureFailed: boolean;
  // the opened certificate: protected header, payload and signature offsets
  private protOff: number;
  private protLen: number;
  private payOff: number;
  private payLen: number;
  private sigOff: number;
  private sigLen: number;
  private rootKeys: RootKeyTable | null;
  private prim: Primitives;
  private r: CborReader;
  private walk: CborMapWalk;
  private body: CborReader;
  private bodyWalk: CborMapWalk;
  private headers: SignerHeaders;
  private slot: number;
  private sigs: SignatureCheck;
  private hash: Uint8Array;

  // r: the certificate's structure, body: its payload map (readers may be shared; both
  // are re-initialised). headers[slot]: where the certificate's own protected header is
  // decoded. hash: a 32-byte scratch.
  constructor(
    prim: Primitives, r: CborReader, body: CborReader, headers: SignerHeaders, slot: number,
    sigs: SignatureCheck, hash: Uint8Array
  ) {
    this.pkOff = -1;
    this.pkLen = 0;
    this.sigLen = 0;
    this.rootKeys = null;
    this.issuerSlot = -1;
    this.epoch = -1;
    this.checkValidity = true;
    this.signatureFailed = false;
    this.protOff = 0;
    this.protLen = 0;
    this.payOff = 0;
    this.payLen = 0;
    this.sigOff = 0;
    this.prim = prim;
    this.r = r;
    this.walk = new CborMapWalk(r);
    this.body = body;
    this.bodyWalk = new CborMapWalk(body);
    this.headers = headers;
    this.slot = slot;
    this.sigs = sigs;
    this.hash = hash;
  }

  /**
   * Steps (a) and (b) of the certificate env[off .. end): structure and issuer, against
   * `policy` and the root key table; no signature is checked. Returns a Reason
   * (BAD_CERTIFICATE, REVOKED_ROOT, ALG_KEY_MISMATCH when the certificate's alg is not the
   * issuing root key's algorithm); on OK, issuerSlot is set and finish() may follow.
   */
  open(env: Uint8Array, off: number, end: number, policy: CertificatePolicy, roots: RootKeyTable): number {
    const r = this.r;
    const h = this.headers;
    const slot = this.slot;
    const BAD = Reason.BAD_CERTIFICATE;
    r.init(env, off, end);
    // (a) structure: #6.18([protected, unprotected, payload, signature])
    if (!r.head() || r.major !== 6 || r.arg !== CoseTag.SIGN1) return BAD;
    if (r.readArray() !== 4) return BAD;
    const pl = r.readBytes();
    if (pl < 0) return BAD;
    const po = r.dataOff;
    if (this.walk.begin(MapKeys.ANY) < 0) return BAD;
    while (this.walk.next()) if (!r.skip(1)) return BAD;
    if (r.err !== 0) return BAD;
    const yl = r.readBytes();
    if (yl < 0) return BAD;
    const yo = r.dataOff;
    // The protected header first (decoded with the headers' own reader): its alg says how
    // long the signature is.
    if (h.parseProtected(env, slot, po, pl, HeaderRules.COSE) !== Reason.OK) return BAD;
    if (h.readSignature(r, slot) !== Reason.OK || r.pos !== end) return BAD;
    if (pl + yl > Limits.MAX_SIGNED) return BAD;
    // A certificate's own header understands only alg, crit and kid: the certificate label
    // belongs to the signer it vouches for, never to the certificate itself (SPEC §5 (a)).
    if (h.check(slot, BAD, BAD, false) !== Reason.OK) return BAD;
    // (b) issuer: a root slot
    const s = roots.slotFor(policy.rootRetired, env, h.kidOff[slot]);
    if (s === -1) return BAD;
    if (s === -2) return Reason.REVOKED_ROOT;
    if (h.alg[slot] !== keyAlgorithmBit(roots.keyLength(s))) return Reason.ALG_KEY_MISMATCH;
    this.issuerSlot = s;
    this.rootKeys = roots;
    this.protOff = po;
    this.protLen = pl;
    this.payOff = yo;
    this.payLen = yl;
    this.sigOff = h.sigOff[slot];
    this.sigLen = h.sigLen[slot];
    return Reason.OK;
  }

  /**
   * Steps (c) - (h) of the certificate opened last (open() returned OK), for a signer whose
   * kid is env[kidOff ..+8). Returns a Reason (BAD_CERTIFICATE for a body or signature
   * fault; UNSUPPORTED_VERSION, REVOKED_KEY, EXPIRED_KEY, KEY_NOT_AUTHORIZED for the policy
   * checks). With `bodyFirst` the body is judged before the root's signature is checked, so
   * a certificate that fails anyway costs no signature check; its reason may then differ
   * from the spec order's, so only a caller that will not report it may ask for this.
   */
  finish(env: Uint8Array, kidOff: number, policy: CertificatePolicy, bodyFirst: boolean): number {
    const yo = this.payOff;
    const yl = this.payLen;
    this.signatureFailed = false;
    this.pkOff = -1;
    if (bodyFirst) {
      const rb = this.checkBody(env, yo, yo + yl, kidOff, policy);
      if (rb !== Reason.OK) return rb;
    }
    // (c) root signature over the certificate
    const rk = this.rootKeys as RootKeyTable;
    const s = this.issuerSlot;
    if (!this.sigs.verify(policy.roots, rk.keyOffset(s), rk.keyLength(s), env, this.protOff, this.protLen, NO_AAD, yo, yl, false, this.sigOff, this.sigLen)) {
      this.signatureFailed = true;
      this.pkOff = -1;
      return Reason.BAD_CERTIFICATE;
    }
    if (bodyFirst) return Reason.OK;
    // (d) body, (e) - (h)
    return this.checkBody(env, yo, yo + yl, kidOff, policy);
  }

  // (d) the payload map env[off .. end); then (e) kid, (f) epoch, (g) validity, (h) scope.
  private checkBody(env: Uint8Array, off: number, end: number, kidOff: number, policy: CertificatePolicy): number {
    const b = this.body;
    const w = this.bodyWalk;
    const BAD = Reason.BAD_CERTIFICATE;
    b.init(env, off, end);
    let version = -1;
    let pkOff = -1;
    let pkLen = 0;
    let notBefore = -1;
    let notAfter = -1;
    let epoch = -1;
    let vendorOff = -1;
    let classOff = -1;
    let classN = 0;
    if (w.begin(MapKeys.INT) < 0) return BAD;
    while (w.next()) {
      const key = b.isInt() ? b.intValue() : 0;
      if (key === CertKey.FORMAT_VERSION) {
        if (!b.head() || b.major !== 0) return BAD;
        version = b.big ? 0 : b.arg;
      } else if (key === CertKey.PUBLIC_KEY) {
        // An Ed25519 key (32 bytes) or an HSS/LMS key (60 bytes, RFC 8554 §3.3)
        pkLen = b.readBytes();
        if (keyAlgorithmBit(pkLen) === 0) return BAD;
        pkOff = b.dataOff;
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
    if (b.err !== 0) return BAD;
    if (b.pos !== end) return BAD;
    if (version < 0) return BAD;
    if (version !== Limits.FORMAT_VERSION) return Reason.UNSUPPORTED_VERSION;
    if (pkOff < 0 || epoch < 0) return BAD;
    // (e) the signer's kid names the certified key
    this.prim.sha256(env, pkOff, pkLen, this.hash);
    if (!bytesEqual(this.hash, 0, env, kidOff, Limits.KEY_ID_LEN)) return BAD;
    // (f) epoch, (g) validity window, (h) scope
    if (epoch < policy.minEpoch) return Reason.REVOKED_KEY;
    const now = policy.now;
    if (now >= 0 && this.checkValidity) {
      if (notBefore >= 0 && now < notBefore) return Reason.EXPIRED_KEY;
      if (notAfter >= 0 && now > notAfter) return Reason.EXPIRED_KEY;
    }
    if (vendorOff >= 0 && !bytesEqual(env, vendorOff, policy.vendorId, 0, Limits.UUID_LEN)) return Reason.KEY_NOT_AUTHORIZED;
    if (classOff >= 0) {
      let found = false;
      for (let c = 0; c < classN; c++) {
        if (bytesEqual(env, classOff + c * CLASS_ENTRY_LEN + 1, policy.classId, 0, Limits.UUID_LEN)) found = true;
      }
      if (!found) return Reason.KEY_NOT_AUTHORIZED;
    }
    this.pkOff = pkOff;
    this.pkLen = pkLen;
    this.epoch = epoch;
    return Reason.OK;
  }
}
