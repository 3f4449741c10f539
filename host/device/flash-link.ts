// The host end of the serial update protocol (formats/PROTOCOL.md): a framed, tagged
// request/response link over a serial port, plus the DATA window. Uses the device core's
// own framing (COBS + CRC-32) so both ends encode frames with the same code.
// Everything the device sends is attacker-controlled: replies are length-checked before
// any field is read.
import type { SerialPort } from "serialport";
import { createFrameDecoder, createFrameEncoder } from "../../device-sim/core/update/framing.js";
import { Msg, PROTOCOL_VERSION, DATA_HEADER_LEN, getU16, getU32, getU53, putU32 } from "../../formats/device-safe/protocol.js";
import { FwsealError } from "../errors.js";
import { createSerialPort } from "./serial-port.js";

export const HOST_MAX_DATA = 16384;
const MAX_REPLY_BODY = 1024;

/** Opens a serial port by path (never enumerates ports: SerialPort.list() needs udev). */
export async function openSerialPort(path: string, baudRate: number): Promise<SerialPort> {
  const port = createSerialPort(path, baudRate);
  await new Promise<void>((resolve, reject) => {
    port.open((e) => (e ? reject(e) : resolve()));
  }).catch((e: Error) => {
    const m = e.message || String(e);
    if (/ENOENT|No such file/i.test(m)) throw new FwsealError("DEVICE", `${path}: no such serial port`, { cause: e });
    if (/EBUSY|lock|temporarily unavailable/i.test(m)) throw new FwsealError("DEVICE", `${path}: serial port is busy (opened by another program)`, { cause: e });
    if (/EACCES|Permission denied/i.test(m)) throw new FwsealError("DEVICE", `${path}: permission denied (add yourself to the dialout group?)`, { cause: e });
    throw new FwsealError("DEVICE", `${path}: cannot open serial port (${m})`, { cause: e });
  });
  return port;
}

export interface Reply {
  type: number;
  tag: number;
  body: Uint8Array; // copy of the whole frame body
}

export interface LinkStats {
  wireOut: number; // bytes written to the port
  wireIn: number;
  framesOut: number;
  dataPayloadOut: number; // bundle bytes carried in DATA frames (incl. retransmissions)
  retransmits: number; // DATA frames sent again
  timeouts: number;
  badFramesIn: number; // replies dropped (CRC / COBS)
}

type Waiter = (r: Reply | null) => void;

export class DeviceLink {
  readonly port: SerialPort;
  readonly path: string;
  private readonly enc = createFrameEncoder(HOST_MAX_DATA + DATA_HEADER_LEN);
  private readonly dec = createFrameDecoder(MAX_REPLY_BODY);
  private tag = 0;
  private waiters: { match: (r: Reply) => boolean; fn: Waiter }[] = [];
  private queue: Reply[] = []; // unclaimed DATA replies (ACK/NAK/ERROR) for the window loop
  private closedError: Error | null = null;
  readonly stats: LinkStats = { wireOut: 0, wireIn: 0, framesOut: 0, dataPayloadOut: 0, retransmits: 0, timeouts: 0, badFramesIn: 0 };

  constructor(port: SerialPort, path: string) {
    this.port = port;
    this.path = path;
    port.on("data", (b: Buffer) => this.onData(b));
    port.on("close", () => this.fail(new FwsealError("DEVICE", `${path}: serial port closed (cable pulled?)`)));
    port.on("error", (e: Error) => this.fail(new FwsealError("DEVICE", `${path}: ${e.message}`, { cause: e })));
    // A lone delimiter ends any partial frame left in the device's decoder.
    this.writeRaw(Uint8Array.of(0));
  }

  static async open(path: string, baudRate = 115200): Promise<DeviceLink> {
    return new DeviceLink(await openSerialPort(path, baudRate), path);
  }

  get failed(): Error | null {
    return this.closedError;
  }

  private fail(e: Error): void {
    if (this.closedError) return;
    this.closedError = e;
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w.fn(null);
    this.wroteAll();
  }

  private onData(b: Buffer): void {
    this.stats.wireIn += b.length;
    let pos = 0;
    const before = this.dec.dropped;
    while (pos < b.length) {
      const n = this.dec.push(b, pos, b.length - pos);
      pos += this.dec.consumed;
      if (n >= 2) this.dispatch({ type: this.dec.frame[0], tag: this.dec.frame[1], body: this.dec.frame.slice(0, n) });
    }
    this.stats.badFramesIn += this.dec.dropped - before;
  }

