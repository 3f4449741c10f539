/**
 * The device core ("fwseal/device-core"): the verifiers and the update protocol every
 * fwseal device runs, in constrained TypeScript (docs/CONSTRAINED-TS.md, checked by
 * scripts/check-subset.mjs). Nothing here throws on attacker input: results are Reason codes.
 *
 * Constants   Reason, REASON_NAMES, reasonName, Limits, CHUNK_DOMAIN, ALG_EDDSA, ALG_ED25519.
 * Crypto      sha256(buf, off, len, out) / class Sha256 (incremental); ed25519Verify(pk, sig,
 *             msg, off, len) -> boolean; createPurePrimitives() -> Primitives (both in pure TS);
 *             ed25519FieldOps / ed25519UseFieldOps(mul, sqN) -> boolean (field arithmetic from RAM);
 *             createHssVerifier(primitives, maxMsgLen) -> HssVerifier: verify(pk, pkOff, pkLen,
 *             sig, sigOff, sigLen, msg, off, len) -> Reason (HSS/LMS, RFC 8554, on primitives.sha256).
 * Verifiers   createBundleVerifier(VerifierConfig) -> BundleVerifier: push(buf, off, len)
 *             returns VerifyEvent values (ENVELOPE, CHUNK, DONE, REJECT with `reason`), in
 *             SPEC §8 order; createBootVerifier(cfg, shared?) -> BootVerifier:
 *             check(envelope, len, ImageRead) -> Reason re-checks an installed image;
 *             createRecordedBootCheck(bootCfg, shared, sharedCfg, BootRecordHal): the same
 *             check with the signature step replaced by a record of an earlier full check;
 *             createRootStatementVerifier(primitives) ->
 *             RootStatementVerifier: check(stmt, len, state, storedCounter) -> Reason (SPEC §11).
 * Device      createDeviceApp(DeviceHal, DeviceConfig) -> DeviceApp | null: boot(), then feed
 *             UART bytes to onBytes(buf, off, len) (formats/PROTOCOL.md §6 lists the HAL);
 *             computeLayout(pageSize, flashSize) -> the flash layout or null; SlotState, Msg,
 *             PROTOCOL_VERSION, RunMode, Session; createFrameDecoder / createFrameEncoder
 *             (maxBody) for the serial framing, maxWireLen(body) its worst-case wire bytes,
 *             DATA_HEADER_LEN; crc32(buf, off, len).
 * Payloads    new PayloadDecoder(maxWindowBits): start(PayloadParams), chunk(data, off, len,
 *             PayloadSink) per authenticated wire chunk, finish(); saveState/loadState
 *             (DECODER_STATE_LEN bytes) at chunk boundaries (SPEC §15: deflate, delta patch);
 *             createRamInstallCheck(cfg, image, precursor, precursorLen, precursorHead) ->
 *             RamInstallCheck: push()/end() like the verifier, with an encoded payload
 *             decoded into `image` and checked as an install checks it (whole bundle in RAM).
 *
 * Two consumers: Node / TypeScript (host, simulator, tests) import the named exports below;
 * scripts/build-core-es5.mjs bundles this file into ONE ES5 script, build/fwseal-core.js,
 * that defines one global `fwsealCore` (for duk, Espruino, the MCU firmware's embedded
 * Duktape, and Node via vm). Never `import * as` here or in the core: namespace objects are
 * emitted with getters.
 */

