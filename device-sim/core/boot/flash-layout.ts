// Flash layout and the power-safe state area of the device (formats/PROTOCOL.md §6).
//
//   | state copy 0 | state copy 1 | envelope A | envelope B | slot A ........ | slot B ........ |
//
// The state record is small (STATE_RECORD_LEN bytes) and lives in two copies, each in its
// own erase unit. An update erases and writes the copy that does NOT hold the current
// record, with the counter incremented; a reader takes the valid copy (magic + CRC) with
// the highest counter. A power cut mid-erase or mid-write damages only the copy being
// written, so the previous state survives: state changes are atomic.
// Constrained TS: no exceptions, typed arrays allocated once.

import { Limits } from "../../../formats/device-safe/limits.js";
import { crc32 } from "../update/crc32.js";

/** Bytes of payload-decoder state a resume point holds (device-sim/core/decode/). */
export const DECODER_STATE_LEN = Limits.DECODER_STATE_LEN;

export interface FlashHal {
  flashRead(addr: number, dst: Uint8Array, off: number, len: number): void;
  // Erase the page starting at pageAddr (multiple of pageSize): all bytes become 0xFF.
  flashErase(pageAddr: number): void;
  // Program bytes; the target bytes must be erased (0xFF) first (no rewrite without erase).
  flashWrite(addr: number, src: Uint8Array, off: number, len: number): void;
  pageSize: number;
  flashSize: number;
  // Optional, for flash allocated as it is written (Espruino's Storage): can slot `slot` take
  // `bytes` more now? Absent: the slot size alone decides.
  slotCanHold?: (slot: number, bytes: number) => boolean;
}

// Slot states (persisted; also reported on the wire in INFO).
export const SlotState = {
  EMPTY: 0, // nothing usable
  INSTALLING: 1, // envelope stored, chunks arriving; resume point in the state record
  PENDING: 2, // every chunk verified and written; boots in test mode at next reset
  TESTING: 3, // booted once in test mode; reverted at the next reset unless confirmed
  CONFIRMED: 4, // the active image
  OLD: 5 // the previously active image, still intact
};

export const SLOT_VERSION_MAX = Limits.MAX_VERSION_LEN;

// Record layout (little-endian). Offsets are part of the on-flash format.
// Format 2 adds the root-retirement state (SPEC §11): the retired-slot bits applied by
// statements (byte 10, zero padding in format 1) and the statement counter (before the CRC).
// A format-1 record still loads (nothing retired, counter 0). Format 3 adds the resume state
// of an encoded install (SPEC §15) before the CRC: the page-aligned image offset a resumed
// install writes from and the payload decoder's state; a format-2 record loads with both zero.
// Saves always write format 3.
const MAGIC = 0x4c455346; // "FSEL"
const FORMAT = 3;
const FORMAT_V2 = 2;
const R_MAGIC = 0;
const R_COUNTER = 4;
const R_FORMAT = 8;
const R_ACTIVE = 9;
const R_RETIRED = 10; // u8: bit s = root slot s retired by a statement
const ROOT_MASK = (1 << Limits.MAX_ROOT_SLOTS) - 1;
const R_MIN_SEQ = 12; // lo, hi
const R_MIN_EPOCH = 20; // lo, hi
const R_SLOTS = 28;
const SLOT_REC_LEN = 32 + SLOT_VERSION_MAX;
// per slot: +0 state, +1 versionLen, +2 envLen (u16), +4 sequence (lo, hi),
// +12 keyEpochFloor + 1 (lo, hi; 0 = absent), +20 imageSize, +24 chunkSize, +28 chunkCount,
// +32 version bytes
const R_INSTALL = R_SLOTS + 2 * SLOT_REC_LEN; // nextChunk u32, expected[32]
const R_CRC_V1 = R_INSTALL + 36; // format 1 ended here
const R_STMT_COUNTER = R_INSTALL + 36; // lo, hi: counter of the last retirement statement applied
const R_CRC_V2 = R_STMT_COUNTER + 8; // format 2 ended here
const R_RESUME_OUT = R_STMT_COUNTER + 8; // u32: image offset (page-aligned) an encoded install resumes writing at
const R_DECODER = R_RESUME_OUT + 4; // DECODER_STATE_LEN bytes: payload decoder state at nextChunk
const R_CRC = R_DECODER + DECODER_STATE_LEN;
export const STATE_RECORD_LEN = R_CRC + 4;

const TWO32 = 4294967296;

export interface SlotInfo {
  state: number;
  envLen: number;
  sequence: number;
  keyEpochFloor: number; // -1 = absent
  imageSize: number;
  chunkSize: number;
  chunkCount: number;
  version: Uint8Array; // SLOT_VERSION_MAX bytes
  versionLen: number;
}

