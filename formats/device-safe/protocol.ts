// The serial update protocol's message codec (formats/PROTOCOL.md §3-§5), shared by the
// device core and the host (`fwseal flash`). Every frame body starts with a type byte and a
// tag byte; the device echoes the tag of the request it answers. Integers little-endian.
// Constrained TS.

/** Protocol version a device reports in INFO and the host checks. */
export const PROTOCOL_VERSION = 1;

/** Frame type bytes of the update protocol (formats/PROTOCOL.md §3). */
export const Msg = {
  // host -> device
  INFO: 0x01, // [ver u8]                        -> R_INFO
  BEGIN: 0x02, // [flags u8][bundleLen u32]      -> R_OK [maxData u16][window u8] | R_ERROR
  DATA: 0x03, // [offset u32][bytes...]          -> R_ACK | R_NAK | R_ERROR
  STATUS: 0x04, // []                            -> R_STATUS
  RESUME: 0x05, // [sha256(envelope) 32]         -> R_OK [resumeOffset u32] | R_ERROR
  ABORT: 0x06, // []                             -> R_OK
  REBOOT: 0x07, // []                            -> R_OK, then the device resets
  CONFIRM: 0x08, // []                           -> R_OK [sequence lo u32, hi u32] | R_ERROR
  END: 0x09, // [] end of the bundle stream      -> R_OK [bundleLen u32] | R_ERROR (TRUNCATED...)
  // A root-retirement statement (SPEC §11) in fragments: [total u16][offset u16][bytes...].
  // Not last: R_OK [received u16] | R_NAK [expected u32]. Last (received = total): the
  // device checks and applies it -> R_OK [received u16][retiredMask u8][slot u8][counter lo,hi]
  // | R_ERROR [reason] (STALE_STATEMENT, REVOKED_ROOT, BAD_SIGNATURE, ..., BAD_STATE).
  RETIRE_ROOT: 0x0a,
  // device -> host
  R_INFO: 0x81,
  R_OK: 0x82,
  R_ACK: 0x83, // [nextOffset u32][flags u8: bit0 = every chunk verified and written: send END]
  R_NAK: 0x84, // [expectedOffset u32]: a gap (lost or corrupted frame); resend from there
  R_ERROR: 0x85, // [reason u8][chunk i32][offset u32]
  R_STATUS: 0x86
};

// Header bytes of a DATA frame before the payload: type, tag, offset.
export const DATA_HEADER_LEN = 6;

// Header bytes of a RETIRE_ROOT frame before the statement fragment: type, tag, total, offset.
export const RETIRE_HEADER_LEN = 6;

export const AckFlag = { VERIFIED: 1 };

/** Device run modes reported in INFO. */
export const RunMode = {
  RECOVERY: 0, // no verified image to run: only the update protocol is available
  NORMAL: 1, // running a confirmed image
  TEST: 2 // running a new image in test mode: confirm or it reverts at the next reset
};

// Install session states reported in STATUS.
// VERIFIED: every chunk verified and written, waiting for END (a byte after the last chunk
// is still TRAILING_DATA); COMPLETE: END received, the slot is marked for a test boot.
export const Session = { IDLE: 0, RECEIVING: 1, COMPLETE: 2, REJECTED: 3, VERIFIED: 4 };

// BEGIN flags (reserved, must be 0 in version 1).
export const BeginFlag = { NONE: 0 };

const TWO32 = 4294967296;

export function putU16(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
}

export function getU16(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}

export function putU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}

export function getU32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

// Unsigned integers up to 2^53 - 1 as two u32 words (lo, hi).
export function putU53(b: Uint8Array, o: number, v: number): void {
  putU32(b, o, v % TWO32);
  putU32(b, o + 4, (v / TWO32) | 0);
}

export function getU53(b: Uint8Array, o: number): number {
  return getU32(b, o + 4) * TWO32 + getU32(b, o);
}

// ---------- field offsets (in the frame body, counted from the type byte) ----------
// Each layout of PROTOCOL.md §3-§5 is named once here; the device writes and the host reads
// through these names (and the write/read pairs below), never through bare numbers.

/** Bytes before a request's fields (type, tag): a host that builds a request's fields
 *  without them writes field X at XAt.FIELD - REQUEST_HEAD_LEN. */
