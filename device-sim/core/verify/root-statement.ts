// Root-retirement statements on the device (formats/SPEC.md §11). CONSTRAINED TS.
//
// A statement is a COSE_Sign1 signed by one live root slot that retires ANOTHER slot. The
// device applies it by setting the slot's retired bit and storing the statement's counter;
// a statement whose counter is not above the stored one is STALE_STATEMENT (replay).
// Every byte of the statement is attacker-controlled until its signature checks out; the
// checks run in the order SPEC §11.3 lists, and the first failure is the result.
// All buffers are allocated once, in the constructor.
import { Reason } from "../../../formats/device-safe/reasons.js";
import { Limits, ALG_EDDSA, ALG_ED25519, MAX_ROOT_STATEMENT, ROOT_RETIRE_AAD } from "../../../formats/device-safe/limits.js";
import { CoseTag, HeaderLabel, RootStatementKey } from "../../../formats/device-safe/labels.js";
import { CborReader } from "../../../formats/device-safe/cbor-reader.js";
import type { Primitives } from "../crypto/primitives.js";

// The part of the device's trust configuration a statement is checked against. A
// VerifierConfig (bundle-verifier.ts) has these fields, so it can be passed as is.
export interface RootTrustState {
  roots: Uint8Array; // rootCount * 32 bytes, slot order
  rootCount: number; // 1..MAX_ROOT_SLOTS
  rootRetired: number; // bit s set = slot s retired
  vendorId: Uint8Array; // 16
  classId: Uint8Array; // 16
}

const SIGNATURE1 = [0x53, 0x69, 0x67, 0x6e, 0x61, 0x74, 0x75, 0x72, 0x65, 0x31]; // "Signature1"
const NOTE_MAX = 256;

// Writes a CBOR byte-string head for len (< 65536) at off; returns the offset after it.
function putBstrHead(out: Uint8Array, off: number, len: number): number {
  if (len < 24) {
    out[off] = 0x40 | len;
    return off + 1;
  }
  if (len < 256) {
    out[off] = 0x58;
    out[off + 1] = len;
    return off + 2;
  }
  out[off] = 0x59;
  out[off + 1] = (len >> 8) & 0xff;
  out[off + 2] = len & 0xff;
  return off + 3;
}

export class RootStatementVerifier {
  // Results of the last check() that returned OK.
  slot: number; // the slot retired
  counter: number; // the statement's counter: store it
  retiredMask: number; // rootRetired with the slot's bit set: store it
  signerSlot: number; // the live slot that signed
  private prim: Primitives;
  private r: CborReader;
  private scratch: Uint8Array;
  private hash: Uint8Array;
  private pk: Uint8Array;
  private sig: Uint8Array;

  constructor(primitives: Primitives) {
    this.prim = primitives;
    this.r = new CborReader();
    // Sig_structure: array head, "Signature1", protected, AAD, payload (< 64 bytes overhead).
    this.scratch = new Uint8Array(MAX_ROOT_STATEMENT + 64);
    this.hash = new Uint8Array(32);
    this.pk = new Uint8Array(32);
    this.sig = new Uint8Array(64);
    this.slot = -1;
    this.counter = -1;
    this.retiredMask = 0;
    this.signerSlot = -1;
  }

  // Does root slot s have the key ID stmt[kidOff .. kidOff+8)?
  private slotHasKid(st: RootTrustState, s: number, stmt: Uint8Array, kidOff: number): boolean {
    this.prim.sha256(st.roots, s * 32, 32, this.hash);
    for (let i = 0; i < Limits.KEY_ID_LEN; i++) {
      if (this.hash[i] !== stmt[kidOff + i]) return false;
    }
    return true;
  }

