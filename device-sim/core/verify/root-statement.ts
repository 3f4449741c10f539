// Root-retirement statements on the device (formats/SPEC.md §11). CONSTRAINED TS.
//
// A statement retires one root slot. It is a COSE_Sign whose signatures come from root
// slots (a COSE_Sign1 counts as one signature); it applies only when enough OTHER live slots
// signed it (the retirement threshold, §11.3), so one leaked root key cannot retire the
// others. The device applies it by setting the slot's retired bit and storing the
// statement's counter. The counter must be above the stored one (else STALE_STATEMENT,
// replay) and at most MAX_ROOT_COUNTER_STEP above it (else TOO_LARGE), and a slot is
// retired once: a device accepts at most rootCount - 1 statements in its life, so no
// statement can exhaust the counter.
// Every byte of the statement is attacker-controlled until its signatures check out; the
// checks run in the order SPEC §11.3 lists, and the first failure is the result.
// All buffers are allocated once, in the constructor.
import { Reason } from "../../../formats/device-safe/reasons.js";
import { Limits, MAX_ROOT_STATEMENT, MAX_ROOT_SIGNED, MAX_ROOT_NOTE_LEN, MAX_ROOT_COUNTER_STEP, ROOT_RETIRE_AAD } from "../../../formats/device-safe/limits.js";
import { keyAlgorithmBit } from "../../../formats/device-safe/root-keys.js";
import { createHssVerifier, HssVerifier } from "../crypto/hss-lms.js";
import { CoseTag, RootStatementKey } from "../../../formats/device-safe/labels.js";
import { CborReader, CborMapWalk, MapKeys } from "../../../formats/device-safe/cbor-reader.js";
import type { Primitives } from "../crypto/primitives.js";
import { bytesEqual } from "./bytes.js";
import { SignerHeaders, SignatureCheck, RootKeyTable, HeaderRules, SIG_STRUCTURE_OVERHEAD } from "./envelope.js";

// The part of the device's trust configuration a statement is checked against. A
// VerifierConfig (bundle-verifier.ts) has these fields, so it can be passed as is.
export interface RootTrustState {
  roots: Uint8Array; // packed root keys, slot order (formats/device-safe/root-keys.ts)
  rootCount: number; // 1..MAX_ROOT_SLOTS
  rootHssMask?: number; // bit s set = slot s holds an HSS/LMS key (60 bytes); absent: all Ed25519
  rootRetired: number; // bit s set = slot s retired
  vendorId: Uint8Array; // 16
  classId: Uint8Array; // 16
}

/**
 * Signatures a statement retiring one slot needs (SPEC §11.3): a majority of the `others`
 * live slots other than the one retired, or the provisioned `retireThreshold` if that is
 * higher (it can only raise the bar; 0 = not provisioned).
 */
export function retireThresholdFor(others: number, retireThreshold: number): number {
  const majority = ((others / 2) | 0) + 1;
  return retireThreshold > majority ? retireThreshold : majority;
}

export class RootStatementVerifier {
  // Results of the last check() that returned OK.
  slot: number; // the slot retired
  counter: number; // the statement's counter: store it
  retiredMask: number; // rootRetired with the slot's bit set: store it
  signerSlot: number; // the lowest slot whose signature counted
  signerMask: number; // bit s set = slot s signed and counted
  required: number; // signatures the statement needed (also set when it fell short)
  private prim: Primitives;
  private r: CborReader;
  private walk: CborMapWalk;
  private headers: SignerHeaders; // one slot per signature
  private sigs: SignatureCheck;
  private roots: RootKeyTable;
  private hash: Uint8Array;
  private signerOf: Int32Array; // per signature: its slot, or -1 when it does not count
  private isSign: boolean; // COSE_Sign (else COSE_Sign1)
  private nSigs: number;
  private payOff: number;
  private payLen: number;