export const REQUEST_HEAD_LEN = 2;

/** BEGIN request: [flags u8][bundleLen u32] (bundleLen is informational). */
export const BeginAt = { FLAGS: 2, BUNDLE_LEN: 3, LEN: 7 };

/** DATA request: [offset u32][bundle bytes]. */
export const DataAt = { OFFSET: 2, BYTES: DATA_HEADER_LEN };

/** RESUME request: [sha256(envelope) 32]. */
export const ResumeAt = { ENVELOPE_HASH: 2, LEN: 34 };

/** RETIRE_ROOT request: [total u16][offset u16][statement bytes]. */
export const RetireAt = { TOTAL: 2, OFFSET: 4, BYTES: RETIRE_HEADER_LEN };

/** R_ACK [next u32][flags u8] and R_NAK [expected u32]. */
export const AckAt = { NEXT: 2, FLAGS: 6, LEN: 7, NAK_LEN: 6 };

/** R_ERROR [reason u8][chunk u32, 0xFFFFFFFF = none][offset u32]. */
export const ErrorAt = { REASON: 2, CHUNK: 3, OFFSET: 7, LEN: 11 };

/** R_OK of BEGIN [maxData u16][window u8]; of END [bundleLen u32]; of CONFIRM [sequence u53]. */
export const BeginOkAt = { MAX_DATA: 2, WINDOW: 4, LEN: 5 };
export const EndOkAt = { BUNDLE_LEN: 2, LEN: 6 };
export const ConfirmOkAt = { SEQUENCE: 2, LEN: 10 };

/** R_OK of RESUME: [resumeOffset u32][maxData u16][window u8]. */
export const ResumeOkAt = { OFFSET: 2, MAX_DATA: 6, WINDOW: 8, LEN: 9 };

/** R_OK of RETIRE_ROOT: [received u16]; after the last fragment also
 *  [retiredMask u8][slot u8][counter u53]. R_NAK carries [expected u32] (AckAt.NEXT). */
export const RetireOkAt = { RECEIVED: 2, PARTIAL_LEN: 4, RETIRED: 4, SLOT: 5, COUNTER: 6, LEN: 14 };

/** R_INFO: fixed part up to SLOTS, then two slot records (SlotRecordAt), then RootsAt. */
export const InfoAt = {
  VERSION: 2,
  MAX_DATA: 3,
  WINDOW: 5,
  VENDOR_ID: 6,
  CLASS_ID: 22,
  RUNNING_SLOT: 38,
  RUN_MODE: 39,
  REVERTED: 40,
  BOOT_CHECK: 41, // one byte per slot
  FRAMES: 43,
  MIN_SEQUENCE: 47,
  MIN_EPOCH: 55,
  SLOT_SIZE: 63,
  MAX_CHUNK: 67,
  INSTALL_SLOT: 71,
  INSTALL_NEXT_CHUNK: 72,
  INSTALL_CHUNK_COUNT: 76,
  SLOTS: 80
};

/** One slot record of R_INFO, relative to its start: [state u8][sequence u53][imageSize u32]
 *  [versionLen u8][version]. */
export const SlotRecordAt = { STATE: 0, SEQUENCE: 1, IMAGE_SIZE: 9, VERSION_LEN: 13, VERSION: 14 };

/** The root-slot trailer of R_INFO (appended in version 1), relative to its start. */
export const RootsAt = { COUNT: 0, RETIRED: 1, COUNTER: 2, LEN: 10 };

/** R_STATUS. */
export const StatusAt = {
  SESSION: 2,
  OFFSET: 3,
  LAST_REASON: 7,
  LAST_CHUNK: 8,
  INSTALL_SLOT: 12,
  NEXT_CHUNK: 13,
  CHUNK_COUNT: 17,
  RESUME_OFFSET: 21,
  LEN: 25
};

// "None" on the wire: 0xFF for a slot or a boot check, 0xFFFFFFFF for a chunk index. In the
// field records below it is -1.
const NONE_U8 = 0xff;
const NONE_U32 = 0xffffffff;

function putOptU8(b: Uint8Array, o: number, v: number): void {
  b[o] = v < 0 ? NONE_U8 : v;
}

