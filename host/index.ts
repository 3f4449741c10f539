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
import { withLibraryWords } from "./library/wording.js";

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

// JSON documents (schema/fwseal-1.schema.json) and why a bundle was rejected.
export {
  /** "fwseal/1": the `schema` field of every --json document. */
  SCHEMA_ID,
  /** The error object of a failure document, for any FwsealError (the same form as the CLI's). */
  errorObject,
  /** A verdict (VerifyResult) in document form: reason by name and code, chunk null for none, signers as objects. */
  verdictDoc,
  /** A device's INFO in document form: run mode and boot checks by name with their codes. */
  deviceDoc,
  /** The error object type. */
  type ErrorObject
} from "./documents.js";
export {
  /** Why a verify* verdict is a rejection, in words and as data: which key or certificate, expected versus actual. */
  explainVerdict,
  /** A rejected verdict as the FwsealError the CLI reports (BUNDLE_REJECTED, details attached). */
  verdictError,
  /** What explainVerdict returns, and one signer's standing under the policy. */
  type RejectionDiagnosis,
  type SignerStanding
} from "./bundle/rejection-diagnosis.js";

// Keys.
export {
  /** Creates an Ed25519 key pair (PKCS#8 PEM, optionally encrypted: the passphrase from the options, never a prompt or FWSEAL_PASSPHRASE unless asked) and its .pub; throws FwsealError OUTPUT_EXISTS unless `overwrite`. */
  keygen,
  /** Options of keygen: out, encrypt, passphrase (a string or a callback), passphraseFile, useEnvironment, prompt, overwrite. */
  type KeygenOptions
} from "./library/keygen.js";
export {
  /** What keygen wrote: the key ID, the public key and both paths. */
  type KeygenResult,
  /** Where a passphrase comes from: a file, or a terminal prompt. */
  type PassphraseSource
} from "./keys/keys.js";
export {
  /** A signer from a key file (Ed25519, or a stateful HSS/LMS key: each signature persists its leaf first) or a `pkcs11:` URI; the passphrase or PIN from the options (never a prompt or the environment unless asked); close() releases a token session. Throws FwsealError (exit 3 or 4). */
  loadSigner,
  /** loadSigner's options: passphrase (a string or a callback), passphraseFile, pin, certificate, useEnvironment, prompt. */
  type LoadSignerOptions,
  /** A public key from a .pub or .key file or hex: Ed25519 (32 bytes) or HSS/LMS (60 bytes, RFC 8554); a private key's passphrase from the options (never a prompt or FWSEAL_PASSPHRASE unless asked). Throws FwsealError (exit 3 or 4). */
  loadPublicKey,
  /** loadPublicKey's options: passphrase, passphraseFile, useEnvironment, prompt. */
  type LoadPublicKeyOptions
} from "./library/load-signer.js";
export {
  /** The same signer with its delegation certificate attached; throws FwsealError KEY_WRONG_TYPE (exit 4) for a certificate of another key. */
  withCertificate,
  /** A signer as loadSigner returns it. */
  type LoadedSigner,
  /** "file" or "pkcs11": where a LoadedSigner's key lives. */
  type KeySource
} from "./keys/signer-loader.js";
export {
  /** The callback form of a passphrase: called with the key's name, only for an encrypted key. */
  type PassphraseCallback
} from "./keys/passphrase.js";
export {
  /** What signs: a public key, an optional delegation certificate, and sign(message). */
  type Signer
} from "./keys/signer.js";
export {
  /** Generates an HSS/LMS key pair (<out>.key stateful, mode 0600; <out>.pub SPKI PEM): heights per level, Winternitz width; existing files refused unless `overwrite`. */
  keygenHssLms,
  /** Options of keygenHssLms. */
  type HssKeygenOptions
} from "./library/keygen.js";
export {
  /** A signer over an HSS/LMS key file: the leaf counter is advanced and fsynced before each signature leaves the process. */
  HssLmsFileSigner,
  /** Reads an HSS/LMS private key file (no lock; for inspection). */
  readHssPrivateKey,
  /** Parameters and leaf counts (used, total, remaining) of an HSS/LMS key. */
  hssKeyInfo,
  /** One-line warning when an HSS/LMS key runs low on signatures, or null. */
  lowCountWarning,
  /** Results and options of the HSS/LMS functions. */
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
  /** Issues a delegation certificate from a root signer to a release key; throws FwsealError on bad times or an existing output (unless `overwrite`). */
  delegate,
  /** Options of delegate. */
  type DelegateOptions
} from "./library/delegate.js";
export {
  /** What delegate made. */
  type DelegateResult
} from "./keys/delegate.js";

