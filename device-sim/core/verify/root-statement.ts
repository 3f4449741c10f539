// Root-retirement statements on the device (formats/SPEC.md §11). CONSTRAINED TS.
//
// A statement is a COSE_Sign1 signed by one live root slot that retires ANOTHER slot. The
// device applies it by setting the slot's retired bit and storing the statement's counter;
// a statement whose counter is not above the stored one is STALE_STATEMENT (replay).
// Every byte of the statement is attacker-controlled until its signature checks out; the
// checks run in the order SPEC §11.3 lists, and the first failure is the result.
// All buffers are allocated once, in the constructor.
import { Reason } from "../../../formats/device-safe/reasons.js";
import { Limits, MAX_ROOT_STATEMENT, MAX_ROOT_NOTE_LEN, ROOT_RETIRE_AAD } from "../../../formats/device-safe/limits.js";
import { CoseTag, RootStatementKey } from "../../../formats/device-safe/labels.js";
import { CborReader, CborMapWalk, MapKeys } from "../../../formats/device-safe/cbor-reader.js";
import type { Primitives } from "../crypto/primitives.js";
import { bytesEqual } from "./bytes.js";
import { SignerHeaders, SignatureCheck, RootKeyTable, HeaderRules } from "./envelope.js";

// The part of the device's trust configuration a statement is checked against. A
// VerifierConfig (bundle-verifier.ts) has these fields, so it can be passed as is.
export interface RootTrustState {
  roots: Uint8Array; // rootCount * 32 bytes, slot order
  rootCount: number; // 1..MAX_ROOT_SLOTS
  rootRetired: number; // bit s set = slot s retired
  vendorId: Uint8Array; // 16
  classId: Uint8Array; // 16
}

export class RootStatementVerifier {
  // Results of the last check() that returned OK.
  slot: number; // the slot retired
  counter: number; // the statement's counter: store it
  retiredMask: number; // rootRetired with the slot's bit set: store it
  signerSlot: number; // the live slot that signed
  private prim: Primitives;
  private r: CborReader;
  private walk: CborMapWalk;
  private headers: SignerHeaders; // one slot: the statement's protected header
  private sigs: SignatureCheck;
  private roots: RootKeyTable;
  private hash: Uint8Array;

  constructor(primitives: Primitives) {
    this.prim = primitives;
    this.r = new CborReader();
    this.walk = new CborMapWalk(this.r);
    this.headers = new SignerHeaders(this.r, 1);
    this.sigs = new SignatureCheck(primitives, MAX_ROOT_STATEMENT);
    this.roots = new RootKeyTable();
    this.hash = new Uint8Array(Limits.HASH_LEN);
    this.slot = -1;
    this.counter = -1;
    this.retiredMask = 0;
    this.signerSlot = -1;
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
    const w = this.walk;
    const h = this.headers;

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
    const sigOff = r.readBytesN(Limits.SIGNATURE_LEN);
    if (sigOff < 0) return r.err;
    if (r.pos !== len) return Reason.MALFORMED;

    // 2. Protected header {1: alg, ?2: crit, 4: kid}: integer labels only.
    let rc = h.parseProtected(stmt, 0, pOff, pLen, HeaderRules.INT_ONLY);
    if (rc !== Reason.OK) return rc;

    // 3. Payload {1: version, 2: slot, 3: counter, 4: vendor, ?5: class, 6: retired kid, ?7: note}.
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
    rc = h.check(0, Reason.UNSUPPORTED_ALGORITHM, Reason.UNSUPPORTED_CRITICAL, false);
    if (rc !== Reason.OK) return rc;
    if (version !== Limits.FORMAT_VERSION) return Reason.UNSUPPORTED_VERSION;

    // 4. Signer: a live root slot, not the one being retired.
    const roots = this.roots;
    roots.load(this.prim, st.roots, st.rootCount, this.hash);
    const signer = roots.slotFor(st.rootRetired, stmt, h.kidOff[0]);
    if (signer === -1) return Reason.UNKNOWN_KEY;
    if (signer === -2) return Reason.REVOKED_ROOT;
    if (signer === slot) return Reason.KEY_NOT_AUTHORIZED;

    // 5. Signature over ["Signature1", protected, ROOT_RETIRE_AAD, payload].
    if (!this.sigs.verify(st.roots, signer * Limits.PUBLIC_KEY_LEN, stmt, pOff, pLen, ROOT_RETIRE_AAD, payOff, payLen, false, sigOff)) {
      return Reason.BAD_SIGNATURE;
    }

    // 6. Does it apply to this device? Vendor, class (absent: every class), slot and key.
    if (!bytesEqual(stmt, vendorOff, st.vendorId, 0, Limits.UUID_LEN)) return Reason.WRONG_VENDOR;
    if (classOff >= 0 && !bytesEqual(stmt, classOff, st.classId, 0, Limits.UUID_LEN)) return Reason.WRONG_CLASS;
    if (slot >= roots.count) return Reason.UNKNOWN_KEY;
    if (!roots.slotHasKid(slot, stmt, retiredKidOff)) return Reason.UNKNOWN_KEY;

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
