// The device application: wires the platform's HAL, the verifiers, the boot loader
// (boot/boot-loader.ts: verify what is about to run, every boot; A/B slots with MCUboot-style
// test / confirm / revert) and the update receiver behind the serial protocol
// (formats/PROTOCOL.md; update/install-receiver.ts, update/retire-receiver.ts). The same code
// runs in the Node simulator and in Duktape on the emulated MCU; a platform supplies only the
// small HAL below and feeds received UART bytes to onBytes().
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
import { Msg, PROTOCOL_VERSION, DATA_HEADER_LEN, RunMode } from "../../formats/device-safe/protocol.js";
import type { Primitives } from "./crypto/primitives.js";
import { createFrameDecoder } from "./update/framing.js";
import { computeLayout, createStateStore } from "./boot/flash-layout.js";
import type { FlashLayout, StateStore } from "./boot/flash-layout.js";
import { createBootLoader } from "./boot/boot-loader.js";
import type { BootHal, RunStatus } from "./boot/boot-loader.js";
import { applyRetiredRoots } from "./boot/retired-roots.js";
import { createReplySender } from "./update/replies.js";
import type { UartHal } from "./update/replies.js";
import { createInstallReceiver } from "./update/install-receiver.js";
import { createRetireReceiver } from "./update/retire-receiver.js";
import { createReports } from "./update/reports.js";
import { createBundleVerifier, needsHss } from "./verify/bundle-verifier.js";
import { createHssVerifier } from "./crypto/hss-lms.js";
import type { HssVerifier } from "./crypto/hss-lms.js";
import { SIG_STRUCTURE_OVERHEAD } from "./verify/envelope.js";
import { Limits } from "../../formats/device-safe/limits.js";
import type { BundleVerifier, VerifierConfig } from "./verify/bundle-verifier.js";
import { createBootVerifier } from "./verify/boot-verifier.js";
import type { BootVerifier } from "./verify/boot-verifier.js";
import type { LogPolicy } from "./verify/log-proof.js";
import { PayloadDecoder } from "./decode/payload-decoder.js";

/** What a platform provides. Flash semantics: erase sets a page to 0xFF; write programs
 *  erased bytes only. uartWrite may block until the bytes are queued. reset() restarts the
 *  device (on an MCU it does not return; in the simulator it sets a flag and returns, and
 *  the core stops processing input until boot() is called again). */
export interface DeviceHal extends BootHal, UartHal {
  reset(): void;
}

/** The device's configuration: burned-in trust anchors, identity and limits; the optional
 *  log policy fields (verify/log-proof.ts) make it install only logged bundles. */
export interface DeviceConfig extends LogPolicy {
  primitives: Primitives;
  // burned in ("boot ROM"): packed keys in slot order, 32 bytes per Ed25519 slot, 60 per
  // HSS/LMS slot (formats/device-safe/root-keys.ts)
  roots: Uint8Array;
  rootCount: number;
  rootHssMask?: number; // bit s set = slot s holds an HSS/LMS key; absent: all Ed25519
  rootRetired: number; // slots retired at manufacture (e.g. eFuses); statements add to these
  // Optional: live roots other than the retired one that must sign a retirement statement,
  // at least (SPEC §11.3); absent or 0 = a majority of them. It can only raise that bar.
  retireThreshold?: number;
  vendorId: Uint8Array; // 16
  classId: Uint8Array; // 16
  threshold: number; // signatures required (distinct keys), >= 1
  rootThreshold?: number; // distinct roots they must come through (SPEC §8.1); absent: 1
  requiredAlgorithms?: number; // hybrid policy: AlgorithmBits the counted signers must include (SPEC §8.1)
  bootAlgorithms?: number; // AlgorithmBits whose signatures the boot check verifies (SPEC §8.5); absent: all
  hss?: boolean; // accept HSS/LMS signatures even without an HSS/LMS root or requirement
  maxChunkSize: number; // largest bundle chunk size accepted (verifier buffer)
  // Compressed and delta payloads (SPEC §15): the largest deflate window, in bits (9..15),
  // the device decodes; the decoder's ring buffer is 2^maxWindowBits bytes. Absent or 0: no
  // decoder (encodings 1 and 3 are UNSUPPORTED_ENCODING).
  maxWindowBits?: number;
  maxData: number; // largest DATA payload per frame
  window: number; // DATA frames the host may have in flight
  resumeStride: number; // persist the resume point at most every this many image bytes
  // Optional: other verifier factories (default: verify/bundle-verifier.ts, boot-verifier.ts).
  createBundleVerifier?: (cfg: VerifierConfig) => BundleVerifier;
  createBootVerifier?: (cfg: VerifierConfig) => BootVerifier;
}

/** The running device: boot() at power-on, then UART bytes to onBytes(). */
export interface DeviceApp extends RunStatus {
  // Power-on: load state, select, verify and "run" an image. Sends nothing.
  boot(): void;
  // Bytes received on the UART.
  onBytes(buf: Uint8Array, off: number, len: number): void;
  // True after the device asked the HAL to reset: call boot() again.
  halted: boolean;
  framesSinceBoot: number;
  store: StateStore;
  layout: FlashLayout;
}

function noop(): void {}
function noopBytes(buf: Uint8Array, off: number, len: number): void {}

