// The device application: boot loader (verify what is about to run, every boot; A/B slots
// with MCUboot-style test / confirm / revert) and the update receiver behind the serial
// protocol (formats/PROTOCOL.md). The same code runs in the Node simulator and in Duktape on
// the emulated MCU; a platform supplies only the small HAL below and feeds received UART
// bytes to onBytes().
//
// Invariants (checked exhaustively by test/unit/device-powercut.test.ts):
//  - The running image was verified (signature, trust, chain over every byte in flash)
//    by the boot verifier immediately before it was selected. No unverified image runs.
//  - The active (confirmed) slot is never written while it is active. Installs go to the
//    other slot, and that slot is marked INSTALLING in the state area before its first
//    byte is erased.
//  - Every state change is one atomic state-record write (flash-layout.ts), so a power cut
//    at any flash operation leaves either the old or the new state, both bootable.
//  - Anti-rollback (minimum sequence) and the minimum key epoch advance only on confirm.
//  - Root slots retired by a statement (RETIRE_ROOT, SPEC §11) stay retired: the bits and
//    the statement counter live in the state record and only grow; every verifier (install,
//    resume, boot) uses burned-in bits | persisted bits. A statement is applied only while a
//    confirmed image runs that still verifies without the slot (or no image runs at all).
// Constrained TS: no exceptions, no allocation after createDeviceApp().

import { Reason } from "../../formats/device-safe/reasons.js";
import { Limits, MAX_ROOT_STATEMENT } from "../../formats/device-safe/limits.js";
import type { Primitives } from "./crypto/primitives.js";
import { createFrameDecoder, createFrameEncoder } from "./update/framing.js";
import { computeLayout, createStateStore, SlotState, SLOT_VERSION_MAX } from "./boot/flash-layout.js";
import type { FlashHal, FlashLayout, StateStore, SlotInfo } from "./boot/flash-layout.js";
import { Msg, PROTOCOL_VERSION, DATA_HEADER_LEN, RETIRE_HEADER_LEN, AckFlag, RunMode, Session, putU16, getU16, putU32, getU32, putU53 } from "../../formats/device-safe/protocol.js";
import { createBundleVerifier } from "./verify/bundle-verifier.js";
import { createBootVerifier } from "./verify/boot-verifier.js";
import { createRootStatementVerifier } from "./verify/root-statement.js";

// What a platform provides. Flash semantics: erase sets a page to 0xFF; write programs
// erased bytes only. uartWrite may block until the bytes are queued. reset() restarts the
// device (on an MCU it does not return; in the simulator it sets a flag and returns, and
// the core stops processing input until boot() is called again).
export interface DeviceHal extends FlashHal {
  uartWrite(bytes: Uint8Array, off: number, len: number): void;
  nowSeconds(): number; // trusted time in seconds since 1970, or -1 if none
  reset(): void;
}

// The subset of the FORMAT verifier contract (team brief) the device uses.
export interface DeviceVerifierConfig {
  primitives: Primitives;
  roots: Uint8Array;
  rootCount: number;
  rootRetired: number;
  vendorId: Uint8Array;
  classId: Uint8Array;
  minSequence: number;
  minEpoch: number;
  threshold: number;
  now: number;
  maxChunkSize: number;
}

export interface DeviceBundleVerifier {
  push(buf: Uint8Array, off: number, len: number): number;
  consumed: number;
  reason: number;
  rejectChunk: number;
  sequence: number;
  version: string;
  imageSize: number;
  chunkSize: number;
  chunkCount: number;
  keyEpochFloor: number;
  envelope: Uint8Array;
  envelopeLen: number;
  chunkIndex: number;
  chunkData: Uint8Array;
  chunkLen: number;
  expected: Uint8Array;
  nextChunk: number;
  resume(chunkIndex: number, expected: Uint8Array): number;
  end(): number;
  reset(): void;
}

export interface DeviceBootVerifier {
  check(envelope: Uint8Array, envLen: number, readImage: (imageOffset: number, dst: Uint8Array, dstOff: number, len: number) => void): number;
}

// VerifyEvent values of the FORMAT contract.
const EV_ENVELOPE = 1;
const EV_CHUNK = 2;
const EV_DONE = 3;
const EV_REJECT = 4;