function getOptU8(b: Uint8Array, o: number): number {
  return b[o] === NONE_U8 ? -1 : b[o];
}

function putOptU32(b: Uint8Array, o: number, v: number): void {
  putU32(b, o, v < 0 ? NONE_U32 : v);
}

function getOptU32(b: Uint8Array, o: number): number {
  const v = getU32(b, o);
  return v === NONE_U32 ? -1 : v;
}

/** Starts a reply body: type and the echoed tag. */
export function putReplyHead(b: Uint8Array, type: number, tag: number): void {
  b[0] = type;
  b[1] = tag;
}

/** Writes R_ERROR; chunk -1 = the envelope / none. Returns the body length. */
export function writeErrorReply(b: Uint8Array, tag: number, reason: number, chunk: number, offset: number): number {
  putReplyHead(b, Msg.R_ERROR, tag);
  b[ErrorAt.REASON] = reason;
  putOptU32(b, ErrorAt.CHUNK, chunk);
  putU32(b, ErrorAt.OFFSET, offset);
  return ErrorAt.LEN;
}

/** The fields of R_ERROR. */
export interface ErrorFields {
  reason: number;
  chunk: number; // -1 = the envelope / none
  offset: number;
}

/** Reads R_ERROR from b[0 .. len). Returns false when it is too short. */
export function readErrorReply(b: Uint8Array, len: number, f: ErrorFields): boolean {
  if (len < ErrorAt.LEN) return false;
  f.reason = b[ErrorAt.REASON];
  f.chunk = getOptU32(b, ErrorAt.CHUNK);
  f.offset = getU32(b, ErrorAt.OFFSET);
  return true;
}

/** Writes R_ACK (cumulative next offset, AckFlag bits). Returns the body length. */
export function writeAckReply(b: Uint8Array, tag: number, next: number, flags: number): number {
  putReplyHead(b, Msg.R_ACK, tag);
  putU32(b, AckAt.NEXT, next);
  b[AckAt.FLAGS] = flags;
  return AckAt.LEN;
}

/** Writes R_NAK (the offset the device expects). Returns the body length. */
export function writeNakReply(b: Uint8Array, tag: number, expected: number): number {
  putReplyHead(b, Msg.R_NAK, tag);
  putU32(b, AckAt.NEXT, expected);
  return AckAt.NAK_LEN;
}

/** One slot record of R_INFO; version[0 .. versionLen). */
export interface InfoSlotFields {
  state: number;
  sequence: number;
  imageSize: number;
  version: Uint8Array;
  versionLen: number;
}

/** The fields of R_INFO. -1 = none for runningSlot, bootCheck[s] and installSlot;
 *  rootCount -1 = the reply has no root trailer (read side only). */
export interface InfoFields {
  protocolVersion: number;
  maxData: number;
  window: number;
  vendorId: Uint8Array; // 16
  classId: Uint8Array; // 16
  runningSlot: number;
  runMode: number;
  reverted: number;
  bootCheck: Int32Array; // 2
  framesSinceBoot: number;
  minSequence: number;
  minEpoch: number;
  slotSize: number;
  maxChunkSize: number;
  installSlot: number;
  installNextChunk: number;
  installChunkCount: number;
  slots: InfoSlotFields[]; // 2
  rootCount: number;
  rootRetired: number;
  rootCounter: number;
}

function newInfoSlotFields(): InfoSlotFields {
  return { state: 0, sequence: 0, imageSize: 0, version: new Uint8Array(0), versionLen: 0 };
}

/** A zeroed R_INFO record (allocate once; writers and readers fill it in place). */
export function newInfoFields(): InfoFields {
  return {
    protocolVersion: PROTOCOL_VERSION,
    maxData: 0,
    window: 0,
    vendorId: new Uint8Array(16),
    classId: new Uint8Array(16),
    runningSlot: -1,
    runMode: 0,
    reverted: 0,
    bootCheck: new Int32Array(2),
    framesSinceBoot: 0,
    minSequence: 0,
    minEpoch: 0,
    slotSize: 0,
    maxChunkSize: 0,
    installSlot: -1,
    installNextChunk: 0,
    installChunkCount: 0,
    slots: [newInfoSlotFields(), newInfoSlotFields()],
    rootCount: -1,
    rootRetired: 0,
    rootCounter: 0
  };
}

