// `fwseal flash` as a library: update a device over a serial line (formats/PROTOCOL.md).
// Handshake (INFO), host-side pre-checks against what the device reports (vendor, class,
// rollback, size) so an obviously wrong bundle is not even sent, then the bundle streamed
// in DATA frames with a sliding window, cumulative ACKs, NAK-triggered and timeout-
// triggered go-back-N retransmission, and resume from the device's last persisted chunk.
// The device is the authority: it verifies everything itself; the pre-checks only save time.
// Also delivers a root-retirement statement (SPEC §11, RETIRE_ROOT), after any install,
// reboot and confirm of the same run, which is the order the key runbook needs.
import { openEspruinoLink } from "./espruino-console.js";
import { createHash } from "node:crypto";
import * as fsp from "node:fs/promises";
import { Reason, reasonName } from "../../formats/device-safe/reasons.js";
import { formatUuid } from "../../formats/host-only/uuid.js";
import { AckFlag, AckAt, BeginAt, BeginFlag, ConfirmOkAt, Msg, PROTOCOL_VERSION, REQUEST_HEAD_LEN, ResumeOkAt, RetireAt, RetireOkAt, getU16, getU32, getU53, putU16, putU32 } from "../../formats/device-safe/protocol.js";
import { MAX_ROOT_COUNTER_STEP, MAX_ROOT_STATEMENT } from "../../formats/device-safe/limits.js";
import { decodeRootStatement, type DecodedRootStatement } from "../keys/root-retirement.js";
import { DeviceLink, HOST_MAX_DATA, HOST_MAX_WINDOW, parseError, parseInfo, parseStatus, type DeviceInfo, type LinkStats } from "./flash-link.js";
import { FwsealError, inputError } from "../errors.js";
import { exitCodeForReason } from "../exit-codes.js";
import { inspectBytes, type InspectResult } from "../bundle/inspect.js";
import { raceAbort, throwIfAborted } from "../io/abort.js";

/** A progress report passed to FlashOptions.onProgress. */
export interface FlashProgress {
  phase: "send" | "verify-envelope";
  acked: number; // bundle bytes the device has verified and accepted
  total: number;
  startOffset: number; // where this session started (resume)
  elapsedMs: number;
  bytesPerSec: number;
  etaSec: number;
}

/** Options of flashDevice: the port, the bundle (absent: info, reboot or confirm only), what to do after, timeouts. */
export interface FlashOptions {
  port: string;
  baud?: number;
  bundle?: Uint8Array | string; // bytes or a path; absent = only info / reboot / confirm
  /**
   * Continue an interrupted install of this bundle from the device's resume point. Default:
   * whenever the device reports an interrupted install (a different bundle starts over, and
   * the log says why); false always starts from the beginning.
   */
  resume?: boolean;
  reboot?: boolean;
  confirm?: boolean;
  /** A root-retirement statement (bytes or a path) to apply, after install / reboot / confirm. */
  retireRoot?: Uint8Array | string;
  force?: boolean; // skip host pre-checks (the device still checks everything)
  timeoutMs?: number; // base reply timeout (default 3000, env FWSEAL_SERIAL_TIMEOUT_MS)
  slowTimeoutMs?: number; // replies that involve a signature check or a boot (default 60000)
  retries?: number; // default 8
  window?: number; // DATA frames in flight (default: what the device offers, at most HOST_MAX_WINDOW)
  frameData?: number; // DATA payload per frame (default: what the device offers, max HOST_MAX_DATA)
  onProgress?: (p: FlashProgress) => void;
  onLog?: (line: string) => void;
  link?: DeviceLink; // an open link to reuse (not closed afterwards)
  /** The port is an Espruino board's JavaScript console: switch it to update mode first. */
  espruino?: boolean;
  /** Stop after this many acknowledged bytes (tests: a cable pull at a known point). */
  stopAfter?: number;
  /** Stops at the next reply or step: throws FwsealError ABORTED; the link is closed and the device keeps its resume point. */
  signal?: AbortSignal;
}