export interface DeviceConfig {
  primitives: Primitives;
  roots: Uint8Array; // rootCount * 32 bytes, burned in ("boot ROM")
  rootCount: number;
  rootRetired: number; // slots retired at manufacture (e.g. eFuses); statements add to these
  vendorId: Uint8Array; // 16
  classId: Uint8Array; // 16
  threshold: number; // signatures required, >= 1
  maxChunkSize: number; // largest bundle chunk size accepted (verifier buffer)
  maxData: number; // largest DATA payload per frame
  window: number; // DATA frames the host may have in flight
  resumeStride: number; // persist the resume point at most every this many image bytes
  // Optional: other verifier implementations (default: bundle-verifier.ts, boot-verifier.ts).
  createBundleVerifier?: (cfg: DeviceVerifierConfig) => DeviceBundleVerifier;
  createBootVerifier?: (cfg: DeviceVerifierConfig) => DeviceBootVerifier;
}

export interface DeviceApp {
  // Power-on: load state, select, verify and "run" an image. Sends nothing.
  boot(): void;
  // Bytes received on the UART.
  onBytes(buf: Uint8Array, off: number, len: number): void;
  // True after the device asked the HAL to reset: call boot() again.
  halted: boolean;
  runningSlot: number; // -1 = none (recovery mode)
  runMode: number; // RunMode
  bootReason: Int32Array; // per slot: result of its last boot verification, -1 = not checked
  reverted: number; // 1 when the last boot reverted an unconfirmed test image
  framesSinceBoot: number;
  store: StateStore;
  layout: FlashLayout;
}

function noop(): void {}
function noopBytes(buf: Uint8Array, off: number, len: number): void {}

// Returns null when the flash geometry cannot hold the layout.
function initialVerifierConfig(cfg: DeviceConfig): DeviceVerifierConfig {
  return {
    primitives: cfg.primitives,
    roots: cfg.roots,
    rootCount: cfg.rootCount,
    rootRetired: cfg.rootRetired,
    vendorId: cfg.vendorId,
    classId: cfg.classId,
    minSequence: 0,
    minEpoch: 0,
    threshold: cfg.threshold,
    now: -1,
    maxChunkSize: cfg.maxChunkSize
  };
}

