/**
 * fwseal host library: the operations of the CLI, typed, for update servers and build
 * pipelines (README "Library API"). Failures throw FwsealError {code, exitCode, message};
 * verification results are values ({valid, reason, reasonName, chunk, ...}), not exceptions.
 *
 * This entry is the supported API and nothing more: codecs and constants are in
 * "fwseal/formats", the device core in "fwseal/device-core". Importing it loads neither the
 * serial-port driver nor the PKCS#11 binding: flashDevice loads the first on its first call,
 * loadSigner the second only for a `pkcs11:` URI. The CLI (yargs) is not re-exported either:
 * bin/fwseal.js imports dist/host/cli/cli.js.
 */
import type { FlashOptions, FlashResult } from "./device/flash.js";

// Errors, exit codes and rejection reasons.
export {
  /** The one error type: `code` (stable string), `exitCode` (the CLI's), optional `reason`/`chunk` for rejections. */
  FwsealError,
  /** The stable string codes of FwsealError. */
  type FwsealErrorCode
} from "./errors.js";
export {
  /** The CLI's exit codes by class of failure (0 OK, 2 usage, 3 input, 4 key, 5 output, 10-13 rejections, 14 device). */
  ExitCode,
  /** One of the ExitCode values. */
  type ExitCodeValue,
  /** The exit code for a rejection Reason (e.g. ROLLBACK -> 12). */
  exitCodeForReason
} from "./exit-codes.js";
export {
  /** Rejection reason codes, the same on host and device (stable wire values). */
  Reason,
  /** Reason names indexed by code. */
  REASON_NAMES,
  /** The name of a Reason code ("ROLLBACK"), or "UNKNOWN_REASON". */
  reasonName
} from "../formats/device-safe/reasons.js";

// Keys.
export {
  /** Creates an Ed25519 key pair (PKCS#8 PEM, optionally encrypted) and its .pub; throws FwsealError OUTPUT_EXISTS unless `force`. */
  keygen,
  /** A public key from a .pub or .key file or hex: Ed25519 (32 bytes) or HSS/LMS (60 bytes, RFC 8554); throws FwsealError (exit 3 or 4). */
  loadPublicKey,
  /** Options and result of keygen. */
  type KeygenOptions,
  type KeygenResult,
  /** Where a passphrase comes from: a file, or a terminal prompt. */
  type PassphraseSource
} from "./keys/keys.js";
export {
  /** A signer from a key file (Ed25519, or a stateful HSS/LMS key: each signature persists its leaf first) or a `pkcs11:` URI; close() releases a token session. Throws FwsealError (exit 3 or 4). */
  loadSigner,
  /** The same signer with its delegation certificate attached; throws FwsealError KEY_WRONG_TYPE (exit 4) for a certificate of another key. */
  withCertificate,
  /** A signer as loadSigner returns it, and loadSigner's options. */
  type LoadedSigner,
  type LoadSignerOptions,
  /** "file" or "pkcs11": where a LoadedSigner's key lives. */
  type KeySource
} from "./keys/signer-loader.js";
export {
  /** What signs: a public key, an optional delegation certificate, and sign(message). */
  type Signer
} from "./keys/signer.js";
export {
  /** Generates an HSS/LMS key pair (<out>.key stateful, mode 0600; <out>.pub SPKI PEM): heights per level, Winternitz width. */
  keygenHssLms,
  /** A signer over an HSS/LMS key file: the leaf counter is advanced and fsynced before each signature leaves the process. */
  HssLmsFileSigner,
  /** Reads an HSS/LMS private key file (no lock; for inspection). */
  readHssPrivateKey,
  /** Parameters and leaf counts (used, total, remaining) of an HSS/LMS key. */
  hssKeyInfo,
  /** One-line warning when an HSS/LMS key runs low on signatures, or null. */
  lowCountWarning,
  /** Options and results of the HSS/LMS functions. */
  type HssKeygenOptions,
  type HssKeygenResult,
  type HssKeyInfo,
  type HssSignerOptions
} from "./keys/hss-lms.js";
export {
  /** Signature algorithms as mask bits (ED25519 1, HSS_LMS 2): VerifyPolicy.requiredAlgorithms for hybrid policies. */
  AlgorithmBit
} from "../formats/device-safe/limits.js";
export {
  /** A public key as PEM, hex, a C or TypeScript array, or a COSE_Key; throws FwsealError USAGE on a bad `name`. */
  formatPublicKey,
  /** The formats formatPublicKey writes. */
  type PubkeyFormat
} from "./keys/pubkey-format.js";
export {
  /** Issues a delegation certificate from a root signer to a release key; throws FwsealError on bad times or an existing output. */
  delegate,
  /** Options and result of delegate. */
  type DelegateOptions,
  type DelegateResult
} from "./keys/delegate.js";