  // Checks stmt[0 .. len) against the device state and the stored counter. Returns a
  // Reason (OK = 0). On OK, slot / counter / retiredMask say what to persist.
  check(stmt: Uint8Array, len: number, st: RootTrustState, storedCounter: number): number {
    this.slot = -1;
    this.counter = -1;
    this.retiredMask = st.rootRetired;
    this.signerSlot = -1;
    if (len > MAX_ROOT_STATEMENT || len > stmt.length) return Reason.TOO_LARGE;
    const r = this.r;

    // 1. Structure: #6.18([protected bstr, unprotected map, payload bstr, signature bstr(64)]).
    r.init(stmt, 0, len);
    if (!r.head()) return r.err;
    if (r.major !== 6 || r.big || r.arg !== CoseTag.SIGN1) return Reason.MALFORMED;
    const n = r.readArray();
    if (n < 0) return r.err;
    if (n !== 4) return Reason.MALFORMED;
    const pLen = r.readBytes();
    if (pLen < 0) return r.err;
    const pOff = r.dataOff;
    if (r.pos >= len || stmt[r.pos] >> 5 !== 5) return Reason.MALFORMED;
    if (!r.skip(1)) return r.err; // unprotected: any canonical map, contents ignored
    const payLen = r.readBytes();
    if (payLen < 0) return r.err;
    const payOff = r.dataOff;
    const sigOff = r.readBytesN(64);
    if (sigOff < 0) return r.err;
    if (r.pos !== len) return Reason.MALFORMED;

    // 2. Protected header {1: alg, ?2: crit, 4: kid}.
    r.init(stmt, pOff, pOff + pLen);
    let entries = r.readMap();
    if (entries < 0) return r.err;
    let prevOff = -1;
    let prevLen = 0;
    let alg = 0;
    let haveAlg = false;
    let kidOff = -1;
    let critBad = false;
    for (let i = 0; i < entries; i++) {
      const kl = r.readIntKey(prevOff, prevLen);
      if (kl < 0) return r.err;
      prevOff = r.headStart;
      prevLen = kl;
      const key = r.intValue();
      if (key === HeaderLabel.ALG) {
        if (!r.head()) return r.err;
        if (!r.isInt()) return Reason.MALFORMED;
        alg = r.intValue();
        haveAlg = true;
      } else if (key === HeaderLabel.KID) {
        kidOff = r.readBytesN(Limits.KEY_ID_LEN);
        if (kidOff < 0) return r.err;
      } else if (key === HeaderLabel.CRIT) {
        const cn = r.readArray();
        if (cn < 0) return r.err;
        if (cn === 0) return Reason.MALFORMED;
        for (let j = 0; j < cn; j++) {
          if (!r.head()) return r.err;
          if (!r.isInt()) return Reason.MALFORMED;
          const c = r.intValue();
          if (c !== HeaderLabel.ALG && c !== HeaderLabel.CRIT && c !== HeaderLabel.KID) critBad = true;
        }
      } else {
        if (!r.skip(1)) return r.err;
      }
    }
    if (r.pos !== pOff + pLen) return Reason.MALFORMED;
    if (!haveAlg || kidOff < 0) return Reason.MALFORMED;

    // 3. Payload {1: version, 2: slot, 3: counter, 4: vendor, ?5: class, 6: retired kid, ?7: note}.
    r.init(stmt, payOff, payOff + payLen);
    entries = r.readMap();
    if (entries < 0) return r.err;
    prevOff = -1;
    prevLen = 0;
    let version = -1;
    let slot = -1;
    let counter = -1;
    let vendorOff = -1;
    let classOff = -1;
    let retiredKidOff = -1;
    for (let i = 0; i < entries; i++) {
      const kl = r.readIntKey(prevOff, prevLen);
      if (kl < 0) return r.err;
      prevOff = r.headStart;
      prevLen = kl;
      const key = r.intValue();
      if (key === RootStatementKey.FORMAT_VERSION) {
        version = r.readUint();
        if (version < 0) return r.err;
      } else if (key === RootStatementKey.SLOT) {
        slot = r.readUint();
        if (slot < 0) return r.err;
      } else if (key === RootStatementKey.COUNTER) {
        counter = r.readUint();
        if (counter < 0) return r.err;
      } else if (key === RootStatementKey.VENDOR_ID) {
        vendorOff = r.readBytesN(Limits.UUID_LEN);
        if (vendorOff < 0) return r.err;
      } else if (key === RootStatementKey.CLASS_ID) {
        classOff = r.readBytesN(Limits.UUID_LEN);
        if (classOff < 0) return r.err;
      } else if (key === RootStatementKey.RETIRED_KEY_ID) {
        retiredKidOff = r.readBytesN(Limits.KEY_ID_LEN);
        if (retiredKidOff < 0) return r.err;
      } else if (key === RootStatementKey.NOTE) {
        const tl = r.readText();
        if (tl < 0) return r.err;
        if (tl > NOTE_MAX) return Reason.TOO_LARGE;
      } else {
        if (!r.skip(1)) return r.err;
      }
    }
    if (r.pos !== payOff + payLen) return Reason.MALFORMED;
    if (version < 0 || slot < 0 || counter < 0 || vendorOff < 0 || retiredKidOff < 0) return Reason.MALFORMED;

    // Header semantics (after the structure is known to be sound, as for bundles).
    if (alg !== ALG_ED25519 && alg !== ALG_EDDSA) return Reason.UNSUPPORTED_ALGORITHM;
    if (critBad) return Reason.UNSUPPORTED_CRITICAL;
    if (version !== 1) return Reason.UNSUPPORTED_VERSION;

    // 4. Signer: a live root slot, not the one being retired.
    let signer = -1;
    for (let s = 0; s < st.rootCount; s++) {
      if (this.slotHasKid(st, s, stmt, kidOff)) {
        signer = s;
        break;
      }
    }
    if (signer < 0) return Reason.UNKNOWN_KEY;
    if (((st.rootRetired >> signer) & 1) !== 0) return Reason.REVOKED_ROOT;
    if (signer === slot) return Reason.KEY_NOT_AUTHORIZED;

    // 5. Signature over ["Signature1", protected, ROOT_RETIRE_AAD, payload].
    const sc = this.scratch;
    let o = 0;
    sc[o++] = 0x84;
    sc[o++] = 0x60 | SIGNATURE1.length;
    for (let i = 0; i < SIGNATURE1.length; i++) sc[o++] = SIGNATURE1[i];
    o = putBstrHead(sc, o, pLen);
    for (let i = 0; i < pLen; i++) sc[o++] = stmt[pOff + i];
    o = putBstrHead(sc, o, ROOT_RETIRE_AAD.length);
    for (let i = 0; i < ROOT_RETIRE_AAD.length; i++) sc[o++] = ROOT_RETIRE_AAD[i];
    o = putBstrHead(sc, o, payLen);
    for (let i = 0; i < payLen; i++) sc[o++] = stmt[payOff + i];
    for (let i = 0; i < 32; i++) this.pk[i] = st.roots[signer * 32 + i];
    for (let i = 0; i < 64; i++) this.sig[i] = stmt[sigOff + i];
    if (!this.prim.ed25519Verify(this.pk, this.sig, sc, 0, o)) return Reason.BAD_SIGNATURE;

    // 6. Does it apply to this device? Vendor, class (absent: every class), slot and key.
    for (let i = 0; i < Limits.UUID_LEN; i++) {
      if (stmt[vendorOff + i] !== st.vendorId[i]) return Reason.WRONG_VENDOR;
    }
    if (classOff >= 0) {
      for (let i = 0; i < Limits.UUID_LEN; i++) {
        if (stmt[classOff + i] !== st.classId[i]) return Reason.WRONG_CLASS;
      }
    }
    if (slot >= st.rootCount) return Reason.UNKNOWN_KEY;
    if (!this.slotHasKid(st, slot, stmt, retiredKidOff)) return Reason.UNKNOWN_KEY;

    // 7. Freshness: strictly above every counter applied before (replay protection).
    if (counter <= storedCounter) return Reason.STALE_STATEMENT;

    this.slot = slot;
    this.counter = counter;
    this.retiredMask = st.rootRetired | (1 << slot);
    this.signerSlot = signer;
    return Reason.OK;
  }
}

// Factory in the style of the other core entry points.
export function createRootStatementVerifier(primitives: Primitives): RootStatementVerifier {
  return new RootStatementVerifier(primitives);
}
