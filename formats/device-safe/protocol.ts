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