function putInfoSlot(b: Uint8Array, o: number, s: InfoSlotFields): number {
  const vl = s.versionLen;
  b[o + SlotRecordAt.STATE] = s.state;
  putU53(b, o + SlotRecordAt.SEQUENCE, s.sequence);
  putU32(b, o + SlotRecordAt.IMAGE_SIZE, s.imageSize);
  b[o + SlotRecordAt.VERSION_LEN] = vl;
  b.set(s.version.subarray(0, vl), o + SlotRecordAt.VERSION);
  return o + SlotRecordAt.VERSION + vl;
}

/** Writes R_INFO with the root trailer. Returns the body length. */
export function writeInfoReply(b: Uint8Array, tag: number, f: InfoFields): number {
  putReplyHead(b, Msg.R_INFO, tag);
  b[InfoAt.VERSION] = f.protocolVersion;
  putU16(b, InfoAt.MAX_DATA, f.maxData);
  b[InfoAt.WINDOW] = f.window;
  b.set(f.vendorId.subarray(0, 16), InfoAt.VENDOR_ID);
  b.set(f.classId.subarray(0, 16), InfoAt.CLASS_ID);
  putOptU8(b, InfoAt.RUNNING_SLOT, f.runningSlot);
  b[InfoAt.RUN_MODE] = f.runMode;
  b[InfoAt.REVERTED] = f.reverted;
  putOptU8(b, InfoAt.BOOT_CHECK, f.bootCheck[0]);
  putOptU8(b, InfoAt.BOOT_CHECK + 1, f.bootCheck[1]);
  putU32(b, InfoAt.FRAMES, f.framesSinceBoot);
  putU53(b, InfoAt.MIN_SEQUENCE, f.minSequence);
  putU53(b, InfoAt.MIN_EPOCH, f.minEpoch);
  putU32(b, InfoAt.SLOT_SIZE, f.slotSize);
  putU32(b, InfoAt.MAX_CHUNK, f.maxChunkSize);
  putOptU8(b, InfoAt.INSTALL_SLOT, f.installSlot);
  putU32(b, InfoAt.INSTALL_NEXT_CHUNK, f.installNextChunk);
  putU32(b, InfoAt.INSTALL_CHUNK_COUNT, f.installChunkCount);
  let o = putInfoSlot(b, InfoAt.SLOTS, f.slots[0]);
  o = putInfoSlot(b, o, f.slots[1]);
  b[o + RootsAt.COUNT] = f.rootCount;
  b[o + RootsAt.RETIRED] = f.rootRetired;
  putU53(b, o + RootsAt.COUNTER, f.rootCounter);
  return o + RootsAt.LEN;
}

// Returns the offset after the record, or -1 when it does not fit in len. The version is a
// view into b.
function getInfoSlot(b: Uint8Array, len: number, o: number, s: InfoSlotFields): number {
  if (o + SlotRecordAt.VERSION > len) return -1;
  const vl = b[o + SlotRecordAt.VERSION_LEN];
  if (o + SlotRecordAt.VERSION + vl > len) return -1;
  s.state = b[o + SlotRecordAt.STATE];
  s.sequence = getU53(b, o + SlotRecordAt.SEQUENCE);
  s.imageSize = getU32(b, o + SlotRecordAt.IMAGE_SIZE);
  s.version = b.subarray(o + SlotRecordAt.VERSION, o + SlotRecordAt.VERSION + vl);
  s.versionLen = vl;
  return o + SlotRecordAt.VERSION + vl;
}

/** Reads R_INFO from b[0 .. len) into f (vendorId, classId copied; slot versions are views
 *  into b). Returns false when a part it needs is missing. A reply without the root trailer
 *  leaves rootCount at -1; bytes past what version 1 defines are ignored. */