// Bundles: pack, inspect, verify, extract.
export {
  /** Signs an image into a bundle file (written atomically); throws FwsealError (input, key, output problems). */
  pack,
  /** Options and result of pack. */
  type PackOptions,
  type PackResult
} from "./bundle/pack.js";
export {
  /** The envelope and manifest of a bundle file, unverified; throws FwsealError when it is not a bundle. */
  inspect,
  /** What inspect returns. */
  type InspectResult
} from "./bundle/inspect.js";
export {
  /** Verifies a bundle file as a device would; resolves to a VerifyResult (never throws on a rejection). */
  verifyFile,
  /** Verifies a bundle arriving as a stream of chunks; resolves to a VerifyResult. */
  verifyStream,
  /** Verifies a bundle held in memory; resolves to a VerifyResult. */
  verifyBytes,
  /** What a device trusts and enforces: roots, vendor, class, minimum sequence and epoch, threshold. */
  type VerifyPolicy,
  /** A verdict: `valid`, `reason`/`reasonName`, the failing `chunk`, and the manifest. */
  type VerifyResult,
  /** Progress callbacks of the verify functions. */
  type VerifyHooks,
  /** The manifest fields a VerifyResult reports. */
  type ManifestSummary
} from "./bundle/verify.js";
export {
  /** Verifies a bundle and writes its image only if it is valid; throws FwsealError on a rejection. */
  extract,
  /** Options and result of extract. */
  type ExtractOptions,
  type ExtractResult
} from "./bundle/extract.js";

// Offline and k-of-n signing.
export {
  /** Writes an unsigned draft of a bundle for offline signers; throws FwsealError on bad input or an existing output. */
  createDraft,
  /** Signs a draft with a signer and adds the signature; throws FwsealError if the key may not or already did sign. */
  signDraft,
  /** Adds a detached signature to a draft after checking it; throws FwsealError if it does not match. */
  addSignature,
  /** Builds the bundle from a signed draft, verifies it as a device would, then writes it; throws FwsealError if it fails. */
  finalizeDraft,
  /** Options and results of the draft functions. */
  type DraftOptions,
  type DraftResult,
  type AddSignatureResult,
  type FinalizeOptions,
  type FinalizeResult
} from "./bundle/drafts.js";

// Root-slot retirement.
export {
  /** Signs a statement that retires a root slot with one or more root keys (formats/SPEC.md §11); resolves to its bytes. */
  createRootRetirement,
  /** Adds one more root's signature to a statement (custodians signing at different sites). */
  cosignRootRetirement,
  /** Checks a statement against a device's trust state with the device core's code; returns the outcome (never throws). */
  checkRootStatement,
  /** What a retirement statement says. */
  type RootRetirementBody,
  /** What checkRootStatement returns: a Reason and, on OK, what the device persists. */
  type RootStatementOutcome
} from "./keys/root-retirement.js";
export {
  /** A device's root slots and retired mask, as checkRootStatement takes them. */
  type RootTrustState
} from "../device-sim/core/verify/root-statement.js";

// The signing audit log.
export {
  /** Appends a hash-chained record to an audit log (created if absent); throws FwsealError on a broken log. */
  appendAuditRecord,
  /** Checks an audit log's hash chain; resolves to {ok, problems, ...} (never throws on a broken log). */
  verifyAuditLog,
  /** The records of an audit log, each with its line number; throws FwsealError if the log is unreadable or a line is damaged. */
  listAuditLog,
  /** What a caller records, what the log stores, and what verify and list report. */
  type AuditEntry,
  type AuditRecord,
  type AuditOperation,
  type AuditVerifyResult,
  type AuditProblem,
  type AuditListEntry
} from "./audit/audit-log.js";

// Devices.
export type {
  /** Options of flashDevice. */
  FlashOptions,
  /** What flashDevice reports: the outcome, the device's info (and after a reboot), transfer statistics. */
  FlashResult,
  /** A progress report passed to FlashOptions.onProgress. */
  FlashProgress,
  /** What a device says about itself: identity, slots, anti-rollback floor, trust state. */
  DeviceInfo
} from "./device/flash.js";

/**
 * Updates a device over a serial line (install, reboot, confirm, retire a root slot).
 * Throws FwsealError: exit 10-13 when the device or the host pre-check rejects, 14 on link failures.
 */
export async function flashDevice(opts: FlashOptions): Promise<FlashResult> {
  // Loaded here, not at import: the serial-port driver is a native binding that
  // verification-only users should never load.
  const { flashDevice: flash } = await import("./device/flash.js");
  return flash(opts);
}
