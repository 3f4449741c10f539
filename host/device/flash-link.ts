// The host end of the serial update protocol (formats/PROTOCOL.md): a framed, tagged
// request/response link over a serial port, plus the DATA window. Uses the device core's
// own framing (COBS + CRC-32) so both ends encode frames with the same code.
// Everything the device sends is attacker-controlled: replies are length-checked before
// any field is read.
import type { SerialPort } from "serialport";
import * as fs from "node:fs";
import * as tty from "node:tty";
import { createFrameDecoder, createFrameEncoder } from "../../device-sim/core/update/framing.js";
import { Msg, PROTOCOL_VERSION, DATA_HEADER_LEN, DataAt, ErrorAt, putU32, newInfoFields, readInfoReply, newStatusFields, readStatusReply, readErrorReply, type StatusFields, type ErrorFields } from "../../formats/device-safe/protocol.js";
import { FwsealError } from "../errors.js";
import { createSerialPort } from "./serial-port.js";

/** Largest DATA payload per frame the host sends (formats/PROTOCOL.md §4). */
export const HOST_MAX_DATA = 16384;
/** Most DATA frames the host keeps unacknowledged unless told otherwise: a device that buffers
 *  more than 8 frames while it works (the QEMU MCU's receive ring offers 15) gets them all. */
export const HOST_MAX_WINDOW = 16;
const MAX_REPLY_BODY = 1024;

/** Opens a serial port by path (never enumerates ports: SerialPort.list() needs udev). */
export async function openSerialPort(path: string, baudRate: number): Promise<SerialPort> {
  checkSerialPortPath(path);
  const port = createSerialPort(path, baudRate);
  await new Promise<void>((resolve, reject) => {
    port.open((e) => (e ? reject(e) : resolve()));
  }).catch((e: Error) => {
    throw serialOpenError(path, e);
  });
  return port;
}

/** Refuse, before opening, a port path that does not exist or is not a terminal device (a file, /dev/null). */
export function checkSerialPortPath(path: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch {
    throw new FwsealError("DEVICE", `${path}: no such serial port`);
  }
  if (!st.isCharacterDevice()) throw new FwsealError("DEVICE", `${path}: not a serial port (a ${st.isDirectory() ? "directory" : "file"}); give a device such as /dev/ttyACM0 or /dev/ttyUSB0`);
  let fd = -1;
  try {
    fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
    if (!tty.isatty(fd)) throw new FwsealError("DEVICE", `${path}: not a serial port (a character device that is not a terminal); give a device such as /dev/ttyACM0 or /dev/ttyUSB0`);
  } catch (e) {
    if (e instanceof FwsealError) throw e;
    throw serialOpenError(path, e);
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

/** A failure to open a serial port in fwseal's words (exit 14), never the driver's raw text alone. */
export function serialOpenError(path: string, e: unknown): FwsealError {
  if (e instanceof FwsealError) return e;
  const m = (e as Error | undefined)?.message || String(e);
  if (/ENOENT|No such file/i.test(m)) return new FwsealError("DEVICE", `${path}: no such serial port`, { cause: e });
  if (/EBUSY|lock|temporarily unavailable/i.test(m)) return new FwsealError("DEVICE", `${path}: serial port is busy (opened by another program)`, { cause: e });
  if (/EACCES|EPERM|Permission denied/i.test(m)) return new FwsealError("DEVICE", `${path}: permission denied (add yourself to the dialout group?)`, { cause: e });
  if (/ENOTTY|ioctl/i.test(m)) return new FwsealError("DEVICE", `${path}: not a serial port; give a device such as /dev/ttyACM0 or /dev/ttyUSB0`, { cause: e });
  if (/baud/i.test(m)) return new FwsealError("USAGE", `${path}: the port does not accept this baud rate`, { cause: e });
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return new FwsealError("DEVICE", `${path}: cannot open serial port${code ? ` (${code})` : ""}`, { cause: e });
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

  /** wireOut, when given, rewrites every outgoing byte run for the line (e.g. the escaping an
   *  Espruino console needs, host/device/espruino-console.ts); replies are read unchanged. */
  private readonly wireOut: ((b: Uint8Array) => Uint8Array) | null;

  constructor(port: SerialPort, path: string, wireOut: ((b: Uint8Array) => Uint8Array) | null = null) {
    this.port = port;
    this.path = path;
    this.wireOut = wireOut;
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
    if (this.wireOut) bytes = this.wireOut(bytes);
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
    putU32(b, DataAt.OFFSET, offset);
    b.set(bundle.subarray(offset, offset + len), DataAt.BYTES);
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

/** Decodes R_INFO (length-checked); throws a DEVICE error on a malformed reply. */
export function parseInfo(r: Reply): DeviceInfo {
  const b = r.body;
  const f = newInfoFields();
  if (r.type !== Msg.R_INFO || !readInfoReply(b, b.length, f)) throw linkMalformed("INFO");
  const slots: SlotView[] = f.slots.map((s) => ({
    state: SLOT_STATE_NAMES[s.state] ?? `state-${s.state}`,
    sequence: s.sequence,
    imageSize: s.imageSize,
    version: Buffer.from(s.version.subarray(0, s.versionLen)).toString("utf8")
  }));
  const bootCheck = (v: number): number | null => (v < 0 ? null : v);
  return {
    protocolVersion: f.protocolVersion,
    maxData: f.maxData,
    window: f.window,
    vendorId: f.vendorId,
    classId: f.classId,
    runningSlot: f.runningSlot,
    runMode: RUN_MODES[f.runMode] ?? "recovery",
    reverted: f.reverted === 1,
    bootCheck: [bootCheck(f.bootCheck[0]), bootCheck(f.bootCheck[1])],
    framesSinceBoot: f.framesSinceBoot,
    minSequence: f.minSequence,
    minEpoch: f.minEpoch,
    slotSize: f.slotSize,
    maxChunkSize: f.maxChunkSize,
    install: f.installSlot < 0 ? null : { slot: f.installSlot, nextChunk: f.installNextChunk, chunkCount: f.installChunkCount },
    slots,
    roots: f.rootCount < 0 ? null : { count: f.rootCount, retiredMask: f.rootRetired, statementCounter: f.rootCounter }
  };
}

/** R_STATUS as the host sees it (-1 = none for lastChunk and installSlot). */
export type DeviceStatus = StatusFields;

/** Decodes R_STATUS (length-checked); throws a DEVICE error on a malformed reply. */
export function parseStatus(r: Reply): DeviceStatus {
  const b = r.body;
  const f = newStatusFields();
  if (r.type !== Msg.R_STATUS || !readStatusReply(b, b.length, f)) throw linkMalformed("STATUS");
  return f;
}

/** R_ERROR as the host sees it (chunk -1 = the envelope / none). */
export type DeviceError = ErrorFields;

/** Decodes R_ERROR; a short one yields its reason byte (if any), chunk -1, offset 0. */
export function parseError(r: Reply): DeviceError {
  const b = r.body;
  const f: DeviceError = { reason: b.length > ErrorAt.REASON ? b[ErrorAt.REASON] : 0, chunk: -1, offset: 0 };
  readErrorReply(b, b.length, f);
  return f;
}

export { Msg, PROTOCOL_VERSION };