export interface DeviceState {
  counter: number;
  activeSlot: number; // -1 = none confirmed yet
  minSequence: number;
  minEpoch: number;
  slots: SlotInfo[]; // exactly 2
  nextChunk: number; // resume point of the INSTALLING slot (a wire chunk of an encoded payload)
  expected: Uint8Array; // 32: hash the chunk at nextChunk must have
  resumeOut: number; // encoded payload: page-aligned image offset the resumed install writes from
  decoderState: Uint8Array; // DECODER_STATE_LEN: the payload decoder's state at nextChunk
  rootRetired: number; // root slots retired by statements (bit s = slot s); only ever grows
  rootCounter: number; // counter of the last retirement statement applied (0 = none)
}

export interface FlashLayout {
  pageSize: number;
  stateCopy: number[]; // 2 addresses
  stateCopyLen: number; // bytes reserved per copy (whole pages)
  envAddr: number[]; // 2
  envAreaLen: number;
  slotAddr: number[]; // 2
  slotSize: number;
}

function roundUpPages(n: number, page: number): number {
  return (((n + page - 1) / page) | 0) * page;
}

// Returns null when the flash is too small for two envelope areas and two slots.
export function computeLayout(pageSize: number, flashSize: number): FlashLayout | null {
  const copyLen = roundUpPages(STATE_RECORD_LEN, pageSize);
  const envLen = roundUpPages(Limits.MAX_ENVELOPE, pageSize);
  const slot0 = 2 * copyLen + 2 * envLen;
  const slotSize = ((((flashSize - slot0) / 2) / pageSize) | 0) * pageSize;
  if (slotSize < pageSize) return null;
  return {
    pageSize: pageSize,
    stateCopy: [0, copyLen],
    stateCopyLen: copyLen,
    envAddr: [2 * copyLen, 2 * copyLen + envLen],
    envAreaLen: envLen,
    slotAddr: [slot0, slot0 + slotSize],
    slotSize: slotSize
  };
}

function newSlotInfo(): SlotInfo {
  return { state: 0, envLen: 0, sequence: 0, keyEpochFloor: -1, imageSize: 0, chunkSize: 0, chunkCount: 0, version: new Uint8Array(SLOT_VERSION_MAX), versionLen: 0 };
}

export function newDeviceState(): DeviceState {
  return { counter: 0, activeSlot: -1, minSequence: 0, minEpoch: 0, slots: [newSlotInfo(), newSlotInfo()], nextChunk: 0, expected: new Uint8Array(32), resumeOut: 0, decoderState: new Uint8Array(DECODER_STATE_LEN), rootRetired: 0, rootCounter: 0 };
}

/** Forgets a slot's image: EMPTY, no envelope, no version (the bytes in flash stay). */
export function clearSlot(s: SlotInfo): void {
  s.state = SlotState.EMPTY;
  s.envLen = 0;
  s.sequence = 0;
  s.keyEpochFloor = -1;
  s.imageSize = 0;
  s.chunkSize = 0;
  s.chunkCount = 0;
  s.versionLen = 0;
}

export function resetDeviceState(st: DeviceState): void {
  st.counter = 0;
  st.activeSlot = -1;
  st.minSequence = 0;
  st.minEpoch = 0;
  clearSlot(st.slots[0]);
  clearSlot(st.slots[1]);
  st.nextChunk = 0;
  for (let i = 0; i < 32; i++) st.expected[i] = 0;
  st.resumeOut = 0;
  for (let i = 0; i < DECODER_STATE_LEN; i++) st.decoderState[i] = 0;
  st.rootRetired = 0;
  st.rootCounter = 0;
}

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}

function get32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

// Numbers up to 2^53 - 1 as two 32-bit words.
function put53(b: Uint8Array, o: number, v: number): void {
  put32(b, o, v % TWO32);
  put32(b, o + 4, (v / TWO32) | 0);
}

function get53(b: Uint8Array, o: number): number {
  return get32(b, o + 4) * TWO32 + get32(b, o);
}

export interface StateStore {
  layout: FlashLayout;
  state: DeviceState;
  // Load the newest valid copy into `state` (defaults when neither copy is valid).
  load(): void;
  // Persist `state` (counter incremented) into the copy not holding the current record.
  save(): void;
  // Which copy holds the current record (-1 = none): diagnostics.
  current: number;
}

function stub(): void {}

