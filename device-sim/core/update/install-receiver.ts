// The update receiver of formats/PROTOCOL.md §4-§5: BEGIN, DATA, END, ABORT and RESUME. Bundle
// bytes go through the streaming verifier; the target slot is marked INSTALLING in the state
// record before its first byte is erased, each chunk is written only after its hash checked,
// and a resume point (next chunk, expected hash) is persisted now and then so an interrupted
// install continues where it stopped. The running slot is never written.
// A compressed or delta payload (SPEC §15) is authenticated wire chunk by wire chunk, each
// decoded only after its hash checked; the decoded image goes to the target slot, and the
// slot is marked PENDING only after the image decoded to exactly the size and chain head the
// manifest names. A delta reads its precursor from the running slot.
// Constrained TS: no exceptions, buffers allocated at creation.

import { Reason } from "../../../formats/device-safe/reasons.js";
import { PayloadEncoding } from "../../../formats/device-safe/labels.js";
import { AckFlag, RunMode, Session, DataAt, ResumeAt, getU32 } from "../../../formats/device-safe/protocol.js";
import { SlotState, SLOT_VERSION_MAX, DECODER_STATE_LEN, clearSlot } from "../boot/flash-layout.js";
import type { FlashHal, FlashLayout, StateStore } from "../boot/flash-layout.js";
import { installingSlot, installTarget, resumeStreamOffset } from "../boot/slot-select.js";
import type { RunStatus } from "../boot/boot-loader.js";
import { VerifyEvent } from "../verify/bundle-verifier.js";
import type { BundleVerifier, VerifierConfig } from "../verify/bundle-verifier.js";
import type { Primitives } from "../crypto/primitives.js";
import type { ReplySender } from "./replies.js";
import type { PayloadDecoder } from "../decode/payload-decoder.js";
import type { PayloadSink } from "../decode/sink.js";
import { startPayload } from "../decode/payload-start.js";

/** What the receiver needs from the platform: flash and trusted time. */
export interface InstallHal extends FlashHal {
  nowSeconds(): number;
}

/** The receiver's limits (from the device configuration). */
export interface InstallLimits {
  maxData: number; // largest DATA payload per frame
  window: number; // DATA frames the host may have in flight
  resumeStride: number; // persist the resume point at most every this many image bytes
}

/** The install session (volatile), reported in STATUS. */
export interface InstallSession {
  session: number; // Session
  expectOffset: number; // next bundle stream offset the device accepts
  lastReason: number;
  lastChunk: number; // -1 = the envelope / none
}

/** The receiver: one handler per request type, and reset() at boot. */
export interface InstallReceiver {
  sess: InstallSession;
  reset(): void;
  begin(tag: number): void;
  data(tag: number, body: Uint8Array, len: number): void;
  resume(tag: number, body: Uint8Array, len: number): void;
  end(tag: number): void;
  abort(tag: number): void;
}