/** What flashDevice reports: the outcome, the device's info (and after a reboot), transfer statistics. */
export interface FlashResult {
  outcome: "installed" | "rejected" | "info";
  port: string;
  device: DeviceInfo;
  bundle?: {
    version: string;
    sequence: number;
    size: number;
    envelopeSize: number;
    chunkSize: number;
    chunkCount: number;
  };
  resumedFrom?: number; // bundle offset the transfer resumed at
  reason?: number;
  reasonName?: string;
  chunk?: number; // -1 = envelope
  transfer?: { bytes: number; ms: number; bytesPerSec: number; wireOut: number; payloadOverWire: number; retransmits: number; timeouts: number };
  boot?: DeviceInfo; // after --reboot
  confirmed?: { sequence: number };
  /** Why --confirm sent nothing: the device was not running a test image. */
  notConfirmed?: string;
  /** After retireRoot: what the device stored (alreadyApplied: a lost reply, found applied). */
  retired?: { slot: number; counter: number; retiredMask: number; alreadyApplied: boolean };
}

function envMs(name: string, dflt: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

async function loadFile(b: Uint8Array | string): Promise<Uint8Array> {
  if (typeof b !== "string") return b;
  try {
    return new Uint8Array(await fsp.readFile(b));
  } catch (e) {
    throw inputError(b, e);
  }
}

function rejected(reason: number, chunk: number, where: string): FwsealError {
  const at = chunk >= 0 ? ` at chunk ${chunk}` : "";
  return new FwsealError("BUNDLE_REJECTED", `${where}: ${reasonName(reason)}${at}`, { exitCode: exitCodeForReason(reason), reason, chunk });
}

/** Reads the device's INFO (the protocol handshake). */
export async function deviceInfo(link: DeviceLink, timeoutMs: number, retries: number): Promise<DeviceInfo> {
  const r = await link.request(Msg.INFO, Uint8Array.of(PROTOCOL_VERSION), timeoutMs, retries);
  if (r.type === Msg.R_ERROR) {
    const e = parseError(r);
    throw new FwsealError("DEVICE", `${link.path}: device refused protocol version ${PROTOCOL_VERSION} (${reasonName(e.reason)})`);
  }
  const info = parseInfo(r);
  if (info.protocolVersion !== PROTOCOL_VERSION) {
    throw new FwsealError("DEVICE", `${link.path}: device speaks protocol version ${info.protocolVersion}, fwseal speaks ${PROTOCOL_VERSION}`);
  }
  return info;
}

/** Host-side pre-checks: the same policy the device applies, on the unverified manifest. */
export function preCheck(info: DeviceInfo, m: InspectResult): { reason: number; message: string } | null {
  const mf = m.manifest;
  const dv = formatUuid(info.vendorId);
  const dc = formatUuid(info.classId);
  if (mf.vendorId !== dv) return { reason: Reason.WRONG_VENDOR, message: `bundle is for vendor ${mf.vendorId}, the device is ${dv}` };
  if (mf.classId !== dc) return { reason: Reason.WRONG_CLASS, message: `bundle is for class ${mf.classId}, the device is ${dc}` };
  if (mf.sequence === null || mf.sequence < info.minSequence)
    return { reason: Reason.ROLLBACK, message: `bundle sequence ${mf.sequence} is below the device's minimum ${info.minSequence}` };
  if (mf.imageSize === null || mf.imageSize > info.slotSize)
    return { reason: Reason.TOO_LARGE, message: `image of ${mf.imageSize} bytes does not fit the device's ${info.slotSize}-byte slot` };
  if (mf.chunkSize === null || mf.chunkSize > info.maxChunkSize)
    return { reason: Reason.TOO_LARGE, message: `chunk size ${mf.chunkSize} exceeds the device's maximum ${info.maxChunkSize}` };
  return null;
}

async function startOrResume(
  link: DeviceLink,
  bundle: Uint8Array,
  envelopeSize: number,
  o: { resume: boolean; t: number; slow: number; retries: number; log: (s: string) => void }
): Promise<number> {
  if (o.resume) {
    const st = parseStatus(await link.request(Msg.STATUS, new Uint8Array(0), o.t, o.retries));
    if (st.installSlot >= 0) {
      const h = createHash("sha256").update(bundle.subarray(0, envelopeSize)).digest();
      const r = await link.request(Msg.RESUME, new Uint8Array(h), o.slow, o.retries);
      if (r.type === Msg.R_OK && r.body.length >= ResumeOkAt.OFFSET + 4) {
        const off = getU32(r.body, ResumeOkAt.OFFSET);
        if (off >= envelopeSize && off <= bundle.length) {
          o.log(`resuming at chunk ${st.nextChunk} of ${st.chunkCount} (byte ${off} of ${bundle.length})`);
          return off;
        }
      }
      const e = r.type === Msg.R_ERROR ? parseError(r) : null;
      if (e && e.reason !== Reason.BAD_STATE) throw rejected(e.reason, e.chunk, "resume rejected by the device");
      o.log("the device holds no resume point for this bundle: starting from the beginning");
    } else {
      o.log("the device has no interrupted install: starting from the beginning");
    }
  }
  const begin = new Uint8Array(BeginAt.LEN - REQUEST_HEAD_LEN);
  begin[BeginAt.FLAGS - REQUEST_HEAD_LEN] = BeginFlag.NONE;
  putU32(begin, BeginAt.BUNDLE_LEN - REQUEST_HEAD_LEN, bundle.length);
  const r = await link.request(Msg.BEGIN, begin, o.t, o.retries);
  if (r.type === Msg.R_ERROR) {
    const e = parseError(r);
    if (e.reason === Reason.BAD_STATE)
      throw new FwsealError("DEVICE", `${link.path}: the device is running an unconfirmed test image: confirm it (--confirm) or reboot it (--reboot) to revert, then flash again`);
    throw rejected(e.reason, e.chunk, "device refused to begin");
  }
  return 0;
}

/** Streams bundle[start..] with a sliding window. Returns on COMPLETE; throws on rejection / link failure. */
async function stream(
  link: DeviceLink,
  bundle: Uint8Array,
  start: number,
  envelopeSize: number,
  o: { frame: number; window: number; t: number; slow: number; retries: number; baud: number; stopAfter?: number; signal?: AbortSignal; progress: (acked: number, phase: FlashProgress["phase"]) => void }
): Promise<void> {
  const total = bundle.length;
  let acked = start;
  let sendOff = start;
  let highest = start; // highest offset ever sent (to count retransmissions)
  let rewindMark = -1; // offset we already went back to for a NAK
  let failures = 0;
  link.clearDataReplies();
  const byteMs = (10 * 1000) / o.baud;
  for (;;) {
    throwIfAborted(o.signal, "flash");
    while (sendOff < total && sendOff - acked < o.window * o.frame) {
      const n = Math.min(o.frame, total - sendOff);
      link.sendData(bundle, sendOff, n, sendOff < highest);
      sendOff += n;
      if (sendOff > highest) highest = sendOff;
    }
    // Wait long enough for everything in flight to cross the line, plus the device's work:
    // the frame that completes the envelope waits for a signature check.
    const inflightMs = (sendOff - acked + 64) * byteMs * 2;
    const verifying = acked < envelopeSize;
    const timeout = Math.ceil(inflightMs + (verifying ? o.slow : o.t));
    if (verifying) o.progress(acked, "verify-envelope");
    const r = await raceAbort(link.nextDataReply(timeout), o.signal, "flash");
    link.throwIfFailed();
    if (!r) {
      link.stats.timeouts++;
      if (++failures > o.retries) throw new FwsealError("DEVICE", `${link.path}: the device stopped answering at byte ${acked} of ${total} (${o.retries + 1} timeouts); run again with --resume`);
      sendOff = acked; // go back N
      rewindMark = acked;
      continue;
    }
    if (r.type === Msg.R_ERROR) {
      const e = parseError(r);
      throw rejected(e.reason, e.chunk, "rejected by the device");
    }
    if (r.body.length < AckAt.NAK_LEN) continue;
    const off = getU32(r.body, AckAt.NEXT);
    if (r.type === Msg.R_ACK) {
      if (off > acked && off <= total) {
        acked = off;
        failures = 0;
        if (rewindMark >= 0 && acked > rewindMark) rewindMark = -1;
        if (sendOff < acked) sendOff = acked;
        o.progress(acked, "send");
      }
      if (r.body.length >= AckAt.LEN && (r.body[AckAt.FLAGS] & AckFlag.VERIFIED) !== 0 && off === total) break;
      if (off === total && acked === total) break; // all bytes in, device wants more: END says why
      if (o.stopAfter !== undefined && acked >= o.stopAfter) throw new FwsealError("DEVICE", `${link.path}: transfer stopped at byte ${acked} (test)`);
    } else if (r.type === Msg.R_NAK) {
      // A gap at `off`: go back once per gap (later NAKs for the same gap are in-flight echoes).
      if (off >= acked && off < sendOff && rewindMark !== off) {
        acked = off;
        sendOff = off;
        rewindMark = off;
      }
    }
  }
}

/** END: the device commits a fully verified install, or reports why not (e.g. TRUNCATED). */
async function endStream(link: DeviceLink, t: number, retries: number): Promise<void> {
  const r = await link.request(Msg.END, new Uint8Array(0), t, retries);
  if (r.type === Msg.R_ERROR) {
    const e = parseError(r);
    throw rejected(e.reason, e.chunk, "rejected by the device");
  }
}

/** Polls INFO every `t` ms until the device answers or `slow` ms pass (it may be booting). */
async function waitForDevice(link: DeviceLink, t: number, slow: number): Promise<{ info: DeviceInfo; tries: number }> {
  const deadline = Date.now() + slow;
  for (let tries = 1; ; tries++) {
    try {
      return { info: await deviceInfo(link, t, 0), tries };
    } catch (e) {
      link.throwIfFailed();
      if (!(e instanceof FwsealError && /no answer/.test(e.message)) || Date.now() > deadline) throw e;
    }
  }
}

async function reboot(link: DeviceLink, t: number, slow: number): Promise<DeviceInfo> {
  for (let attempt = 0; attempt < 3; attempt++) {
    let acked = true;
    try {
      await link.request(Msg.REBOOT, new Uint8Array(0), t, 0);
    } catch (e) {
      link.throwIfFailed();
      acked = false;
    }
    // The boot loader verifies the image it is about to run before the device answers again.
    // REBOOT is not idempotent (a second reset of a test image reverts it): when its reply
    // was lost, the frame counter tells whether the reset happened.
    const { info, tries } = await waitForDevice(link, t, slow);
    if (acked || info.framesSinceBoot <= tries) return info;
  }
  throw new FwsealError("DEVICE", `${link.path}: the device did not reboot`);
}

async function confirm(link: DeviceLink, t: number, retries: number): Promise<number> {
  const r = await link.request(Msg.CONFIRM, new Uint8Array(0), t, retries);
  if (r.type === Msg.R_ERROR) {
    const e = parseError(r);
    throw new FwsealError("DEVICE", `${link.path}: device refused to confirm (${reasonName(e.reason)}): it runs no verified image`);
  }
  return r.body.length >= ConfirmOkAt.LEN ? getU53(r.body, ConfirmOkAt.SEQUENCE) : -1;
}

/** Host-side pre-check of a statement against INFO (the device decides; this saves a trip). */
export function preCheckStatement(info: DeviceInfo, d: DecodedRootStatement): { reason: number; message: string } | null {
  const dv = formatUuid(info.vendorId);
  if (d.vendorId !== dv) return { reason: Reason.WRONG_VENDOR, message: `statement is for vendor ${d.vendorId}, the device is ${dv}` };
  const dc = formatUuid(info.classId);
  if (d.classId !== undefined && d.classId !== dc) return { reason: Reason.WRONG_CLASS, message: `statement is for class ${d.classId}, the device is ${dc}` };
  if (!info.roots) return null; // an older device: let it decide
  if (d.slot >= info.roots.count) return { reason: Reason.UNKNOWN_KEY, message: `statement retires slot ${d.slot}, the device has ${info.roots.count} root slot(s)` };
  if (d.counter <= info.roots.statementCounter) {
    return { reason: Reason.STALE_STATEMENT, message: `statement counter ${d.counter} is not above the device's ${info.roots.statementCounter} (already applied, or older)` };
  }
  if (d.counter - info.roots.statementCounter > MAX_ROOT_COUNTER_STEP) {
    return { reason: Reason.TOO_LARGE, message: `statement counter ${d.counter} is more than ${MAX_ROOT_COUNTER_STEP} above the device's ${info.roots.statementCounter}` };
  }
  if (((info.roots.retiredMask >> d.slot) & 1) === 1) return { reason: Reason.STALE_STATEMENT, message: `root slot ${d.slot} is already retired on the device` };
  return null;
}

function retiredList(mask: number): string {
  const s: number[] = [];
  for (let i = 0; i < 8; i++) if ((mask >> i) & 1) s.push(i);
  return s.length ? s.join(", ") : "none";
}

/**
 * RETIRE_ROOT: sends the statement in fragments of at most maxData bytes (stop and wait) and
 * returns what the device stored. The last fragment waits the slow timeout (a signature check
 * and, on a device running an image, that image's boot check under the new mask).
 */
async function deliverStatement(
  link: DeviceLink,
  stmt: Uint8Array,
  decoded: DecodedRootStatement | null,
  info: DeviceInfo,
  o: { t: number; slow: number; retries: number }
): Promise<NonNullable<FlashResult["retired"]>> {
  const frag = Math.max(16, Math.min(info.maxData, MAX_ROOT_STATEMENT));
  const timeouts0 = link.stats.timeouts;
  let off = 0;
  let naks = 0;
  for (;;) {
    const n = Math.min(frag, stmt.length - off);
    const last = off + n === stmt.length;
    const p = new Uint8Array(RetireAt.BYTES - REQUEST_HEAD_LEN + n);
    putU16(p, RetireAt.TOTAL - REQUEST_HEAD_LEN, stmt.length);
    putU16(p, RetireAt.OFFSET - REQUEST_HEAD_LEN, off);
    p.set(stmt.subarray(off, off + n), RetireAt.BYTES - REQUEST_HEAD_LEN);
    const r = await link.request(Msg.RETIRE_ROOT, p, last ? o.slow : o.t, o.retries, true);
    if (r.type === Msg.R_NAK && r.body.length >= AckAt.NAK_LEN) {
      const exp = getU32(r.body, AckAt.NEXT);
      if (++naks > o.retries || exp > off) throw new FwsealError("DEVICE", `${link.path}: the device keeps losing the statement's fragments`);
      off = exp;
      continue;
    }
    if (r.type === Msg.R_ERROR) {
      const e = parseError(r);
      if (e.reason === Reason.STALE_STATEMENT && decoded && link.stats.timeouts > timeouts0) {
        // A reply was lost and the retry found the statement applied: that is success.
        const now = await deviceInfo(link, o.t, o.retries);
        if (now.roots && now.roots.statementCounter === decoded.counter && ((now.roots.retiredMask >> decoded.slot) & 1) === 1) {
          return { slot: decoded.slot, counter: decoded.counter, retiredMask: now.roots.retiredMask, alreadyApplied: true };
        }
      }
      if (e.reason === Reason.BAD_STATE) {
        const why =
          info.runMode === "test"
            ? "it runs an unconfirmed test image: confirm it (--confirm) or reboot to revert, then retire"
            : `its running image verifies only through root slot ${decoded ? decoded.slot : "being retired"}: install and confirm a release signed through another root first`;
        throw new FwsealError("DEVICE", `${link.path}: the device refused the root-retirement statement: ${why}`);
      }
      throw rejected(e.reason, -1, "root-retirement statement refused by the device");
    }
    if (r.type !== Msg.R_OK || r.body.length < RetireOkAt.PARTIAL_LEN) throw new FwsealError("DEVICE", `${link.path}: malformed RETIRE_ROOT reply from the device`);
    const got = getU16(r.body, RetireOkAt.RECEIVED);
    if (!last) {
      if (got <= off || got > off + n) throw new FwsealError("DEVICE", `${link.path}: malformed RETIRE_ROOT reply from the device`);
      off = got;
      continue;
    }
    if (r.body.length < RetireOkAt.LEN || got !== stmt.length) throw new FwsealError("DEVICE", `${link.path}: malformed RETIRE_ROOT reply from the device`);
    return { slot: r.body[RetireOkAt.SLOT], retiredMask: r.body[RetireOkAt.RETIRED], counter: getU53(r.body, RetireOkAt.COUNTER), alreadyApplied: false };
  }
}

export { retiredList };

/** Full flash flow. Throws FwsealError (exit 10-13 for rejections, 14 for link failures). */
export async function flashDevice(opts: FlashOptions): Promise<FlashResult> {
  const t = opts.timeoutMs ?? envMs("FWSEAL_SERIAL_TIMEOUT_MS", 3000);
  const slow = opts.slowTimeoutMs ?? envMs("FWSEAL_SERIAL_SLOW_TIMEOUT_MS", 60000);
  const retries = opts.retries ?? 8;
  const baud = opts.baud ?? 115200;
  const log = opts.onLog ?? (() => undefined);
  const bundle = opts.bundle !== undefined ? await loadFile(opts.bundle) : null;
  const statement = opts.retireRoot !== undefined ? await loadFile(opts.retireRoot) : null;
  let decoded: DecodedRootStatement | null = null;
  if (statement) {
    if (statement.length > MAX_ROOT_STATEMENT && (!opts.force || statement.length > 0xffff)) {
      throw rejected(Reason.TOO_LARGE, -1, `root-retirement statement not sent: ${statement.length} bytes, more than ${MAX_ROOT_STATEMENT}`);
    }
    try {
      decoded = decodeRootStatement(statement);
    } catch (e) {
      if (!opts.force) throw e;
    }
  }
  let parsed: InspectResult | null = null;
  if (bundle) {
    try {
      parsed = inspectBytes(bundle.subarray(0, Math.min(bundle.length, 8192)), bundle.length);
    } catch (e) {
      if (e instanceof FwsealError) throw e;
      throw rejected(Reason.MALFORMED, -1, "bundle");
    }
  }
  throwIfAborted(opts.signal, "flash");
  const link = opts.link ?? (opts.espruino ? await openEspruinoLink(opts.port, baud) : await DeviceLink.open(opts.port, baud));
  try {
    const info = await deviceInfo(link, t, retries);
    const result: FlashResult = { outcome: "info", port: opts.port, device: info };
    if (decoded && !opts.force) {
      const bad = preCheckStatement(info, decoded);
      if (bad) throw new FwsealError("BUNDLE_REJECTED", `root-retirement statement not sent: ${reasonName(bad.reason)}: ${bad.message}`, { exitCode: exitCodeForReason(bad.reason), reason: bad.reason, chunk: -1 });
    }
    if (bundle && parsed) {
      const m = parsed.manifest;
      result.bundle = {
        version: m.version ?? "",
        sequence: m.sequence ?? -1,
        size: bundle.length,
        envelopeSize: parsed.envelopeSize,
        chunkSize: m.chunkSize ?? 0,
        chunkCount: m.chunkCount ?? 0
      };
      if (!opts.force) {
        const bad = preCheck(info, parsed);
        if (bad) throw new FwsealError("BUNDLE_REJECTED", `not sent: ${reasonName(bad.reason)}: ${bad.message}`, { exitCode: exitCodeForReason(bad.reason), reason: bad.reason, chunk: -1 });
      }
      const frame = Math.max(64, Math.min(opts.frameData ?? HOST_MAX_DATA, info.maxData, HOST_MAX_DATA));
      const window = Math.max(1, Math.min(opts.window ?? HOST_MAX_WINDOW, info.window || 1));
      const start = await startOrResume(link, bundle, parsed.envelopeSize, { resume: opts.resume ?? info.install !== null, t, slow, retries, log });
      if (start > 0) result.resumedFrom = start;
      const t0 = Date.now();
      const w0 = link.stats.wireOut;
      const p0 = link.stats.dataPayloadOut;
      const rt0 = link.stats.retransmits;
      const to0 = link.stats.timeouts;
      const progress = (acked: number, phase: FlashProgress["phase"]): void => {
        if (!opts.onProgress) return;
        const ms = Date.now() - t0;
        const rate = ms > 0 ? ((acked - start) * 1000) / ms : 0;
        opts.onProgress({ phase, acked, total: bundle.length, startOffset: start, elapsedMs: ms, bytesPerSec: rate, etaSec: rate > 0 ? (bundle.length - acked) / rate : -1 });
      };
      progress(start, "send");
      try {
        await stream(link, bundle, start, parsed.envelopeSize, { frame, window, t, slow, retries, baud, stopAfter: opts.stopAfter, signal: opts.signal, progress });
        await endStream(link, t, retries);
      } catch (e) {
        if (e instanceof FwsealError && e.code === "BUNDLE_REJECTED") {
          result.outcome = "rejected";
          result.reason = e.reason;
          result.reasonName = reasonName(e.reason ?? 0);
          result.chunk = e.chunk;
        }
        throw Object.assign(e as object, { flashResult: result });
      }
      const ms = Math.max(1, Date.now() - t0);
      const wire = link.stats.wireOut - w0;
      result.transfer = {
        bytes: bundle.length - start,
        ms,
        bytesPerSec: ((bundle.length - start) * 1000) / ms,
        wireOut: wire,
        payloadOverWire: wire > 0 ? (bundle.length - start) / wire : 0,
        retransmits: link.stats.retransmits - rt0,
        timeouts: link.stats.timeouts - to0
      };
      void p0;
      result.outcome = "installed";
    }
    throwIfAborted(opts.signal, "flash");
    if (opts.reboot) result.boot = await reboot(link, t, slow);
    const current = result.boot ?? info;
    if (opts.confirm && current.runMode === "normal") {
      // Confirming is for a test image; a device already running a confirmed one has nothing to confirm.
      const s = current.runningSlot;
      result.notConfirmed = `nothing to confirm: the device runs a confirmed image (slot ${"AB"[s] ?? "?"}, ${current.slots[s]?.version || "?"}, sequence ${current.slots[s]?.sequence ?? "?"}), not a test image`;
      log(result.notConfirmed);
      if (result.boot) result.device = result.boot;
    } else if (opts.confirm) {
      const seq = await confirm(link, t, retries);
      result.confirmed = { sequence: seq };
      result.device = await deviceInfo(link, t, retries);
    } else if (result.boot) {
      result.device = result.boot;
    }
    throwIfAborted(opts.signal, "flash");
    if (statement) {
      result.retired = await deliverStatement(link, statement, decoded, result.device, { t, slow, retries });
      result.device = await deviceInfo(link, t, retries);
    }
    return result;
  } finally {
    if (!opts.link) await link.close();
  }
}

export type { DeviceInfo, LinkStats };
export { DeviceLink };