import { Reason, REASON_NAMES, reasonName } from "../../formats/device-safe/reasons.js";
import { Limits, CHUNK_DOMAIN, ALG_EDDSA, ALG_ED25519 } from "../../formats/device-safe/limits.js";
import { sha256, Sha256 } from "./crypto/sha256.js";
import { ed25519Verify, ed25519FieldOps, ed25519UseFieldOps } from "./crypto/ed25519.js";
import { createPurePrimitives } from "./crypto/pure-primitives.js";
import { createHssVerifier, lmsSignatureLength, HSS_PUBKEY_LEN, HSS_MAX_LEVELS, HSS_MAX_CHAIN_STEPS } from "./crypto/hss-lms.js";
import { VerifyEvent, createBundleVerifier } from "./verify/bundle-verifier.js";
import { createBootVerifier } from "./verify/boot-verifier.js";
import { createRecordedBootCheck, BootCheckPath, BOOT_RECORD_LEN } from "./verify/recorded-boot-check.js";
import { createDeviceApp } from "./device-app.js";
import { computeLayout, SlotState } from "./boot/flash-layout.js";
import { Msg, PROTOCOL_VERSION, RunMode, Session, DATA_HEADER_LEN } from "../../formats/device-safe/protocol.js";
import { createFrameDecoder, createFrameEncoder, maxWireLen } from "./update/framing.js";
import { crc32 } from "./update/crc32.js";
import { createRootStatementVerifier, RootStatementVerifier } from "./verify/root-statement.js";
import { hexToBytes, bytesToHex } from "./hex.js";
import { parseRootList, rootKeyLength, rootKeyOffset } from "../../formats/device-safe/root-keys.js";
import { AlgorithmBit, ALG_HSS_LMS } from "../../formats/device-safe/limits.js";
import { PayloadDecoder, DECODER_STATE_LEN, payloadDecoderBytes } from "./decode/payload-decoder.js";
import { createRamInstallCheck, RamInstallCheck } from "./decode/ram-install-check.js";

export type { Primitives } from "./crypto/primitives.js";
export { Reason, REASON_NAMES, reasonName, Limits, CHUNK_DOMAIN, ALG_EDDSA, ALG_ED25519 };
export { sha256, Sha256, ed25519Verify, ed25519FieldOps, ed25519UseFieldOps, createPurePrimitives };
export { createHssVerifier, lmsSignatureLength, HSS_PUBKEY_LEN, HSS_MAX_LEVELS, HSS_MAX_CHAIN_STEPS };
export type { HssVerifier } from "./crypto/hss-lms.js";
export type { VerifierConfig, BundleVerifier } from "./verify/bundle-verifier.js";
export { VerifyEvent, createBundleVerifier, createBootVerifier };
export type { BootVerifier, ImageRead } from "./verify/boot-verifier.js";
export { createRecordedBootCheck, BootCheckPath, BOOT_RECORD_LEN };
export type { RecordedBootCheck, BootRecordHal } from "./verify/recorded-boot-check.js";
export { createRootStatementVerifier, RootStatementVerifier };
export { hexToBytes, bytesToHex };
export { parseRootList, rootKeyLength, rootKeyOffset, AlgorithmBit, ALG_HSS_LMS };
export { createDeviceApp, computeLayout, SlotState, Msg, PROTOCOL_VERSION, RunMode, Session, createFrameDecoder, createFrameEncoder, maxWireLen, DATA_HEADER_LEN, crc32 };
export type { DeviceApp, DeviceConfig, DeviceHal } from "./device-app.js";
export { PayloadDecoder, DECODER_STATE_LEN, payloadDecoderBytes };
export type { PayloadSink, PayloadParams } from "./decode/payload-decoder.js";
export { createRamInstallCheck, RamInstallCheck };

/**
 * The ES5 bundle's one global: the same values as the named exports, built by hand as a
 * plain record so the bundle needs no ESM export getters.
 */