// Does the device decode compressed and delta payloads (a window of at least 2^9 bytes)?
function decodesPayloads(cfg: DeviceConfig): boolean {
  return typeof cfg.maxWindowBits === "number" && cfg.maxWindowBits >= Limits.MIN_WINDOW_BITS;
}

// A verifier configuration from the device's; minimum sequence / epoch and time are set from
// the stored state before each use.
function initialVerifierConfig(cfg: DeviceConfig, hss: HssVerifier | null): VerifierConfig {
  return {
    primitives: cfg.primitives,
    roots: cfg.roots,
    rootCount: cfg.rootCount,
    rootHssMask: cfg.rootHssMask,
    requiredAlgorithms: cfg.requiredAlgorithms,
    bootAlgorithms: cfg.bootAlgorithms,
    hss: cfg.hss,
    hssVerifier: hss,
    rootRetired: cfg.rootRetired,
    vendorId: cfg.vendorId,
    classId: cfg.classId,
    minSequence: 0,
    minEpoch: 0,
    threshold: cfg.threshold,
    rootThreshold: cfg.rootThreshold,
    now: -1,
    maxChunkSize: cfg.maxChunkSize,
    maxWindowBits: decodesPayloads(cfg) ? cfg.maxWindowBits : 0,
    logKeys: cfg.logKeys,
    logKeyCount: cfg.logKeyCount,
    witnessKeys: cfg.witnessKeys,
    witnessKeyCount: cfg.witnessKeyCount,
    witnessQuorum: cfg.witnessQuorum
  };
}

/** Creates the device application. Returns null when the flash geometry cannot hold the
 *  layout. */
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
  // One HSS/LMS verifier (and its scratch) for the install and boot verifiers and the root
  // statements, when the device accepts HSS/LMS at all.
  const hss = needsHss(initialVerifierConfig(cfg, null)) ? createHssVerifier(cfg.primitives, Limits.MAX_SIGNED + SIG_STRUCTURE_OVERHEAD) : null;
  const vcfg = initialVerifierConfig(cfg, hss);
  const bcfg = initialVerifierConfig(cfg, hss);
  const makeVerifier = cfg.createBundleVerifier;
  const makeBootVerifier = cfg.createBootVerifier;
  const verifier = makeVerifier ? makeVerifier(vcfg) : createBundleVerifier(vcfg);
  const bootVerifier = makeBootVerifier ? makeBootVerifier(bcfg) : createBootVerifier(bcfg);

  const decoder = createFrameDecoder(cfg.maxData + DATA_HEADER_LEN, cfg.primitives);
  const replies = createReplySender(hal, cfg.maxData + DATA_HEADER_LEN);

  // Methods are attached at the end: Espruino does not hoist function declarations.
  const app: DeviceApp = {
    boot: noop,
    onBytes: noopBytes,
    halted: false,
    runningSlot: -1,
    runMode: RunMode.RECOVERY,
    bootReason: new Int32Array(2),
    reverted: 0,
    runningHead: new Uint8Array(32),
    framesSinceBoot: 0,
    store: store,
    layout: layout
  };

  const loader = createBootLoader(hal, layout, store, app, bootVerifier, bcfg);
  const payload = decodesPayloads(cfg) ? new PayloadDecoder(cfg.maxWindowBits as number) : null;
  const install = createInstallReceiver(hal, layout, store, app, verifier, vcfg, cfg.primitives, cfg, replies, payload);
  const retire = createRetireReceiver(cfg.primitives, hss, bootVerifier.envelopeBuffer(), cfg.rootRetired, cfg.retireThreshold ? cfg.retireThreshold : 0, store, app, loader, vcfg, bcfg, replies);
  const reports = createReports(cfg, layout, store, app, app, install.sess, vcfg, replies);

  function boot(): void {
    app.halted = false;
    app.framesSinceBoot = 0;
    install.reset();
    retire.reset();
    decoder.reset();
    store.load();
    applyRetiredRoots(cfg.rootRetired, st, vcfg, bcfg);
    loader.select();
  }

  function confirm(tag: number): void {
    const seq = loader.confirm();
    if (seq < 0) replies.error(tag, Reason.BAD_STATE, -1, install.sess.expectOffset);
    else replies.okConfirm(tag, seq);
  }

  function handleFrame(body: Uint8Array, len: number): void {
    app.framesSinceBoot++;
    if (len < 2) return;
    const type = body[0];
    const tag = body[1];
    if (type === Msg.DATA) install.data(tag, body, len);
    else if (type === Msg.INFO) {
      if (len >= 3 && body[2] !== PROTOCOL_VERSION) replies.error(tag, Reason.UNSUPPORTED_VERSION, -1, install.sess.expectOffset);
      else reports.info(tag);
    } else if (type === Msg.BEGIN) install.begin(tag);
    else if (type === Msg.STATUS) reports.status(tag);
    else if (type === Msg.RESUME) install.resume(tag, body, len);
    else if (type === Msg.END) install.end(tag);
    else if (type === Msg.ABORT) install.abort(tag);
    else if (type === Msg.CONFIRM) confirm(tag);
    else if (type === Msg.RETIRE_ROOT) retire.retireRoot(tag, body, len);
    else if (type === Msg.REBOOT) {
      replies.ok(tag);
      app.halted = true;
      hal.reset();
    } else replies.error(tag, Reason.MALFORMED, -1, install.sess.expectOffset);
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