  private dispatch(r: Reply): void {
    for (let i = 0; i < this.waiters.length; i++) {
      if (this.waiters[i].match(r)) {
        const w = this.waiters[i];
        this.waiters.splice(i, 1);
        w.fn(r);
        return;
      }
    }
    if (r.type === Msg.R_ACK || r.type === Msg.R_NAK || r.type === Msg.R_ERROR) this.queue.push(r);
  }

  // Frames handed to the port and not yet written out (serial-port.ts writes them on the
  // loop thread, retrying a full line on a short timer), and who waits for that to reach 0.
  private writesPending = 0;
  private drainWaiters: (() => void)[] = [];

  private writeRaw(bytes: Uint8Array): void {
    if (this.closedError) return;
    this.stats.wireOut += bytes.length;
    this.writesPending++;
    this.port.write(Buffer.from(bytes), () => {
      this.writesPending--;
      if (this.writesPending === 0) this.wroteAll();
    });
  }

  private wroteAll(): void {
    const ds = this.drainWaiters;
    this.drainWaiters = [];
    for (const d of ds) d();
  }

  private writesDone(): Promise<void> {
    if (this.closedError || this.writesPending === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  private sendBody(len: number): void {
    const w = this.enc.encode(len);
    this.stats.framesOut++;
    this.writeRaw(this.enc.wire.subarray(0, w));
  }

  private nextTag(): number {
    this.tag = (this.tag + 1) & 0xff;
    return this.tag;
  }

  /** Waits for a reply matching `match`, or null after timeoutMs (or on link failure). */
  waitFor(match: (r: Reply) => boolean, timeoutMs: number): Promise<Reply | null> {
    if (this.closedError) return Promise.resolve(null);
    return new Promise((resolve) => {
      const entry = {
        match,
        fn: (r: Reply | null) => {
          clearTimeout(timer);
          resolve(r);
        }
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(entry);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(null);
      }, timeoutMs);
      this.waiters.push(entry);
    });
  }

  /** Sends a command and waits for the reply with its tag; retries on timeout. acceptNak: an
   *  R_NAK with the tag is the reply (RETIRE_ROOT fragments), not a DATA-window echo. */
  async request(type: number, payload: Uint8Array, timeoutMs: number, retries: number, acceptNak = false): Promise<Reply> {
    for (let attempt = 0; attempt <= retries; attempt++) {
      this.throwIfFailed();
      const tag = this.nextTag();
      const b = this.enc.body;
      b[0] = type;
      b[1] = tag;
      b.set(payload, 2);
      this.sendBody(2 + payload.length);
      const r = await this.waitFor((x) => x.tag === tag && x.type >= Msg.R_INFO && x.type !== Msg.R_ACK && (acceptNak || x.type !== Msg.R_NAK), timeoutMs);
      if (r) return r;
      this.stats.timeouts++;
    }
    this.throwIfFailed();
    throw new FwsealError("DEVICE", `${this.path}: no answer from the device (${retries + 1} tries, ${timeoutMs} ms each)`);
  }

  throwIfFailed(): void {
    if (this.closedError) throw this.closedError;
  }

  /** Sends one DATA frame: bundle[offset .. offset+len). */
  sendData(bundle: Uint8Array, offset: number, len: number, retransmit: boolean): void {
    const b = this.enc.body;
    b[0] = Msg.DATA;
    b[1] = this.nextTag();
    putU32(b, 2, offset);
    b.set(bundle.subarray(offset, offset + len), DATA_HEADER_LEN);
    this.stats.dataPayloadOut += len;
    if (retransmit) this.stats.retransmits++;
    this.sendBody(DATA_HEADER_LEN + len);
  }

  /** Next ACK/NAK/ERROR from the DATA window, or null after timeoutMs. */
  async nextDataReply(timeoutMs: number): Promise<Reply | null> {
    const q = this.queue.shift();
    if (q) return q;
    const r = await this.waitFor((x) => x.type === Msg.R_ACK || x.type === Msg.R_NAK || x.type === Msg.R_ERROR, timeoutMs);
    return r;
  }

  clearDataReplies(): void {
    this.queue = [];
  }

  async drain(): Promise<void> {
    await this.writesDone();
    if (this.closedError) return;
    await new Promise<void>((resolve) => this.port.drain(() => resolve()));
  }

  async close(): Promise<void> {
    // Let queued bytes reach the port (bounded: a stuck line must not hang the close).
    if (!this.closedError && this.writesPending > 0) {
      await Promise.race([this.writesDone(), new Promise<void>((resolve) => setTimeout(resolve, 1000).unref())]);
    }
    this.closedError ??= new FwsealError("DEVICE", `${this.path}: closed`);
    if (!this.port.isOpen) return;
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }
}

// ---------- reply decoding ----------

export interface SlotView {
  state: string;
  sequence: number;
  imageSize: number;
  version: string;
}

export interface DeviceInfo {
  protocolVersion: number;
  maxData: number;
  window: number;
  vendorId: Uint8Array;
  classId: Uint8Array;
  runningSlot: number; // -1: recovery mode
  runMode: "recovery" | "normal" | "test";
  reverted: boolean;
  bootCheck: (number | null)[]; // per slot: Reason of the last boot verification, null = not checked
  framesSinceBoot: number;
  minSequence: number;
  minEpoch: number;
  slotSize: number;
  maxChunkSize: number;
  install: { slot: number; nextChunk: number; chunkCount: number } | null;
  slots: SlotView[];
  /** Root slots (appended to INFO; null from a device that does not report them). */
  roots: { count: number; retiredMask: number; statementCounter: number } | null;
}

export const SLOT_STATE_NAMES = ["empty", "installing", "pending", "testing", "confirmed", "old"];
const RUN_MODES = ["recovery", "normal", "test"] as const;

function linkMalformed(what: string): FwsealError {
  return new FwsealError("DEVICE", `malformed ${what} reply from the device`);
}

export function parseInfo(r: Reply): DeviceInfo {
  const b = r.body;
  if (r.type !== Msg.R_INFO || b.length < 80) throw linkMalformed("INFO");
  const slots: SlotView[] = [];
  let o = 80;
  for (let s = 0; s < 2; s++) {
    if (o + 14 > b.length) throw linkMalformed("INFO");
    const vl = b[o + 13];
    if (o + 14 + vl > b.length) throw linkMalformed("INFO");
    slots.push({
      state: SLOT_STATE_NAMES[b[o]] ?? `state-${b[o]}`,
      sequence: getU53(b, o + 1),
      imageSize: getU32(b, o + 9),
      version: Buffer.from(b.subarray(o + 14, o + 14 + vl)).toString("utf8")
    });
    o += 14 + vl;
  }
  const roots = o + 10 <= b.length ? { count: b[o], retiredMask: b[o + 1], statementCounter: getU53(b, o + 2) } : null;
  return {
    protocolVersion: b[2],
    maxData: getU16(b, 3),
    window: b[5],
    vendorId: b.slice(6, 22),
    classId: b.slice(22, 38),
    runningSlot: b[38] === 0xff ? -1 : b[38],
    runMode: RUN_MODES[b[39]] ?? "recovery",
    reverted: b[40] === 1,
    bootCheck: [b[41] === 0xff ? null : b[41], b[42] === 0xff ? null : b[42]],
    framesSinceBoot: getU32(b, 43),
    minSequence: getU53(b, 47),
    minEpoch: getU53(b, 55),
    slotSize: getU32(b, 63),
    maxChunkSize: getU32(b, 67),
    install: b[71] === 0xff ? null : { slot: b[71], nextChunk: getU32(b, 72), chunkCount: getU32(b, 76) },
    slots,
    roots
  };
}

export interface DeviceStatus {
  session: number;
  offset: number;
  lastReason: number;
  lastChunk: number;
  installSlot: number;
  nextChunk: number;
  chunkCount: number;
  resumeOffset: number;
}

export function parseStatus(r: Reply): DeviceStatus {
  const b = r.body;
  if (r.type !== Msg.R_STATUS || b.length < 25) throw linkMalformed("STATUS");
  const lc = getU32(b, 8);
  return {
    session: b[2],
    offset: getU32(b, 3),
    lastReason: b[7],
    lastChunk: lc === 0xffffffff ? -1 : lc,
    installSlot: b[12] === 0xff ? -1 : b[12],
    nextChunk: getU32(b, 13),
    chunkCount: getU32(b, 17),
    resumeOffset: getU32(b, 21)
  };
}

export interface DeviceError {
  reason: number;
  chunk: number;
  offset: number;
}

export function parseError(r: Reply): DeviceError {
  const b = r.body;
  if (b.length < 11) return { reason: b.length > 2 ? b[2] : 0, chunk: -1, offset: 0 };
  const c = getU32(b, 3);
  return { reason: b[2], chunk: c === 0xffffffff ? -1 : c, offset: getU32(b, 7) };
}

export { Msg, PROTOCOL_VERSION };
