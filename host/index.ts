/**
 * fwseal host library: the same functions as the CLI, typed, for update servers and
 * build pipelines. Errors are FwsealError {code, exitCode, message}; verification results
 * are values ({valid, reason, reasonName, chunk, ...}), not exceptions.
 *
 *   keygen({out, encrypt?, passphrase?, force?})            -> {keyId, keyPath, pubPath}
 *   loadPrivateKey(path, {passphrase?|passphraseFile?})     -> KeyObject (Ed25519 only)
 *   loadPublicKey(pathOrHex)                                -> 32 bytes
 *   new LocalSigner(key, certificate?)                      -> Signer
 *   delegate({root: Signer, subject, epoch?, notBefore?, notAfter?, vendor?, classes?, output?})
 *   pack({image, output, signers, vendor, deviceClass, sequence, version, chunkSize?, ...})
 *   verifyFile(path, policy) / verifyStream(readable, policy) / verifyBytes(bytes, policy)
 *       policy = {roots, vendor?, deviceClass?, minSequence?, minEpoch?, threshold?, now?}
 *   inspect(path) / inspectBytes(head, fileSize)
 *   extract({bundle, output, policy})                       -> writes only if valid
 *
 *   loadSigner(spec, {passphrase?|passphraseFile?})         -> key file or pkcs11: URI signer
 *   withCertificate(signer, certBytes)                      -> the signer with its delegation cert
 *   createDraft / signDraft / addSignature / finalizeDraft  offline and k-of-n signing
 *   createRootRetirement / decodeRootStatement / checkRootStatement   root-slot retirement
 *   appendAuditRecord / verifyAuditLog / listAuditLog       the signing audit log
 *   flashDevice({bundle, port, ...})                        update a device over a serial line
 *
 * The CLI itself (yargs) is not re-exported, to keep this entry light: bin/fwseal.js
 * imports dist/host/cli/cli.js.
 */
export type { Signer } from "./keys/signer.js";
export { FwsealError, type FwsealErrorCode } from "./errors.js";
export { ExitCode, exitCodeForReason } from "./exit-codes.js";
export {
  keygen, loadPrivateKey, loadPublicKey, parsePrivateKeyPem, LocalSigner, generateKeyPair, keyPairFromSeed,
  privateKeyToPem, publicKeyToPem, rawPublicKey, keyIdHex,
  type KeygenOptions, type KeygenResult, type KeyPair, type PassphraseSource
} from "./keys/keys.js";
export { formatPublicKey, coseKey, type PubkeyFormat } from "./keys/pubkey-format.js";
export { delegate, parseTime, type DelegateOptions, type DelegateResult } from "./keys/delegate.js";
export { pack, sha256File, type PackOptions, type PackResult } from "./bundle/pack.js";
export { verifyFile, verifyStream, verifyBytes, verifyBlocks, type VerifyPolicy, type VerifyResult, type VerifyHooks, type ManifestSummary } from "./bundle/verify.js";
export { inspect, inspectBytes, type InspectResult } from "./bundle/inspect.js";
export { extract, type ExtractOptions, type ExtractResult } from "./bundle/extract.js";
export { writeFileAtomic, AtomicFile } from "./io/atomic-write.js";
export { createNodePrimitives } from "./bundle/node-primitives.js";
export { Reason, REASON_NAMES, reasonName } from "../formats/device-safe/reasons.js";
export { Limits } from "../formats/device-safe/limits.js";
export { vendorUuid, classUuid, formatUuid } from "../formats/host-only/uuid.js";
export {
  loadSigner, loadPublicKeySpec, closeSigners, withCertificate,
  type LoadedSigner, type LoadSignerOptions, type KeySource
} from "./keys/signer-loader.js";
export {
  createDraft, readDraft, signDraft, addSignature, finalizeDraft, draftToBeSigned, draftSummary, checkPolicyFeasible, DRAFT_MAGIC,
  type Draft, type DraftOptions, type DraftResult, type DraftPolicy, type DraftSignature, type AddSignatureResult,
  type FinalizeOptions, type FinalizeResult
} from "./bundle/drafts.js";
export {
  createRootRetirement, decodeRootStatement, checkRootStatement, encodeRootRetirementPayload, rootStatementToBeSigned,
  type RootRetirementBody, type DecodedRootStatement, type RootStatementOutcome
} from "./keys/root-retirement.js";
export {
  appendAuditRecord, auditIfConfigured, verifyAuditLog, listAuditLog, readAuditLog, formatAuditRecord, recordHash, auditLogPath, AUDIT_LOG_ENV,
  type AuditEntry, type AuditRecord, type AuditOperation, type AuditVerifyResult, type AuditProblem, type AuditListEntry
} from "./audit/audit-log.js";
export {
  flashDevice, deviceInfo, preCheck, DeviceLink,
  type FlashOptions, type FlashResult, type FlashProgress, type DeviceInfo, type LinkStats
} from "./device/flash.js";
export { openSerialPort } from "./device/flash-link.js";