/** Creates the receiver; vcfg is the install verifier's configuration, updated in place. */
export function createInstallReceiver(
  hal: InstallHal,
  layout: FlashLayout,
  store: StateStore,
  status: RunStatus,
  verifier: BundleVerifier,
  vcfg: VerifierConfig,
  primitives: Primitives,
  limits: InstallLimits,
  replies: ReplySender,
  decoder: PayloadDecoder | null
): InstallReceiver {
  const st = store.state;
  const hash = new Uint8Array(32);
  const hostHash = new Uint8Array(32);
  // Encoded payloads (SPEC §15): the wire chunk's expected hash and the decoder state at the
  // start of the chunk being decoded (what a resume point at that chunk holds).
  const curExpected = new Uint8Array(32);
  const curState = new Uint8Array(DECODER_STATE_LEN);
  let crossed = 0; // the latest page start a decoded chunk's output crossed (resume candidate)
  const params = { encoding: 0, codec: 0, windowBits: 0, imageSize: 0, precursorSize: 0 };
  const out = { pos: 0, skipBelow: 0 }; // next image offset written; output below skipBelow is already in flash
  let encoded = false;
  const sess: InstallSession = { session: Session.IDLE, expectOffset: 0, lastReason: 0, lastChunk: -1 };
  let target = -1; // slot being written
  let lastPersisted = 0; // image offset of the last persisted resume point
  let wroteTarget = false; // this session marked the target INSTALLING (new or resumed)

  function reset(): void {
    sess.session = Session.IDLE;
    target = -1;
    wroteTarget = false;
  }

  function replyError(tag: number, reason: number, chunk: number): void {
    replies.error(tag, reason, chunk, sess.expectOffset);
  }

  function replyAck(tag: number): void {
    const s = sess.session;
    replies.ack(tag, sess.expectOffset, s === Session.VERIFIED || s === Session.COMPLETE ? AckFlag.VERIFIED : 0);
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

  // The decoder's sink: decoded image bytes to the target slot, in order (output below
  // out.skipBelow, already in flash before a resume, is dropped), precursor bytes from the
  // running slot.
  const sink: PayloadSink = {
    output: function (buf: Uint8Array, off: number, len: number): void {
      let o = off;
      let n = len;
      if (out.pos < out.skipBelow) {
        let drop = out.skipBelow - out.pos;
        if (drop > n) drop = n;
        o += drop;
        n -= drop;
        out.pos += drop;
      }
      if (n <= 0) return;
      const base = layout.slotAddr[target];
      erasePagesStartingIn(base, out.pos, n);
      hal.flashWrite(base + out.pos, buf, o, n);
      out.pos += n;
    },
    readPrecursor: function (pos: number, buf: Uint8Array, off: number, len: number): void {
      hal.flashRead(layout.slotAddr[status.runningSlot] + pos, buf, off, len);
    }
  };

  function readTarget(imageOffset: number, dst: Uint8Array, dstOff: number, len: number): void {
    hal.flashRead(layout.slotAddr[target] + imageOffset, dst, dstOff, len);
  }

  // Starts the decoder for the authenticated manifest (a delta only against the running image,
  // SPEC §15), before anything is written; false (rejected) if it cannot.
  function startDecoder(): boolean {
    encoded = verifier.payloadEncoding !== PayloadEncoding.RAW;
    if (!encoded) return true;
    const s = status.runningSlot;
    const rc = startPayload(verifier, decoder, params, s >= 0 ? st.slots[s].imageSize : 0, status.runningHead);
    if (rc !== Reason.OK) {
      reject(rc, -1);
      return false;
    }
    return true;
  }

  function prepareVerifier(): void {
    vcfg.minSequence = st.minSequence;
    vcfg.minEpoch = st.minEpoch;
    vcfg.now = hal.nowSeconds();
    verifier.reset();
  }

  function startSession(): void {
    prepareVerifier();
    wroteTarget = false;
    sess.session = Session.RECEIVING;
    sess.lastReason = 0;
    sess.lastChunk = -1;
  }

  function begin(tag: number): void {
    if (status.runMode === RunMode.TEST) {
      replyError(tag, Reason.BAD_STATE, -1);
      return;
    }
    target = installTarget(st, status.runningSlot);
    startSession();
    sess.expectOffset = 0;
    replies.okBegin(tag, limits.maxData, limits.window);
  }

  function reject(reason: number, chunk: number): void {
    sess.session = Session.REJECTED;
    sess.lastReason = reason;
    sess.lastChunk = chunk;
    // A bundle proven bad is not worth resuming: forget the partial install.
    if (wroteTarget && st.slots[target].state === SlotState.INSTALLING) {
      clearSlot(st.slots[target]);
      store.save();
    }
    wroteTarget = false;
  }

  // SPEC §8.2: a sequence equal to the running image's only re-installs that release, so
  // its chain head must be the running image's. (The verifier already refused a lower one.)
  function otherReleaseAtRunningSequence(): boolean {
    const s = status.runningSlot;
    if (s < 0 || verifier.sequence !== st.slots[s].sequence) return false;
    let d = 0;
    for (let k = 0; k < 32; k++) d |= verifier.chainHead[k] ^ status.runningHead[k];
    return d !== 0;
  }

  // The verifier authenticated the envelope (signature, trust, identity, rollback).
  function onEnvelope(): void {
    if (verifier.imageSize > layout.slotSize || (hal.slotCanHold !== undefined && !hal.slotCanHold(target, verifier.imageSize + verifier.envelopeLen))) {
      reject(Reason.TOO_LARGE, -1);
      return;
    }
    if (otherReleaseAtRunningSequence()) {
      reject(Reason.ROLLBACK, -1);
      return;
    }
    if (!startDecoder()) return;
    out.pos = 0;
    out.skipBelow = 0;
    crossed = 0;
    curExpected.set(verifier.expected.subarray(0, 32), 0);
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
    st.resumeOut = 0;
    if (encoded) (decoder as PayloadDecoder).saveState(st.decoderState, 0);
    store.save();
    wroteTarget = true;
    erasePagesStartingIn(layout.envAddr[target], 0, layout.envAreaLen);
    hal.flashWrite(layout.envAddr[target], verifier.envelope, 0, verifier.envelopeLen);
    lastPersisted = 0;
  }

  // An encoded payload's wire chunk passed its hash check: decode it into the slot; after
  // the last one, check the result. Persist a resume point now and then: a chunk whose
  // output crossed a page start, which a resumed install re-decodes, writing from that page.
  function onEncodedChunk(): void {
    const dec = decoder as PayloadDecoder;
    const ps = layout.pageSize;
    const i = verifier.chunkIndex;
    dec.saveState(curState, 0);
    const outStart = dec.outPos;
    let rc = dec.chunk(verifier.chunkData, 0, verifier.chunkLen, sink);
    if (rc !== Reason.OK) {
      reject(rc, i);
      return;
    }
    const outEnd = dec.outPos;
    const p = (((outEnd - 1) / ps) | 0) * ps; // start of the page holding the chunk's last byte
    if (outEnd > outStart && p >= outStart && p > crossed && i + 1 < verifier.wireChunkCount) {
      crossed = p;
      if (p - lastPersisted >= limits.resumeStride) {
        st.nextChunk = i;
        st.expected.set(curExpected.subarray(0, 32), 0);
        st.resumeOut = p;
        st.decoderState.set(curState.subarray(0, DECODER_STATE_LEN), 0);
        store.save();
        lastPersisted = p;
      }
    }
    curExpected.set(verifier.expected.subarray(0, 32), 0);
    if (i !== verifier.wireChunkCount - 1) return;
    // The end of the stream (a partial patch record, a short image) and the result concern the
    // whole payload, not a chunk: no chunk index (SPEC §15.4).
    rc = dec.finish();
    if (rc === Reason.OK) {
      verifier.imageChainHead(readTarget, hash);
      let d = 0;
      for (let k = 0; k < 32; k++) d |= hash[k] ^ verifier.chainHead[k];
      if (d !== 0) rc = Reason.RESULT_MISMATCH;
    }
    if (rc !== Reason.OK) reject(rc, -1);
    else sess.session = Session.VERIFIED;
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
    if (next < si.chunkCount && nextOff % layout.pageSize === 0 && nextOff - lastPersisted >= limits.resumeStride) {
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
    sess.session = Session.COMPLETE;
  }

  // Feeds bundle bytes to the verifier and acts on its events. Returns false on rejection.
  function feed(buf: Uint8Array, off: number, len: number): boolean {
    let pos = off;
    const end = off + len;
    while (pos < end && sess.session === Session.RECEIVING) {
      const ev = verifier.push(buf, pos, end - pos);
      pos += verifier.consumed;
      if (ev === VerifyEvent.ENVELOPE) onEnvelope();
      else if (ev === VerifyEvent.CHUNK && encoded) onEncodedChunk();
      else if (ev === VerifyEvent.CHUNK) {
        onChunk();
        if (verifier.chunkIndex === st.slots[target].chunkCount - 1) sess.session = Session.VERIFIED;
      } else if (ev === VerifyEvent.DONE) {
        if (sess.session === Session.RECEIVING) sess.session = Session.VERIFIED;
      } else if (ev === VerifyEvent.REJECT) reject(verifier.reason, verifier.rejectChunk);
      else if (verifier.consumed === 0) break; // NEED_MORE with nothing used: wait for bytes
    }
    if (sess.session === Session.VERIFIED && pos < end) reject(Reason.TRAILING_DATA, -1);
    sess.expectOffset += pos - off;
    return sess.session !== Session.REJECTED;
  }

  function data(tag: number, body: Uint8Array, len: number): void {
    const s = sess.session;
    if (len < DataAt.BYTES) {
      replyError(tag, Reason.MALFORMED, -1);
      return;
    }
    if (s === Session.IDLE) {
      replyError(tag, Reason.BAD_STATE, -1);
      return;
    }
    if (s === Session.REJECTED) {
      replyError(tag, sess.lastReason, sess.lastChunk);
      return;
    }
    const offset = getU32(body, DataAt.OFFSET);
    const n = len - DataAt.BYTES;
    if (offset > sess.expectOffset) {
      replies.nak(tag, sess.expectOffset); // a frame before this one was lost
      return;
    }
    const skip = sess.expectOffset - offset; // bytes already consumed (duplicate or overlap)
    if (skip >= n) {
      replyAck(tag);
      return;
    }
    if (s === Session.VERIFIED) {
      reject(Reason.TRAILING_DATA, -1);
      replyError(tag, sess.lastReason, sess.lastChunk);
      return;
    }
    if (s === Session.COMPLETE) {
      replyError(tag, Reason.TRAILING_DATA, -1);
      return;
    }
    if (!feed(body, DataAt.BYTES + skip, n - skip)) {
      replyError(tag, sess.lastReason, sess.lastChunk);
      return;
    }
    replyAck(tag);
  }

  function resume(tag: number, body: Uint8Array, len: number): void {
    const ins = installingSlot(st);
    if (len < ResumeAt.LEN || status.runMode === RunMode.TEST || ins < 0 || ins === status.runningSlot) {
      replyError(tag, Reason.BAD_STATE, -1);
      return;
    }
    hostHash.set(body.subarray(ResumeAt.ENVELOPE_HASH, ResumeAt.ENVELOPE_HASH + 32), 0);
    const si = st.slots[ins];
    target = ins;
    startSession();
    // The stored envelope is read into the verifier's envelope buffer and its hash compared
    // with the host's BEFORE it is verified: a RESUME naming another bundle costs one
    // SHA-256, no signature check (SPEC §9), however often it is sent.
    const envLen = si.envLen;
    const inRange = envLen >= 1 && envLen <= verifier.envelope.length;
    if (inRange) {
      hal.flashRead(layout.envAddr[ins], verifier.envelope, 0, envLen);
      primitives.sha256(verifier.envelope, 0, envLen, hash);
      let same = 1;
      for (let i = 0; i < 32; i++) if (hash[i] !== hostHash[i]) same = 0;
      if (same === 0) {
        sess.session = Session.IDLE;
        replyError(tag, Reason.BAD_STATE, -1);
        return;
      }
    }
    // Then re-verified against the current state (signature, trust, identity, rollback).
    const ev = inRange ? verifier.pushStoredEnvelope(envLen) : VerifyEvent.REJECT;
    if (ev !== VerifyEvent.ENVELOPE || verifier.envelopeLen !== envLen) {
      const r = ev === VerifyEvent.REJECT && inRange ? verifier.reason : Reason.MALFORMED;
      reject(r, -1);
      clearSlot(si);
      store.save();
      replyError(tag, r, -1);
      return;
    }
    if (!startDecoder()) {
      clearSlot(si);
      store.save();
      replyError(tag, sess.lastReason, -1);
      return;
    }
    let r2 = verifier.resume(st.nextChunk, st.expected);
    if (r2 === Reason.OK && encoded) r2 = (decoder as PayloadDecoder).loadState(st.decoderState, 0);
    if (r2 !== Reason.OK) {
      sess.session = Session.IDLE;
      replyError(tag, r2, st.nextChunk);
      return;
    }
    if (encoded) {
      out.pos = (decoder as PayloadDecoder).outPos;
      out.skipBelow = st.resumeOut;
      crossed = st.resumeOut;
      curExpected.set(st.expected.subarray(0, 32), 0);
    }
    sess.expectOffset = resumeStreamOffset(st, ins);
    lastPersisted = encoded ? st.resumeOut : st.nextChunk * si.chunkSize;
    wroteTarget = true;
    replies.okResume(tag, sess.expectOffset, limits.maxData, limits.window);
  }

  // End of the bundle stream: commit a fully verified install, or report TRUNCATED.
  function end(tag: number): void {
    if (sess.session === Session.RECEIVING) {
      verifier.end();
      reject(Reason.TRUNCATED, verifier.rejectChunk);
    }
    if (sess.session === Session.VERIFIED) onDone();
    if (sess.session === Session.COMPLETE) replies.okEnd(tag, sess.expectOffset);
    else if (sess.session === Session.REJECTED) replyError(tag, sess.lastReason, sess.lastChunk);
    else replyError(tag, Reason.BAD_STATE, -1);
  }

  function abort(tag: number): void {
    sess.session = Session.IDLE;
    const ins = installingSlot(st);
    if (ins >= 0) {
      clearSlot(st.slots[ins]);
      store.save();
    }
    replies.ok(tag);
  }

  return { sess: sess, reset: reset, begin: begin, data: data, resume: resume, end: end, abort: abort };
}