// Bundles: pack, inspect, verify, extract.
export {
  /** Signs an image into a bundle file (written atomically; an existing output refused unless `overwrite`); writes an audit record when `audit` names a log; throws FwsealError (input, key, output, audit problems; ABORTED). */
  pack,
  /** Options of pack. */
  type PackOptions,
  /** Where pack and signDraft record what they signed: an audit log and an operator. */
  type AuditTarget,
  /** Signs a draft with a signer and adds the signature (recorded when `audit` names a log); throws FwsealError if the key may not or already did sign. */
  signDraft,
  /** Writes an unsigned draft of a bundle for offline signers (an existing output refused unless `overwrite`); throws FwsealError on bad input. */
  createDraft,
  /** Options of signDraft. */
  type SignDraftOptions
} from "./library/pack.js";
export {
  /** What pack wrote. */
  type PackResult
} from "./bundle/pack.js";
export {
  /** The envelope and manifest of a bundle file, unverified; throws FwsealError when it is not a bundle. */
  inspect,
  /** What inspect returns. */
  type InspectResult
} from "./bundle/inspect.js";
export {
  /** Verifies a bundle file as a device would; resolves to a VerifyResult (never throws on a rejection; ABORTED on an abort). */
  verifyFile,
  /** Verifies a bundle arriving as a stream of chunks, as it arrives; resolves to a VerifyResult (the stream's own error, e.g. an upload cut off, is thrown as it came). */
  verifyStream,
  /** Verifies a bundle held in memory; resolves to a VerifyResult. */
  verifyBytes,
  /** The vendor or device class of a VerifyPolicy that accepts any (the bundle's own, unchecked). */
  ANY,
  /** What a device trusts and enforces: roots, vendor and class (required: a value or ANY), minimum sequence and epoch, threshold. */
  type VerifyPolicy
} from "./library/verify.js";
export {
  /** A verdict: `valid`, `reason`/`reasonName`, the failing `chunk`, and the manifest. */
  type VerifyResult,
  /** Progress callbacks of the verify functions. */
  type VerifyHooks,
  /** The manifest fields a VerifyResult reports. */
  type ManifestSummary
} from "./bundle/verify.js";
export {
  /** Verifies a bundle (policy vendor/deviceClass required, or ANY) and writes its image only if it is valid (an existing output refused unless `overwrite`); throws FwsealError BUNDLE_REJECTED (reason, chunk, details) on a rejection. */
  extract,
  /** Options of extract. */
  type ExtractOptions,
  /** Builds the bundle from a signed draft, verifies it under the policy (vendor/deviceClass required, or ANY), then writes it (an existing output refused unless `overwrite`); throws FwsealError if it fails. */
  finalizeDraft,
  /** Options of finalizeDraft. */
  type FinalizeOptions,
  /** What extract resolves to: the (valid) verdict and the image written. */
  type ExtractResult
} from "./library/verify.js";
// Compressed and delta payloads (formats/SPEC.md §15): PackOptions.payload, VerifyPolicy.precursor and maxWindowBits.
export {
  /** How pack encodes a payload: "compressed", or "delta" against a precursor; the deflate window. */
  type PayloadEncodingOptions
} from "./bundle/encode-payload.js";
export {
  /** The image a delta applies to, and its chain head. */
  type Precursor,
  /** Reads a delta's precursor from the bundle (raw or compressed) of the release the devices run, or from its image; throws FwsealError. */
  loadPrecursor,
  /** A precursor and where it came from. */
  type LoadedPrecursor
} from "./bundle/precursor.js";
export {
  /** What a verdict says of a compressed or delta payload: wire stream, codec, precursor, whether the result was checked. */
  type EncodedPayloadSummary
} from "./bundle/verify.js";

// Offline and k-of-n signing.
export {
  /** Adds a detached signature to a draft after checking it (an existing `output` refused unless `overwrite`); throws FwsealError if it does not match. */
  addSignature,
  /** Options of addSignature. */
  type AddSignatureOptions
} from "./library/pack.js";
export {
  /** Options and results of the draft functions. */
  type DraftOptions,
  type DraftResult,
  type AddSignatureResult,
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
  return withLibraryWords(() => flash(opts));
}
