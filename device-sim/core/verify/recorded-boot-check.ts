// A boot check affordable at every start on a slow board (formats/SPEC.md §7 "Boot check on
// a board without a signature accelerator"). CONSTRAINED TS.
//
// The full boot check (boot-verifier.ts) verifies the stored envelope's signatures and then
// re-hashes the chunk chain from flash. On a 64 MHz board without native signatures the
// signature costs minutes; the chain re-hash with a native SHA-256 costs milliseconds. So:
// once an envelope has passed a full signature check on this device (at install, or a full
// check at boot), a small record keeps what was proved, bound to everything the verdict
// depends on:
//   key   = SHA-256( SHA-256(envelope) || SHA-256(roots || vendor || class) || retired || minEpoch )
//   entry = key || signed chain head || chunk size || image size
// A later boot of the same envelope under the same trust state finds its entry and only
// re-hashes the chain from flash against the recorded (signed) chain head. Any difference -
// another envelope, roots, identity, retired roots or key epoch floor, or no valid record -
// runs the full check, which records again when it passes. The record holds two entries
// (the A and B slots' envelopes), written whole by the platform (a torn write reads as no
// record: a full check).
//
// Sharing: the full check borrows an existing bundle verifier (normally the install
// verifier) with its buffers, so a device holds one set; its configuration object is given
// the boot configuration's values for the duration of the check and restored afterwards.
// (The boot check must therefore not run during an install session; the device core runs it
// at boot, and on a retirement statement, which an install in progress fails closed.)
import { Reason } from "../../../formats/device-safe/reasons.js";
import { Limits } from "../../../formats/device-safe/limits.js";
import { writeChunkPrefix } from "../../../formats/device-safe/chunk-layout.js";
import { rootKeysLength } from "../../../formats/device-safe/root-keys.js";
import type { BundleVerifier, VerifierConfig } from "./bundle-verifier.js";
import { createBootVerifier } from "./boot-verifier.js";
import type { BootVerifier, ImageRead } from "./boot-verifier.js";
import type { Primitives } from "../crypto/primitives.js";

/** Where the record lives (a few hundred bytes: a Storage file, a flash page, EEPROM). */
export interface BootRecordHal {
  /** Reads the record into dst (BOOT_RECORD_LEN bytes); false when there is none. */
  readBootRecord(dst: Uint8Array): boolean;
  /** Replaces the record with src (BOOT_RECORD_LEN bytes). */
  writeBootRecord(src: Uint8Array): void;
}

const H = Limits.HASH_LEN;
const MAGIC = 0x52425746; // "FWBR"
const E_KEY = 0;
const E_HEAD = H;
const E_CHUNK = 2 * H;
const E_IMAGE = 2 * H + 4;
const ENTRY_LEN = 2 * H + 8;
/** Bytes of the record: magic, then two entries. */
export const BOOT_RECORD_LEN = 4 + 2 * ENTRY_LEN;

/** How the last check() decided. */
export const BootCheckPath = { NONE: 0, RECORDED: 1, FULL: 2 };

function getU32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + b[o + 3] * 16777216;
}
function putU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 255;
  b[o + 1] = (v >>> 8) & 255;
  b[o + 2] = (v >>> 16) & 255;
  b[o + 3] = (v >>> 24) & 255;
}

export class RecordedBootCheck {
  /** Chain head of the last image that passed check() (as BootVerifier.chainHead). */
  chainHead: Uint8Array;
  /** BootCheckPath of the last check(). */
  lastPath: number;
  private full: BootVerifier;
  private shared: BundleVerifier;
  private sharedCfg: VerifierConfig;
  private bootCfg: VerifierConfig;
  private prim: Primitives;
  private hal: BootRecordHal;
  private record: Uint8Array;
  private keyIn: Uint8Array; // envelope digest || trust digest || retired u32 || minEpoch lo, hi
  private key: Uint8Array;
  private next: Uint8Array;
  // Geometry seen while the full check reads the image (back to front).
  private inner: ImageRead | null;
  private seenEnd: number;
  private seenFirst: number;
  private observe: ImageRead;