export function createDeviceApp(hal: DeviceHal, cfg: DeviceConfig): DeviceApp | null {
  const maybeLayout = computeLayout(hal.pageSize, hal.flashSize);
  if (maybeLayout === null) return null;
  const layout: FlashLayout = maybeLayout;
  const store = createStateStore(hal, layout);
  const st = store.state;

  // Two configurations, each updated in place from the stored state: the install verifier's
  // (minimum sequence and epoch set at BEGIN) and the boot check's, which does not apply
  // anti-rollback through the verifier (SPEC §8): the device compares the slot's recorded
  // sequence itself where it matters (fallback).
  const vcfg = initialVerifierConfig(cfg);
  const bcfg = initialVerifierConfig(cfg);
  const makeVerifier = cfg.createBundleVerifier;
  const makeBootVerifier = cfg.createBootVerifier;
  const verifier: DeviceBundleVerifier = makeVerifier ? makeVerifier(vcfg) : createBundleVerifier(vcfg);
  const bootVerifier: DeviceBootVerifier = makeBootVerifier ? makeBootVerifier(bcfg) : createBootVerifier(bcfg);

  const maxBody = cfg.maxData + DATA_HEADER_LEN;
  const decoder = createFrameDecoder(maxBody);
  const encoder = createFrameEncoder(maxBody < 512 ? 512 : maxBody);
  const tx = encoder.body;
  const envBuf = new Uint8Array(Limits.MAX_ENVELOPE);
  const scratch = new Uint8Array(256);
  const hash = new Uint8Array(32);
  const hostHash = new Uint8Array(32);
  // Root-retirement statements (SPEC §11): one verifier and one statement buffer, made here.
  const stmtVerifier = createRootStatementVerifier(cfg.primitives);
  const stmtBuf = new Uint8Array(MAX_ROOT_STATEMENT);
  let stmtTotal = 0; // length of the statement being received (0 = none)
  let stmtHave = 0; // bytes of it received so far

  // Methods are attached at the end: Espruino does not hoist function declarations.
  const app: DeviceApp = {
    boot: noop,
    onBytes: noopBytes,
    halted: false,
    runningSlot: -1,
    runMode: RunMode.RECOVERY,
    bootReason: new Int32Array(2),
    reverted: 0,
    framesSinceBoot: 0,
    store: store,
    layout: layout
  };

  // Install session (volatile).
  let session = Session.IDLE;
  let target = -1; // slot being written
  let expectOffset = 0; // next bundle stream offset the device accepts
  let lastReason = 0;
  let lastChunk = -1;
  let lastPersisted = 0; // image offset of the last persisted resume point
  let bootSlot = 0; // slot read by readImage during a boot check
  let wroteTarget = false; // this session marked the target INSTALLING (new or resumed)

  // ---------- flash helpers ----------

  function readImage(imageOffset: number, dst: Uint8Array, dstOff: number, len: number): void {
    hal.flashRead(layout.slotAddr[bootSlot] + imageOffset, dst, dstOff, len);
  }

  // Erase every page whose start lies in [start, start + len) of the area at base.
  function erasePagesStartingIn(base: number, start: number, len: number): void {
    const ps = layout.pageSize;
    let p = (((start + ps - 1) / ps) | 0) * ps;
    while (p < start + len) {
      hal.flashErase(base + p);
      p += ps;
    }
  }

  function clearSlotInfo(si: SlotInfo): void {
    si.state = SlotState.EMPTY;
    si.envLen = 0;
    si.sequence = 0;
    si.keyEpochFloor = -1;
    si.imageSize = 0;
    si.chunkSize = 0;
    si.chunkCount = 0;
    si.versionLen = 0;
  }

  // Every verifier sees the burned-in retired bits plus those applied by statements.
  function applyRetired(): void {
    const m = cfg.rootRetired | st.rootRetired;
    vcfg.rootRetired = m;
    bcfg.rootRetired = m;
  }

  // ---------- boot ----------

  // Full verification of a slot as stored in flash: envelope (signature, trust, identity,
  // key epoch) and the chunk chain over every image byte (SPEC §7, back to front).
  function verifySlot(s: number): number {
    const si = st.slots[s];
    let r = Reason.MALFORMED;
    if (si.envLen > 0 && si.envLen <= Limits.MAX_ENVELOPE && si.imageSize <= layout.slotSize) {
      hal.flashRead(layout.envAddr[s], envBuf, 0, si.envLen);
      bcfg.minEpoch = st.minEpoch;
      bcfg.now = hal.nowSeconds();
      bootSlot = s;
      r = bootVerifier.check(envBuf, si.envLen, readImage);
    }
    app.bootReason[s] = r;
    return r;
  }

  function boot(): void {
    app.halted = false;
    wroteTarget = false;
    app.runningSlot = -1;
    app.runMode = RunMode.RECOVERY;
    app.bootReason[0] = -1;
    app.bootReason[1] = -1;
    app.reverted = 0;
    app.framesSinceBoot = 0;
    session = Session.IDLE;
    target = -1;
    decoder.reset();
    store.load();
    applyRetired();

    // 1. An unconfirmed image that already had its test boot: revert (MCUboot semantics).
    for (let s = 0; s < 2; s++) {
      if (st.slots[s].state === SlotState.TESTING) {
        clearSlotInfo(st.slots[s]);
        store.save();
        app.reverted = 1;
      }
    }
    // 2. A freshly installed image: verify it, then run it once in test mode.
    for (let s = 0; s < 2; s++) {
      const si = st.slots[s];
      if (si.state === SlotState.PENDING) {
        if (si.sequence >= st.minSequence && verifySlot(s) === Reason.OK) {
          si.state = SlotState.TESTING;
          store.save();
          app.runningSlot = s;
          app.runMode = RunMode.TEST;
          return;
        }
        clearSlotInfo(si);
        store.save();
      }
    }
    // 3. The confirmed image.
    const a = st.activeSlot;
    if (a >= 0 && st.slots[a].state === SlotState.CONFIRMED) {
      if (verifySlot(a) === Reason.OK) {
        app.runningSlot = a;
        app.runMode = RunMode.NORMAL;
        return;
      }
    }
    // 4. Fallback: the previous image, if still intact and not below the rollback floor.
    const b = a >= 0 ? 1 - a : -1;
    for (let s = 0; s < 2; s++) {
      const si = st.slots[s];
      if ((s === b || a < 0) && si.state === SlotState.OLD && si.sequence >= st.minSequence) {
        if (verifySlot(s) === Reason.OK) {
          si.state = SlotState.CONFIRMED;
          if (a >= 0) clearSlotInfo(st.slots[a]);
          st.activeSlot = s;
          store.save();
          app.runningSlot = s;
          app.runMode = RunMode.NORMAL;
          return;
        }
      }
    }
    // 5. Nothing verifies: stay in recovery mode (the update protocol still works).
  }

  // ---------- replies ----------

  function send(n: number): void {
    const w = encoder.encode(n);
    hal.uartWrite(encoder.wire, 0, w);
  }

  function replyOk(tag: number, extra: number): void {
    tx[0] = Msg.R_OK;
    tx[1] = tag;
    send(2 + extra);
  }

  function replyError(tag: number, reason: number, chunk: number): void {
    tx[0] = Msg.R_ERROR;
    tx[1] = tag;
    tx[2] = reason;
    putU32(tx, 3, chunk < 0 ? 0xffffffff : chunk);
    putU32(tx, 7, expectOffset);
    send(11);
  }

  function replyAck(tag: number): void {
    tx[0] = Msg.R_ACK;
    tx[1] = tag;
    putU32(tx, 2, expectOffset);
    tx[6] = session === Session.VERIFIED || session === Session.COMPLETE ? AckFlag.VERIFIED : 0;
    send(7);
  }

  function replyNak(tag: number): void {
    tx[0] = Msg.R_NAK;
    tx[1] = tag;
    putU32(tx, 2, expectOffset);
    send(6);
  }

  function installingSlot(): number {
    if (st.slots[0].state === SlotState.INSTALLING) return 0;
    if (st.slots[1].state === SlotState.INSTALLING) return 1;
    return -1;
  }

  function putSlot(o: number, s: number): number {
    const si = st.slots[s];
    tx[o] = si.state;
    putU53(tx, o + 1, si.sequence);
    putU32(tx, o + 9, si.imageSize);
    const vl = si.versionLen;
    tx[o + 13] = vl;
    tx.set(si.version.subarray(0, vl), o + 14);
    return o + 14 + vl;
  }

  function cmdInfo(tag: number): void {
    tx[0] = Msg.R_INFO;
    tx[1] = tag;
    tx[2] = PROTOCOL_VERSION;
    putU16(tx, 3, cfg.maxData);
    tx[5] = cfg.window;
    tx.set(cfg.vendorId.subarray(0, 16), 6);
    tx.set(cfg.classId.subarray(0, 16), 22);
    tx[38] = app.runningSlot < 0 ? 0xff : app.runningSlot;
    tx[39] = app.runMode;
    tx[40] = app.reverted;
    tx[41] = app.bootReason[0] < 0 ? 0xff : app.bootReason[0];
    tx[42] = app.bootReason[1] < 0 ? 0xff : app.bootReason[1];
    putU32(tx, 43, app.framesSinceBoot);
    putU53(tx, 47, st.minSequence);
    putU53(tx, 55, st.minEpoch);
    putU32(tx, 63, layout.slotSize);
    putU32(tx, 67, cfg.maxChunkSize);
    const ins = installingSlot();
    tx[71] = ins < 0 ? 0xff : ins;
    putU32(tx, 72, ins < 0 ? 0 : st.nextChunk);
    putU32(tx, 76, ins < 0 ? 0 : st.slots[ins].chunkCount);
    let o = putSlot(80, 0);
    o = putSlot(o, 1);
    // Appended in protocol version 1 (readers ignore bytes they do not know): root slots.
    tx[o] = cfg.rootCount;
    tx[o + 1] = vcfg.rootRetired;
    putU53(tx, o + 2, st.rootCounter);
    send(o + 10);
  }

  function cmdStatus(tag: number): void {
    tx[0] = Msg.R_STATUS;
    tx[1] = tag;
    tx[2] = session;
    putU32(tx, 3, expectOffset);
    tx[7] = lastReason;
    putU32(tx, 8, lastChunk < 0 ? 0xffffffff : lastChunk);
    const ins = installingSlot();
    tx[12] = ins < 0 ? 0xff : ins;
    let resumeOffset = 0;
    if (ins >= 0) {
      const si = st.slots[ins];
      resumeOffset = si.envLen + st.nextChunk * (si.chunkSize + 32);
    }
    putU32(tx, 13, ins < 0 ? 0 : st.nextChunk);
    putU32(tx, 17, ins < 0 ? 0 : st.slots[ins].chunkCount);
    putU32(tx, 21, resumeOffset);
    send(25);
  }

  // Chooses the slot to install into: never the one running.
  function pickTarget(): number {
    const ins = installingSlot();
    if (app.runningSlot >= 0) return 1 - app.runningSlot;
    if (ins >= 0) return ins;
    if (st.activeSlot >= 0) return 1 - st.activeSlot;
    return 0;
  }

  function prepareVerifier(): void {
    vcfg.minSequence = st.minSequence;
    vcfg.minEpoch = st.minEpoch;
    vcfg.now = hal.nowSeconds();
    verifier.reset();
  }

  function cmdBegin(tag: number): void {
    if (app.runMode === RunMode.TEST) {
      replyError(tag, Reason.BAD_STATE, -1);
      return;
    }
    target = pickTarget();
    prepareVerifier();
    wroteTarget = false;
    session = Session.RECEIVING;
    expectOffset = 0;
    lastReason = 0;
    lastChunk = -1;
    tx[0] = Msg.R_OK;
    tx[1] = tag;
    putU16(tx, 2, cfg.maxData);
    tx[4] = cfg.window;
    send(5);
  }

  function reject(reason: number, chunk: number): void {
    session = Session.REJECTED;
    lastReason = reason;
    lastChunk = chunk;
    // A bundle proven bad is not worth resuming: forget the partial install.
    if (wroteTarget && st.slots[target].state === SlotState.INSTALLING) {
      clearSlotInfo(st.slots[target]);
      store.save();
    }
    wroteTarget = false;
  }

  // The verifier authenticated the envelope (signature, trust, identity, rollback).
  function onEnvelope(): void {
    if (verifier.imageSize > layout.slotSize) {
      reject(Reason.TOO_LARGE, -1);
      return;
    }
    const si = st.slots[target];
    // Invalidate the target slot in the state area BEFORE touching its flash.
    si.state = SlotState.INSTALLING;
    si.envLen = verifier.envelopeLen;
    si.sequence = verifier.sequence;
    si.keyEpochFloor = verifier.keyEpochFloor;
    si.imageSize = verifier.imageSize;
    si.chunkSize = verifier.chunkSize;
    si.chunkCount = verifier.chunkCount;
    const v = verifier.version;
    let vl = v.length;
    if (vl > SLOT_VERSION_MAX) vl = SLOT_VERSION_MAX;
    for (let i = 0; i < vl; i++) si.version[i] = v.charCodeAt(i) & 0xff;
    si.versionLen = vl;
    if (st.activeSlot === target) st.activeSlot = -1;
    st.nextChunk = 0;
    st.expected.set(verifier.expected.subarray(0, 32), 0);
    store.save();
    wroteTarget = true;
    erasePagesStartingIn(layout.envAddr[target], 0, layout.envAreaLen);
    hal.flashWrite(layout.envAddr[target], verifier.envelope, 0, verifier.envelopeLen);
    lastPersisted = 0;
  }

  // A chunk passed its hash check: program it, persist the resume point now and then.
  function onChunk(): void {
    const si = st.slots[target];
    const off = verifier.chunkIndex * si.chunkSize;
    const base = layout.slotAddr[target];
    erasePagesStartingIn(base, off, verifier.chunkLen);
    hal.flashWrite(base + off, verifier.chunkData, 0, verifier.chunkLen);
    const next = verifier.chunkIndex + 1;
    const nextOff = next * si.chunkSize;
    // Resume points are page-aligned so a resumed install starts on a fresh erase.
    if (next < si.chunkCount && nextOff % layout.pageSize === 0 && nextOff - lastPersisted >= cfg.resumeStride) {
      st.nextChunk = next;
      st.expected.set(verifier.expected.subarray(0, 32), 0);
      store.save();
      lastPersisted = nextOff;
    }
  }

  function onDone(): void {
    const si = st.slots[target];
    si.state = SlotState.PENDING;
    st.nextChunk = 0;
    store.save();
    session = Session.COMPLETE;
  }

  // Feeds bundle bytes to the verifier and acts on its events. Returns false on rejection.
  function feed(buf: Uint8Array, off: number, len: number): boolean {
    let pos = off;
    const end = off + len;
    while (pos < end && session === Session.RECEIVING) {
      const ev = verifier.push(buf, pos, end - pos);
      pos += verifier.consumed;
      if (ev === EV_ENVELOPE) onEnvelope();
      else if (ev === EV_CHUNK) {
        onChunk();
        if (verifier.chunkIndex === st.slots[target].chunkCount - 1) session = Session.VERIFIED;
      } else if (ev === EV_DONE) {
        if (session === Session.RECEIVING) session = Session.VERIFIED;
      } else if (ev === EV_REJECT) reject(verifier.reason, verifier.rejectChunk);
      else if (verifier.consumed === 0) break; // NEED_MORE with nothing used: wait for bytes
    }
    if (session === Session.VERIFIED && pos < end) reject(Reason.TRAILING_DATA, -1);
    expectOffset += pos - off;
    return session !== Session.REJECTED;
  }

  function cmdData(tag: number, body: Uint8Array, len: number): void {
    if (len < DATA_HEADER_LEN) {
      replyError(tag, Reason.MALFORMED, -1);
      return;
    }
    if (session === Session.IDLE) {
      replyError(tag, Reason.BAD_STATE, -1);
      return;
    }
    if (session === Session.REJECTED) {
      replyError(tag, lastReason, lastChunk);
      return;
    }
    const offset = getU32(body, 2);
    const n = len - DATA_HEADER_LEN;
    if (offset > expectOffset) {
      replyNak(tag); // a frame before this one was lost
      return;
    }
    const skip = expectOffset - offset; // bytes already consumed (duplicate or overlap)
    if (skip >= n) {
      replyAck(tag);
      return;
    }
    if (session === Session.VERIFIED) {
      reject(Reason.TRAILING_DATA, -1);
      replyError(tag, lastReason, lastChunk);
      return;
    }
    if (session === Session.COMPLETE) {
      replyError(tag, Reason.TRAILING_DATA, -1);
      return;
    }
    if (!feed(body, DATA_HEADER_LEN + skip, n - skip)) {
      replyError(tag, lastReason, lastChunk);
      return;
    }
    replyAck(tag);
  }

  function cmdResume(tag: number, body: Uint8Array, len: number): void {
    const ins = installingSlot();
    if (len < 34 || app.runMode === RunMode.TEST || ins < 0 || ins === app.runningSlot) {
      replyError(tag, Reason.BAD_STATE, -1);
      return;
    }
    hostHash.set(body.subarray(2, 34), 0);
    const si = st.slots[ins];
    target = ins;
    wroteTarget = false;
    prepareVerifier();
    session = Session.RECEIVING;
    lastReason = 0;
    lastChunk = -1;
    // Re-verify the stored envelope (signature, trust, rollback) before continuing.
    let ev = 0;
    let pos = 0;
    while (pos < si.envLen && ev !== EV_ENVELOPE && ev !== EV_REJECT) {
      let n = si.envLen - pos;
      if (n > scratch.length) n = scratch.length;
      hal.flashRead(layout.envAddr[ins] + pos, scratch, 0, n);
      let used = 0;
      while (used < n && ev !== EV_ENVELOPE && ev !== EV_REJECT) {
        ev = verifier.push(scratch, used, n - used);
        used += verifier.consumed;
        if (verifier.consumed === 0) break;
      }
      pos += used;
      if (used < n) break;
    }
    if (ev !== EV_ENVELOPE || verifier.envelopeLen !== si.envLen) {
      const r = ev === EV_REJECT ? verifier.reason : Reason.MALFORMED;
      reject(r, -1);
      clearSlotInfo(si);
      store.save();
      replyError(tag, r, -1);
      return;
    }
    cfg.primitives.sha256(verifier.envelope, 0, verifier.envelopeLen, hash);
    let same = 1;
    for (let i = 0; i < 32; i++) if (hash[i] !== hostHash[i]) same = 0;
    if (same === 0) {
      session = Session.IDLE;
      replyError(tag, Reason.BAD_STATE, -1);
      return;
    }
    const r2 = verifier.resume(st.nextChunk, st.expected);
    if (r2 !== Reason.OK) {
      session = Session.IDLE;
      replyError(tag, r2, st.nextChunk);
      return;
    }
    expectOffset = si.envLen + st.nextChunk * (si.chunkSize + 32);
    lastPersisted = st.nextChunk * si.chunkSize;
    wroteTarget = true;
    putU32(tx, 2, expectOffset);
    putU16(tx, 6, cfg.maxData);
    tx[8] = cfg.window;
    replyOk(tag, 7);
  }

  // End of the bundle stream: commit a fully verified install, or report TRUNCATED.
  function cmdEnd(tag: number): void {
    if (session === Session.RECEIVING) {
      verifier.end();
      reject(Reason.TRUNCATED, verifier.rejectChunk);
    }
    if (session === Session.VERIFIED) onDone();
    if (session === Session.COMPLETE) {
      putU32(tx, 2, expectOffset);
      replyOk(tag, 4);
    } else if (session === Session.REJECTED) replyError(tag, lastReason, lastChunk);
    else replyError(tag, Reason.BAD_STATE, -1);
  }

  function cmdAbort(tag: number): void {
    session = Session.IDLE;
    const ins = installingSlot();
    if (ins >= 0) {
      clearSlotInfo(st.slots[ins]);
      store.save();
    }
    replyOk(tag, 0);
  }

  function cmdConfirm(tag: number): void {
    const s = app.runningSlot;
    if (s < 0) {
      replyError(tag, Reason.BAD_STATE, -1);
      return;
    }
    const si = st.slots[s];
    if (app.runMode === RunMode.TEST) {
      const a = st.activeSlot;
      if (a >= 0 && a !== s && st.slots[a].state === SlotState.CONFIRMED) st.slots[a].state = SlotState.OLD;
      si.state = SlotState.CONFIRMED;
      st.activeSlot = s;
      if (si.sequence > st.minSequence) st.minSequence = si.sequence;
      if (si.keyEpochFloor > st.minEpoch) st.minEpoch = si.keyEpochFloor;
      store.save();
      app.runMode = RunMode.NORMAL;
    }
    putU53(tx, 2, si.sequence);
    replyOk(tag, 8);
  }

  function replyRetireError(tag: number, reason: number): void {
    tx[0] = Msg.R_ERROR;
    tx[1] = tag;
    tx[2] = reason;
    putU32(tx, 3, 0xffffffff);
    putU32(tx, 7, stmtHave);
    send(11);
  }

  // A complete statement in stmtBuf[0 .. len): check it against the roots, the retired bits
  // and the stored counter (root-statement.ts, SPEC §11.3); apply it only if the image that
  // runs would still boot afterwards (as ESP-IDF's esp_ota_revoke_secure_boot_public_key:
  // the running app must be confirmed and verify with a key other than the revoked one).
  function applyStatement(tag: number, len: number): void {
    if (app.runMode === RunMode.TEST) {
      replyRetireError(tag, Reason.BAD_STATE); // confirm (or revert) the test image first
      return;
    }
    const r = stmtVerifier.check(stmtBuf, len, vcfg, st.rootCounter);
    if (r !== Reason.OK) {
      replyRetireError(tag, r);
      return;
    }
    const slot = stmtVerifier.slot;
    const newMask = vcfg.rootRetired | (1 << slot);
    const run = app.runningSlot;
    if (run >= 0 && newMask !== vcfg.rootRetired) {
      // Would the running image still pass its boot check with the slot retired?
      const saved = app.bootReason[run];
      bcfg.rootRetired = newMask;
      const rb = verifySlot(run);
      bcfg.rootRetired = vcfg.rootRetired;
      app.bootReason[run] = saved;
      if (rb !== Reason.OK) {
        replyRetireError(tag, Reason.BAD_STATE); // it depends on that root: update it first
        return;
      }
    }
    // One atomic state-record write (two-copy scheme): old or new, never half.
    st.rootRetired = st.rootRetired | (1 << slot);
    st.rootCounter = stmtVerifier.counter;
    store.save();
    applyRetired();
    tx[0] = Msg.R_OK;
    tx[1] = tag;
    putU16(tx, 2, len);
    tx[4] = vcfg.rootRetired;
    tx[5] = slot;
    putU53(tx, 6, st.rootCounter);
    send(14);
  }

  // RETIRE_ROOT [total u16][offset u16][bytes]: fragments in order into stmtBuf; the last
  // one triggers the check. Retransmitted fragments are answered again; a gap gets R_NAK.
  function cmdRetireRoot(tag: number, body: Uint8Array, len: number): void {
    if (len < RETIRE_HEADER_LEN) {
      replyRetireError(tag, Reason.MALFORMED);
      return;
    }
    const total = getU16(body, 2);
    const offset = getU16(body, 4);
    const n = len - RETIRE_HEADER_LEN;
    if (total > MAX_ROOT_STATEMENT) {
      replyRetireError(tag, Reason.TOO_LARGE);
      return;
    }
    if (total === 0 || offset + n > total) {
      replyRetireError(tag, Reason.MALFORMED);
      return;
    }
    if (offset === 0) {
      stmtTotal = total;
      stmtHave = 0;
    }
    if (total !== stmtTotal || offset > stmtHave) {
      tx[0] = Msg.R_NAK;
      tx[1] = tag;
      putU32(tx, 2, total === stmtTotal ? stmtHave : 0);
      send(6);
      return;
    }
    for (let i = stmtHave - offset; i < n; i++) stmtBuf[offset + i] = body[RETIRE_HEADER_LEN + i];
    if (offset + n > stmtHave) stmtHave = offset + n;
    if (stmtHave < total) {
      tx[0] = Msg.R_OK;
      tx[1] = tag;
      putU16(tx, 2, stmtHave);
      send(4);
      return;
    }
    stmtTotal = 0; // consumed: a retransmitted last fragment starts over (and is then stale)
    applyStatement(tag, total);
    stmtHave = 0;
  }

  function handleFrame(body: Uint8Array, len: number): void {
    app.framesSinceBoot++;
    if (len < 2) return;
    const type = body[0];
    const tag = body[1];
    if (type === Msg.DATA) cmdData(tag, body, len);
    else if (type === Msg.INFO) {
      if (len >= 3 && body[2] !== PROTOCOL_VERSION) replyError(tag, Reason.UNSUPPORTED_VERSION, -1);
      else cmdInfo(tag);
    } else if (type === Msg.BEGIN) cmdBegin(tag);
    else if (type === Msg.STATUS) cmdStatus(tag);
    else if (type === Msg.RESUME) cmdResume(tag, body, len);
    else if (type === Msg.END) cmdEnd(tag);
    else if (type === Msg.ABORT) cmdAbort(tag);
    else if (type === Msg.CONFIRM) cmdConfirm(tag);
    else if (type === Msg.RETIRE_ROOT) cmdRetireRoot(tag, body, len);
    else if (type === Msg.REBOOT) {
      replyOk(tag, 0);
      app.halted = true;
      hal.reset();
    } else replyError(tag, Reason.MALFORMED, -1);
  }

  function onBytes(buf: Uint8Array, off: number, len: number): void {
    let pos = off;
    const end = off + len;
    while (pos < end && !app.halted) {
      const n = decoder.push(buf, pos, end - pos);
      pos += decoder.consumed;
      if (n >= 0) handleFrame(decoder.frame, n);
    }
  }

  app.boot = boot;
  app.onBytes = onBytes;
  return app;
}