  // hss: the device's HSS/LMS verifier to share (null: accept only Ed25519 roots' signatures);
  // absent: a verifier of its own, sized for statements.
  constructor(primitives: Primitives, hss?: HssVerifier | null) {
    this.prim = primitives;
    this.r = new CborReader();
    this.walk = new CborMapWalk(this.r);
    this.headers = new SignerHeaders(this.r, Limits.MAX_ROOT_SLOTS);
    const own = hss === undefined ? createHssVerifier(primitives, MAX_ROOT_SIGNED + SIG_STRUCTURE_OVERHEAD) : hss;
    this.sigs = new SignatureCheck(primitives, MAX_ROOT_SIGNED, own);
    this.roots = new RootKeyTable();
    this.hash = new Uint8Array(Limits.HASH_LEN);
    this.signerOf = new Int32Array(Limits.MAX_ROOT_SLOTS);
    this.isSign = false;
    this.nSigs = 0;
    this.payOff = 0;
    this.payLen = 0;
    this.slot = -1;
    this.counter = -1;
    this.retiredMask = 0;
    this.signerSlot = -1;
    this.signerMask = 0;
    this.required = 0;
  }

  // Step 1: #6.18([protected, unprotected, payload, signature]) or
  // #6.98([h'', unprotected, payload, [1*MAX_ROOT_SLOTS [protected, unprotected, signature]]]).
  // Fills the headers of every signature, payOff / payLen, nSigs.
  private parseStructure(stmt: Uint8Array, len: number): number {
    const r = this.r;
    const h = this.headers;
    r.init(stmt, 0, len);
    if (!r.head()) return r.err;
    if (r.major !== 6 || r.big || (r.arg !== CoseTag.SIGN1 && r.arg !== CoseTag.SIGN)) return Reason.MALFORMED;
    this.isSign = r.arg === CoseTag.SIGN;
    const n = r.readArray();
    if (n < 0) return r.err;
    if (n !== 4) return Reason.MALFORMED;
    const pLen = r.readBytes();
    if (pLen < 0) return r.err;
    const pOff = r.dataOff;
    if (this.isSign && pLen !== 0) return Reason.MALFORMED; // body protected: empty
    if (r.pos >= len || stmt[r.pos] >> 5 !== 5) return Reason.MALFORMED;
    if (!r.skip(1)) return r.err; // unprotected: any canonical map, contents ignored
    const payLen = r.readBytes();
    if (payLen < 0) return r.err;
    this.payOff = r.dataOff;
    this.payLen = payLen;
    if (!this.isSign) {
      // The protected header first: its alg says how long the signature is.
      const at = r.pos;
      this.nSigs = 1;
      const pr = h.parseProtected(stmt, 0, pOff, pLen, HeaderRules.INT_ONLY); // re-inits r
      if (pr !== Reason.OK) return pr;
      r.init(stmt, at, len);
      const sr = h.readSignature(r, 0);
      if (sr !== Reason.OK) return sr;
      if (r.pos !== len) return Reason.MALFORMED;
      return Reason.OK;
    }
    const ns = r.readArray();
    if (ns < 0) return r.err;
    if (ns === 0) return Reason.MALFORMED;
    if (ns > Limits.MAX_ROOT_SLOTS) return Reason.TOO_LARGE;
    this.nSigs = ns;
    for (let i = 0; i < ns; i++) {
      const m = r.readArray();
      if (m < 0) return r.err;
      if (m !== 3) return Reason.MALFORMED;
      const sl = r.readBytes();
      if (sl < 0) return r.err;
      const so = r.dataOff;
      if (r.pos >= len || stmt[r.pos] >> 5 !== 5) return Reason.MALFORMED;
      if (!r.skip(3)) return r.err;
      const at = r.pos;
      const rc = h.parseProtected(stmt, i, so, sl, HeaderRules.INT_ONLY); // re-inits r
      if (rc !== Reason.OK) return rc;
      r.init(stmt, at, len);
      const sr = h.readSignature(r, i);
      if (sr !== Reason.OK) return sr;
    }
    if (r.pos !== len) return Reason.MALFORMED;
    return Reason.OK;
  }