export function readInfoReply(b: Uint8Array, len: number, f: InfoFields): boolean {
  if (len < InfoAt.SLOTS) return false;
  let o = getInfoSlot(b, len, InfoAt.SLOTS, f.slots[0]);
  if (o >= 0) o = getInfoSlot(b, len, o, f.slots[1]);
  if (o < 0) return false;
  f.protocolVersion = b[InfoAt.VERSION];
  f.maxData = getU16(b, InfoAt.MAX_DATA);
  f.window = b[InfoAt.WINDOW];
  f.vendorId.set(b.subarray(InfoAt.VENDOR_ID, InfoAt.VENDOR_ID + 16), 0);
  f.classId.set(b.subarray(InfoAt.CLASS_ID, InfoAt.CLASS_ID + 16), 0);
  f.runningSlot = getOptU8(b, InfoAt.RUNNING_SLOT);
  f.runMode = b[InfoAt.RUN_MODE];
  f.reverted = b[InfoAt.REVERTED];
  f.bootCheck[0] = getOptU8(b, InfoAt.BOOT_CHECK);
  f.bootCheck[1] = getOptU8(b, InfoAt.BOOT_CHECK + 1);
  f.framesSinceBoot = getU32(b, InfoAt.FRAMES);
  f.minSequence = getU53(b, InfoAt.MIN_SEQUENCE);
  f.minEpoch = getU53(b, InfoAt.MIN_EPOCH);
  f.slotSize = getU32(b, InfoAt.SLOT_SIZE);
  f.maxChunkSize = getU32(b, InfoAt.MAX_CHUNK);
  f.installSlot = getOptU8(b, InfoAt.INSTALL_SLOT);
  f.installNextChunk = getU32(b, InfoAt.INSTALL_NEXT_CHUNK);
  f.installChunkCount = getU32(b, InfoAt.INSTALL_CHUNK_COUNT);
  f.rootCount = -1;
  f.rootRetired = 0;
  f.rootCounter = 0;
  if (o + RootsAt.LEN <= len) {
    f.rootCount = b[o + RootsAt.COUNT];
    f.rootRetired = b[o + RootsAt.RETIRED];
    f.rootCounter = getU53(b, o + RootsAt.COUNTER);
  }
  return true;
}

/** The fields of R_STATUS. -1 = none for lastChunk and installSlot. */
export interface StatusFields {
  session: number;
  offset: number;
  lastReason: number;
  lastChunk: number;
  installSlot: number;
  nextChunk: number;
  chunkCount: number;
  resumeOffset: number;
}

/** A zeroed R_STATUS record (allocate once). */
export function newStatusFields(): StatusFields {
  return { session: 0, offset: 0, lastReason: 0, lastChunk: -1, installSlot: -1, nextChunk: 0, chunkCount: 0, resumeOffset: 0 };
}

/** Writes R_STATUS. Returns the body length. */
export function writeStatusReply(b: Uint8Array, tag: number, f: StatusFields): number {
  putReplyHead(b, Msg.R_STATUS, tag);
  b[StatusAt.SESSION] = f.session;
  putU32(b, StatusAt.OFFSET, f.offset);
  b[StatusAt.LAST_REASON] = f.lastReason;
  putOptU32(b, StatusAt.LAST_CHUNK, f.lastChunk);
  putOptU8(b, StatusAt.INSTALL_SLOT, f.installSlot);
  putU32(b, StatusAt.NEXT_CHUNK, f.nextChunk);
  putU32(b, StatusAt.CHUNK_COUNT, f.chunkCount);
  putU32(b, StatusAt.RESUME_OFFSET, f.resumeOffset);
  return StatusAt.LEN;
}

/** Reads R_STATUS from b[0 .. len) into f. Returns false when it is too short. */
export function readStatusReply(b: Uint8Array, len: number, f: StatusFields): boolean {
  if (len < StatusAt.LEN) return false;
  f.session = b[StatusAt.SESSION];
  f.offset = getU32(b, StatusAt.OFFSET);
  f.lastReason = b[StatusAt.LAST_REASON];
  f.lastChunk = getOptU32(b, StatusAt.LAST_CHUNK);
  f.installSlot = getOptU8(b, StatusAt.INSTALL_SLOT);
  f.nextChunk = getU32(b, StatusAt.NEXT_CHUNK);
  f.chunkCount = getU32(b, StatusAt.CHUNK_COUNT);
  f.resumeOffset = getU32(b, StatusAt.RESUME_OFFSET);
  return true;
}