  constructor(bootCfg: VerifierConfig, shared: BundleVerifier, sharedCfg: VerifierConfig, hal: BootRecordHal) {
    this.bootCfg = bootCfg;
    this.shared = shared;
    this.sharedCfg = sharedCfg;
    this.prim = bootCfg.primitives;
    this.hal = hal;
    this.full = createBootVerifier(sharedCfg, shared);
    this.chainHead = new Uint8Array(H);
    this.lastPath = BootCheckPath.NONE;
    this.record = new Uint8Array(BOOT_RECORD_LEN);
    this.keyIn = new Uint8Array(2 * H + 12);
    this.key = new Uint8Array(H);
    this.next = new Uint8Array(H);
    // The trust digest: roots (Ed25519 or HSS/LMS, SPEC §6), identity and the algorithm
    // policies, fixed for the device's lifetime; a change of any of them means a full check.
    const hssMask = typeof bootCfg.rootHssMask === "number" ? bootCfg.rootHssMask : 0;
    const rl = rootKeysLength(hssMask, bootCfg.rootCount);
    const t = new Uint8Array(rl + 2 * Limits.UUID_LEN + 3);
    t.set(bootCfg.roots.subarray(0, rl), 0);
    t.set(bootCfg.vendorId.subarray(0, Limits.UUID_LEN), rl);
    t.set(bootCfg.classId.subarray(0, Limits.UUID_LEN), rl + Limits.UUID_LEN);
    t[rl + 2 * Limits.UUID_LEN] = hssMask & 255;
    t[rl + 2 * Limits.UUID_LEN + 1] = typeof bootCfg.requiredAlgorithms === "number" ? bootCfg.requiredAlgorithms & 255 : 0;
    t[rl + 2 * Limits.UUID_LEN + 2] = typeof bootCfg.bootAlgorithms === "number" ? bootCfg.bootAlgorithms & 255 : 0;
    this.prim.sha256(t, 0, t.length, this.next);
    this.keyIn.set(this.next, H);
    this.inner = null;
    this.seenEnd = -1;
    this.seenFirst = -1;
    const self = this;
    this.observe = function (imageOffset: number, dst: Uint8Array, dstOff: number, len: number): void {
      if (self.seenEnd < 0) self.seenEnd = imageOffset + len;
      if (imageOffset === 0) self.seenFirst = len;
      const r = self.inner;
      if (r !== null) r(imageOffset, dst, dstOff, len);
    };
  }

  /** The envelope buffer the boot loader reads a stored envelope into (BootVerifier.envelopeBuffer). */
  envelopeBuffer(): Uint8Array {
    return this.full.envelopeBuffer();
  }

  /** Returns Reason.OK (0) or the reason the installed image must not boot. */
  check(envelope: Uint8Array, envLen: number, readImage: ImageRead): number {
    if (envLen < 1 || envLen > envelope.length) return Reason.MALFORMED;
    const c = this.bootCfg;
    this.makeKey(envelope, envLen, c.rootRetired, c.minEpoch);
    const rec = this.record;
    const have = this.hal.readBootRecord(rec) && getU32(rec, 0) === MAGIC;
    const e = have ? this.findEntry() : -1;
    if (e >= 0) {
      this.lastPath = BootCheckPath.RECORDED;
      if (this.rehash(readImage, rec, e) === Reason.OK) return Reason.OK;
      // The image differs from what was verified, or the record is damaged: decide in full.
    }
    return this.fullCheck(envelope, envLen, readImage);
  }

  /** Records an image the install verifier (the shared one) has just verified completely:
   *  its envelope is still in the verifier's buffer and its chain head is the signed one.
   *  Call when the slot becomes PENDING, before the verifier is reset. */
  recordInstalled(imageSize: number): void {
    const v = this.shared;
    if (v.envelopeLen < 1) return;
    this.makeKey(v.envelope, v.envelopeLen, this.sharedCfg.rootRetired, this.sharedCfg.minEpoch);
    this.save(v.chainHead, v.chunkSize, imageSize);
  }

  private makeKey(envelope: Uint8Array, envLen: number, retired: number, minEpoch: number): void {
    const k = this.keyIn;
    this.prim.sha256(envelope, 0, envLen, this.next);
    k.set(this.next, 0);
    putU32(k, 2 * H, retired);
    putU32(k, 2 * H + 4, minEpoch % 4294967296);
    putU32(k, 2 * H + 8, Math.floor(minEpoch / 4294967296));
    this.prim.sha256(k, 0, k.length, this.key);
  }