  // Step 4: which signatures may count. A signature counts for the live slot its kid names,
  // unless that slot is the one retired; a slot named twice counts once. Returns OK when at
  // least `required` distinct slots are named, else the first signature's failure, else
  // THRESHOLD_NOT_MET. No signature is verified yet.
  private resolveSigners(stmt: Uint8Array, retiredMask: number, target: number, required: number): number {
    const h = this.headers;
    let named = 0; // bit per slot
    let distinct = 0;
    let firstFail = 0;
    for (let i = 0; i < this.nSigs; i++) {
      this.signerOf[i] = -1;
      const s = this.roots.slotFor(retiredMask, stmt, h.kidOff[i]);
      let rc = Reason.OK;
      if (s === -1) rc = Reason.UNKNOWN_KEY;
      else if (s === -2) rc = Reason.REVOKED_ROOT;
      else if (s === target) rc = Reason.KEY_NOT_AUTHORIZED; // a root cannot retire itself
      else if (h.alg[i] !== keyAlgorithmBit(this.roots.keyLength(s))) rc = Reason.ALG_KEY_MISMATCH;
      if (rc !== Reason.OK) {
        if (firstFail === 0) firstFail = rc;
        continue;
      }
      if (((named >> s) & 1) === 1) continue; // the same slot again: counts once
      named = named | (1 << s);
      distinct++;
      this.signerOf[i] = s;
    }
    if (distinct >= required) return Reason.OK;
    return firstFail !== 0 ? firstFail : Reason.THRESHOLD_NOT_MET;
  }

  // Step 5: verify the counting signatures in order until `required` slots verified.
  private verifySigners(stmt: Uint8Array, roots: Uint8Array, required: number): number {
    const h = this.headers;
    let counted = 0;
    for (let i = 0; i < this.nSigs && counted < required; i++) {
      const s = this.signerOf[i];
      if (s < 0) continue;
      const rk = this.roots;
      if (!this.sigs.verify(roots, rk.keyOffset(s), rk.keyLength(s), stmt, h.protOff[i], h.protLen[i], ROOT_RETIRE_AAD, this.payOff, this.payLen, this.isSign, h.sigOff[i], h.sigLen[i])) {
        continue;
      }
      if (this.signerSlot < 0 || s < this.signerSlot) this.signerSlot = s;
      this.signerMask = this.signerMask | (1 << s);
      counted++;
    }
    return counted >= required ? Reason.OK : Reason.BAD_SIGNATURE;
  }

  // Checks stmt[0 .. len) against the device state, the stored counter and the provisioned
  // retirement threshold (0 = the majority rule alone). Returns a Reason (OK = 0). On OK,
  // slot / counter / retiredMask say what to persist.
  check(stmt: Uint8Array, len: number, st: RootTrustState, storedCounter: number, retireThreshold: number): number {
    this.slot = -1;
    this.counter = -1;
    this.retiredMask = st.rootRetired;
    this.signerSlot = -1;
    this.signerMask = 0;
    this.required = 0;
    if (len > MAX_ROOT_STATEMENT || len > stmt.length) return Reason.TOO_LARGE;
    const r = this.r;
    const w = this.walk;
    const h = this.headers;

    // 1-2. Structure, and every signature's protected header {1: alg, ?2: crit, 4: kid}
    // (integer labels only).
    let rc = this.parseStructure(stmt, len);
    if (rc !== Reason.OK) return rc;
    // What each signature covers must fit the Sig_structure scratch (SPEC §11.2).
    for (let i = 0; i < this.nSigs; i++) {
      if (h.protLen[i] + ROOT_RETIRE_AAD.length + this.payLen > MAX_ROOT_SIGNED) return Reason.TOO_LARGE;
    }

    // 3. Payload {1: version, 2: slot, 3: counter, 4: vendor, ?5: class, 6: retired kid, ?7: note}.
    const payOff = this.payOff;
    const payLen = this.payLen;
    r.init(stmt, payOff, payOff + payLen);
    let version = -1;
    let slot = -1;
    let counter = -1;
    let vendorOff = -1;
    let classOff = -1;
    let retiredKidOff = -1;
    if (w.begin(MapKeys.SAFE_INT) < 0) return r.err;
    while (w.next()) {
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
        if (tl > MAX_ROOT_NOTE_LEN) return Reason.TOO_LARGE;
      } else {
        if (!r.skip(1)) return r.err;
      }
    }
    if (r.err !== 0) return r.err;
    if (r.pos !== payOff + payLen) return Reason.MALFORMED;
    if (version < 0 || slot < 0 || counter < 0 || vendorOff < 0 || retiredKidOff < 0) return Reason.MALFORMED;