export const fwsealCore = {
  // --- format constants (formats/device-safe/reasons.ts, formats/device-safe/limits.ts) ---
  Reason: Reason,
  REASON_NAMES: REASON_NAMES,
  reasonName: reasonName,
  Limits: Limits,
  CHUNK_DOMAIN: CHUNK_DOMAIN,
  // --- crypto ---
  sha256: sha256,
  Sha256: Sha256,
  ed25519Verify: ed25519Verify,
  // A board running the core from flash that is not memory-mapped may move the field
  // arithmetic to RAM: ed25519UseFieldOps(copy of ed25519FieldOps.mul, copy of .sqN) -> checked.
  ed25519FieldOps: ed25519FieldOps,
  ed25519UseFieldOps: ed25519UseFieldOps,
  createPurePrimitives: createPurePrimitives,
  // v = createHssVerifier(primitives, maxMsgLen); v.verify(pk, pkOff, pkLen, sig, sigOff,
  // sigLen, msg, off, len) -> Reason (HSS/LMS, RFC 8554); v.hashCalls = sha256 calls made.
  createHssVerifier: createHssVerifier,
  lmsSignatureLength: lmsSignatureLength,
  HSS_PUBKEY_LEN: HSS_PUBKEY_LEN,
  HSS_MAX_LEVELS: HSS_MAX_LEVELS,
  HSS_MAX_CHAIN_STEPS: HSS_MAX_CHAIN_STEPS,
  // --- streaming and boot verifiers ---
  VerifyEvent: VerifyEvent,
  createBundleVerifier: createBundleVerifier,
  createBootVerifier: createBootVerifier,
  // createRecordedBootCheck(bootCfg, sharedVerifier, sharedCfg, recordHal): the boot check
  // that re-hashes the chain against a head recorded after a full check (a boot verifier
  // for DeviceConfig.createBootVerifier); .recordInstalled(imageSize) after an install.
  createRecordedBootCheck: createRecordedBootCheck,
  BootCheckPath: BootCheckPath,
  BOOT_RECORD_LEN: BOOT_RECORD_LEN,
  // --- device application / protocol entry points ---
  // createDeviceApp(hal, cfg): formats/PROTOCOL.md §6 lists the HAL; feed UART bytes to
  // app.onBytes(buf, off, len) after app.boot().
  createDeviceApp: createDeviceApp,
  computeLayout: computeLayout,
  SlotState: SlotState,
  Msg: Msg,
  PROTOCOL_VERSION: PROTOCOL_VERSION,
  RunMode: RunMode,
  Session: Session,
  createFrameDecoder: createFrameDecoder,
  createFrameEncoder: createFrameEncoder,
  maxWireLen: maxWireLen,
  DATA_HEADER_LEN: DATA_HEADER_LEN,
  crc32: crc32,
  // --- root-retirement statements, SPEC §11 ---
  // v = createRootStatementVerifier(primitives); v.check(stmt, len, cfg, storedCounter,
  // retireThreshold) -> Reason (retireThreshold 0 = majority of the other live roots);
  // on OK persist v.retiredMask and v.counter.
  createRootStatementVerifier: createRootStatementVerifier,
  // --- hex for the ES5 drivers around the core (policy in, results out) ---
  hexToBytes: hexToBytes,
  bytesToHex: bytesToHex,
  // --- root slots of either key type (formats/device-safe/root-keys.ts) and hybrid policies ---
  // n = parseRootList(hexText, out): out gets the packed keys; rootCount = n >> 8 (n / 256),
  // rootHssMask = n & 255; -1 when the text is not a root list.
  parseRootList: parseRootList,
  rootKeyLength: rootKeyLength,
  rootKeyOffset: rootKeyOffset,
  AlgorithmBit: AlgorithmBit,
  ALG_HSS_LMS: ALG_HSS_LMS,
  // --- compressed and delta payloads, SPEC §15 ---
  // d = new PayloadDecoder(maxWindowBits); d.start(params); d.chunk(data, off, len, sink)
  // per authenticated wire chunk; d.finish(); saveState/loadState at chunk boundaries.
  PayloadDecoder: PayloadDecoder,
  DECODER_STATE_LEN: DECODER_STATE_LEN,
  payloadDecoderBytes: payloadDecoderBytes,
  // c = createRamInstallCheck(verifierConfig, image, precursor, precursorLen, precursorHead):
  // c.push(buf, off, len) / c.end() -> VerifyEvent like a BundleVerifier's, an encoded
  // payload decoded into image and checked (precursor, result) as an install does; c.reason,
  // c.rejectChunk on REJECT; c.verifier the streaming verifier.
  createRamInstallCheck: createRamInstallCheck
};