export function createStateStore(hal: FlashHal, layout: FlashLayout): StateStore {
  const rec = new Uint8Array(STATE_RECORD_LEN);
  const st = newDeviceState();
  // Methods attached below (Espruino does not hoist function declarations).
  const store: StateStore = { layout: layout, state: st, load: stub, save: stub, current: -1 };

  // Reads copy c into rec; returns its counter, or -1 when invalid.
  function readCopy(c: number): number {
    hal.flashRead(layout.stateCopy[c], rec, 0, STATE_RECORD_LEN);
    if (get32(rec, R_MAGIC) !== MAGIC) return -1;
    const f = rec[R_FORMAT];
    const crcAt = f === FORMAT ? R_CRC : f === FORMAT_V2 ? R_CRC_V2 : f === 1 ? R_CRC_V1 : -1;
    if (crcAt < 0 || crc32(rec, 0, crcAt) !== get32(rec, crcAt)) return -1;
    return get32(rec, R_COUNTER);
  }

  function decode(): void {
    st.counter = get32(rec, R_COUNTER);
    st.activeSlot = rec[R_ACTIVE] === 0xff ? -1 : rec[R_ACTIVE] & 1;
    st.minSequence = get53(rec, R_MIN_SEQ);
    st.minEpoch = get53(rec, R_MIN_EPOCH);
    for (let s = 0; s < 2; s++) {
      const o = R_SLOTS + s * SLOT_REC_LEN;
      const si = st.slots[s];
      si.state = rec[o];
      si.versionLen = rec[o + 1] > SLOT_VERSION_MAX ? SLOT_VERSION_MAX : rec[o + 1];
      si.envLen = rec[o + 2] | (rec[o + 3] << 8);
      si.sequence = get53(rec, o + 4);
      si.keyEpochFloor = get53(rec, o + 12) - 1;
      si.imageSize = get32(rec, o + 20);
      si.chunkSize = get32(rec, o + 24);
      si.chunkCount = get32(rec, o + 28);
      si.version.set(rec.subarray(o + 32, o + 32 + SLOT_VERSION_MAX), 0);
    }
    st.nextChunk = get32(rec, R_INSTALL);
    st.expected.set(rec.subarray(R_INSTALL + 4, R_INSTALL + 36), 0);
    const f = rec[R_FORMAT];
    const v2 = f === FORMAT || f === FORMAT_V2;
    st.rootRetired = v2 ? rec[R_RETIRED] & ROOT_MASK : 0;
    st.rootCounter = v2 ? get53(rec, R_STMT_COUNTER) : 0;
    const v3 = f === FORMAT;
    st.resumeOut = v3 ? get32(rec, R_RESUME_OUT) : 0;
    for (let i = 0; i < DECODER_STATE_LEN; i++) st.decoderState[i] = v3 ? rec[R_DECODER + i] : 0;
  }

  function encode(): void {
    for (let i = 0; i < STATE_RECORD_LEN; i++) rec[i] = 0;
    put32(rec, R_MAGIC, MAGIC);
    put32(rec, R_COUNTER, st.counter);
    rec[R_FORMAT] = FORMAT;
    rec[R_ACTIVE] = st.activeSlot < 0 ? 0xff : st.activeSlot;
    rec[R_RETIRED] = st.rootRetired & ROOT_MASK;
    put53(rec, R_MIN_SEQ, st.minSequence);
    put53(rec, R_MIN_EPOCH, st.minEpoch);
    for (let s = 0; s < 2; s++) {
      const o = R_SLOTS + s * SLOT_REC_LEN;
      const si = st.slots[s];
      rec[o] = si.state;
      rec[o + 1] = si.versionLen;
      rec[o + 2] = si.envLen & 0xff;
      rec[o + 3] = (si.envLen >>> 8) & 0xff;
      put53(rec, o + 4, si.sequence);
      put53(rec, o + 12, si.keyEpochFloor + 1);
      put32(rec, o + 20, si.imageSize);
      put32(rec, o + 24, si.chunkSize);
      put32(rec, o + 28, si.chunkCount);
      rec.set(si.version.subarray(0, SLOT_VERSION_MAX), o + 32);
    }
    put32(rec, R_INSTALL, st.nextChunk);
    rec.set(st.expected.subarray(0, 32), R_INSTALL + 4);
    put53(rec, R_STMT_COUNTER, st.rootCounter);
    put32(rec, R_RESUME_OUT, st.resumeOut);
    rec.set(st.decoderState.subarray(0, DECODER_STATE_LEN), R_DECODER);
    put32(rec, R_CRC, crc32(rec, 0, R_CRC));
  }

  function load(): void {
    const c0 = readCopy(0);
    const c1 = readCopy(1);
    let pick = -1;
    if (c0 >= 0 && (c1 < 0 || c0 > c1)) pick = 0;
    else if (c1 >= 0) pick = 1;
    store.current = pick;
    if (pick < 0) {
      resetDeviceState(st);
      return;
    }
    if (pick === 0) readCopy(0); // rec holds copy 1 after the second read
    decode();
  }

  function save(): void {
    const target = store.current === 0 ? 1 : 0;
    st.counter = st.counter + 1;
    encode();
    const base = layout.stateCopy[target];
    for (let a = 0; a < layout.stateCopyLen; a += layout.pageSize) hal.flashErase(base + a);
    hal.flashWrite(base, rec, 0, STATE_RECORD_LEN);
    store.current = target;
  }

  store.load = load;
  store.save = save;
  return store;
}