  private findEntry(): number {
    const rec = this.record;
    for (let e = 0; e < 2; e++) {
      const o = 4 + e * ENTRY_LEN + E_KEY;
      let d = 0;
      for (let i = 0; i < H; i++) d |= rec[o + i] ^ this.key[i];
      if (d === 0) return e;
    }
    return -1;
  }

  // The chain back to front from flash (SPEC §7) in the shared verifier's chunk buffer,
  // against the entry's recorded chain head.
  private rehash(readImage: ImageRead, rec: Uint8Array, e: number): number {
    const o = 4 + e * ENTRY_LEN;
    const cs = getU32(rec, o + E_CHUNK);
    const size = getU32(rec, o + E_IMAGE);
    const buf = this.shared.chunkBuffer;
    const pre = Limits.CHUNK_PREFIX_LEN;
    if (cs < 1 || size < 1 || pre + cs + H > buf.length) return Reason.MALFORMED;
    const count = Math.ceil(size / cs);
    const next = this.next;
    for (let k = 0; k < H; k++) next[k] = 0;
    for (let i = count - 1; i >= 0; i--) {
      const len = i === count - 1 ? size - i * cs : cs;
      readImage(i * cs, buf, pre, len);
      writeChunkPrefix(buf, 0, i);
      for (let k = 0; k < H; k++) buf[pre + len + k] = next[k];
      this.prim.sha256(buf, 0, pre + len + H, next);
    }
    let d = 0;
    for (let k = 0; k < H; k++) d |= next[k] ^ rec[o + E_HEAD + k];
    if (d !== 0) return Reason.CHUNK_HASH_MISMATCH;
    for (let k = 0; k < H; k++) this.chainHead[k] = next[k];
    return Reason.OK;
  }

  // The full check on the shared verifier, with the boot configuration's values in place.
  private fullCheck(envelope: Uint8Array, envLen: number, readImage: ImageRead): number {
    const s = this.sharedCfg;
    const b = this.bootCfg;
    const minSeq = s.minSequence;
    const minEpoch = s.minEpoch;
    const now = s.now;
    const retired = s.rootRetired;
    s.minSequence = b.minSequence;
    s.minEpoch = b.minEpoch;
    s.now = b.now;
    s.rootRetired = b.rootRetired;
    this.inner = readImage;
    this.seenEnd = -1;
    this.seenFirst = -1;
    const rc = this.full.check(envelope, envLen, this.observe);
    this.inner = null;
    s.minSequence = minSeq;
    s.minEpoch = minEpoch;
    s.now = now;
    s.rootRetired = retired;
    this.lastPath = BootCheckPath.FULL;
    if (rc !== Reason.OK) return rc;
    for (let k = 0; k < H; k++) this.chainHead[k] = this.full.chainHead[k];
    // One chunk: its length is the image size; several: the first is a whole chunk.
    if (this.seenEnd > 0 && this.seenFirst > 0) this.save(this.full.chainHead, this.seenFirst, this.seenEnd);
    return Reason.OK;
  }

  // Writes the current key's entry: over an entry with the same key, else over the other
  // one than the entry just used (entry 1 moves to 0, the new one goes to 1).
  private save(head: Uint8Array, chunkSize: number, imageSize: number): void {
    const rec = this.record;
    if (!(this.hal.readBootRecord(rec) && getU32(rec, 0) === MAGIC)) {
      for (let i = 0; i < BOOT_RECORD_LEN; i++) rec[i] = 0;
    }
    let e = this.findEntry();
    if (e < 0) {
      for (let i = 0; i < ENTRY_LEN; i++) rec[4 + i] = rec[4 + ENTRY_LEN + i];
      e = 1;
    }
    const o = 4 + e * ENTRY_LEN;
    putU32(rec, 0, MAGIC);
    rec.set(this.key, o + E_KEY);
    rec.set(head.subarray(0, H), o + E_HEAD);
    putU32(rec, o + E_CHUNK, chunkSize);
    putU32(rec, o + E_IMAGE, imageSize);
    this.hal.writeBootRecord(rec);
  }
}

/** Creates the recorded boot check over `shared` (a bundle verifier made with `sharedCfg`,
 *  normally the install verifier) and the platform's record storage. */
export function createRecordedBootCheck(bootCfg: VerifierConfig, shared: BundleVerifier, sharedCfg: VerifierConfig, hal: BootRecordHal): RecordedBootCheck {
  return new RecordedBootCheck(bootCfg, shared, sharedCfg, hal);
}