    // Header semantics (after the structure is known to be sound, as for bundles).
    for (let i = 0; i < this.nSigs; i++) {
      rc = h.check(i, Reason.UNSUPPORTED_ALGORITHM, Reason.UNSUPPORTED_CRITICAL, false);
      if (rc !== Reason.OK) return rc;
    }
    if (version !== Limits.FORMAT_VERSION) return Reason.UNSUPPORTED_VERSION;

    // 4. Signers: enough distinct live slots, none of them the one retired.
    const roots = this.roots;
    const hm = st.rootHssMask;
    roots.load(this.prim, st.roots, st.rootCount, typeof hm === "number" ? hm : 0, this.hash);
    let others = 0;
    for (let s = 0; s < roots.count; s++) {
      if (s !== slot && ((st.rootRetired >> s) & 1) === 0) others++;
    }
    const required = retireThresholdFor(others, retireThreshold);
    this.required = required;
    rc = this.resolveSigners(stmt, st.rootRetired, slot, required);
    if (rc !== Reason.OK) return rc;

    // 5. Signatures over ["Signature1", protected, ROOT_RETIRE_AAD, payload] (COSE_Sign1) or
    // ["Signature", h'', protected, ROOT_RETIRE_AAD, payload] (COSE_Sign).
    rc = this.verifySigners(stmt, st.roots, required);
    if (rc !== Reason.OK) return rc;

    // 6. Does it apply to this device? Vendor, class (absent: every class), slot and key.
    if (!bytesEqual(stmt, vendorOff, st.vendorId, 0, Limits.UUID_LEN)) return Reason.WRONG_VENDOR;
    if (classOff >= 0 && !bytesEqual(stmt, classOff, st.classId, 0, Limits.UUID_LEN)) return Reason.WRONG_CLASS;
    if (slot >= roots.count) return Reason.UNKNOWN_KEY;
    if (!roots.slotHasKid(slot, stmt, retiredKidOff)) return Reason.UNKNOWN_KEY;

    // 7. Freshness: strictly above every counter applied before (replay protection), at
    // most MAX_ROOT_COUNTER_STEP above it (no exhaustion), and a slot not yet retired
    // (nothing left to do: as stale as a replay).
    if (counter <= storedCounter) return Reason.STALE_STATEMENT;
    if (counter - storedCounter > MAX_ROOT_COUNTER_STEP) return Reason.TOO_LARGE;
    if (((st.rootRetired >> slot) & 1) === 1) return Reason.STALE_STATEMENT;

    this.slot = slot;
    this.counter = counter;
    this.retiredMask = st.rootRetired | (1 << slot);
    return Reason.OK;
  }
}

// Factory in the style of the other core entry points.
export function createRootStatementVerifier(primitives: Primitives, hss?: HssVerifier | null): RootStatementVerifier {
  return new RootStatementVerifier(primitives, hss);
}
