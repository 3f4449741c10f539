// The device's reply encoders: every reply body of formats/PROTOCOL.md §3-§5 is laid out
// here through the named offsets of formats/device-safe/protocol.ts, framed (COBS + CRC-32)
// and written to the UART. One transmit buffer, allocated at creation.
// Constrained TS.

import { createFrameEncoder } from "./framing.js";
import {
  Msg,
  BeginOkAt,
  ResumeOkAt,
  EndOkAt,
  ConfirmOkAt,
  RetireOkAt,
  putReplyHead,
  writeErrorReply,
  writeAckReply,
  writeNakReply,
  putU16,
  putU32,
  putU53
} from "../../../formats/device-safe/protocol.js";

/** The UART side of the HAL: uartWrite may block until the bytes are queued. */
export interface UartHal {
  uartWrite(bytes: Uint8Array, off: number, len: number): void;
}

/** Encodes and sends replies; `tx` is the body buffer (INFO and STATUS are written into it
 *  by their own encoders, then sent with send()). */
export interface ReplySender {
  tx: Uint8Array;
  send(len: number): void;
  ok(tag: number): void;
  error(tag: number, reason: number, chunk: number, offset: number): void;
  ack(tag: number, next: number, flags: number): void;
  nak(tag: number, expected: number): void;
  okBegin(tag: number, maxData: number, windowFrames: number): void;
  okResume(tag: number, offset: number, maxData: number, windowFrames: number): void;
  okEnd(tag: number, bundleLen: number): void;
  okConfirm(tag: number, sequence: number): void;
  okRetirePart(tag: number, received: number): void;
  okRetired(tag: number, received: number, retiredMask: number, slot: number, counter: number): void;
}

/** Creates the reply sender for bodies up to maxBody bytes (at least 512). */
export function createReplySender(hal: UartHal, maxBody: number): ReplySender {
  const encoder = createFrameEncoder(maxBody < 512 ? 512 : maxBody);
  const tx = encoder.body;

  function send(n: number): void {
    const w = encoder.encode(n);
    hal.uartWrite(encoder.wire, 0, w);
  }

  function ok(tag: number): void {
    putReplyHead(tx, Msg.R_OK, tag);
    send(2);
  }

  function error(tag: number, reason: number, chunk: number, offset: number): void {
    send(writeErrorReply(tx, tag, reason, chunk, offset));
  }

  function ack(tag: number, next: number, flags: number): void {
    send(writeAckReply(tx, tag, next, flags));
  }

  function nak(tag: number, expected: number): void {
    send(writeNakReply(tx, tag, expected));
  }

  function okBegin(tag: number, maxData: number, windowFrames: number): void {
    putReplyHead(tx, Msg.R_OK, tag);
    putU16(tx, BeginOkAt.MAX_DATA, maxData);
    tx[BeginOkAt.WINDOW] = windowFrames;
    send(BeginOkAt.LEN);
  }

  function okResume(tag: number, offset: number, maxData: number, windowFrames: number): void {
    putReplyHead(tx, Msg.R_OK, tag);
    putU32(tx, ResumeOkAt.OFFSET, offset);
    putU16(tx, ResumeOkAt.MAX_DATA, maxData);
    tx[ResumeOkAt.WINDOW] = windowFrames;
    send(ResumeOkAt.LEN);
  }

  function okEnd(tag: number, bundleLen: number): void {
    putReplyHead(tx, Msg.R_OK, tag);
    putU32(tx, EndOkAt.BUNDLE_LEN, bundleLen);
    send(EndOkAt.LEN);
  }

  function okConfirm(tag: number, sequence: number): void {
    putReplyHead(tx, Msg.R_OK, tag);
    putU53(tx, ConfirmOkAt.SEQUENCE, sequence);
    send(ConfirmOkAt.LEN);
  }

  function okRetirePart(tag: number, received: number): void {
    putReplyHead(tx, Msg.R_OK, tag);
    putU16(tx, RetireOkAt.RECEIVED, received);
    send(RetireOkAt.PARTIAL_LEN);
  }

  function okRetired(tag: number, received: number, retiredMask: number, slot: number, counter: number): void {
    putReplyHead(tx, Msg.R_OK, tag);
    putU16(tx, RetireOkAt.RECEIVED, received);
    tx[RetireOkAt.RETIRED] = retiredMask;
    tx[RetireOkAt.SLOT] = slot;
    putU53(tx, RetireOkAt.COUNTER, counter);
    send(RetireOkAt.LEN);
  }

  return {
    tx: tx,
    send: send,
    ok: ok,
    error: error,
    ack: ack,
    nak: nak,
    okBegin: okBegin,
    okResume: okResume,
    okEnd: okEnd,
    okConfirm: okConfirm,
    okRetirePart: okRetirePart,
    okRetired: okRetired
  };
}
