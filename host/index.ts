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
 * The CLI itself (yargs) is not re-exported, to keep this entry light: bin/fwseal.js
 * imports dist/host/cli.js.
 */
export type { Signer } from "./signer.js";
export { FwsealError, type FwsealErrorCode } from "./errors.js";
export { ExitCode, exitCodeForReason } from "./exit-codes.js";
export {
  keygen, loadPrivateKey, loadPublicKey, parsePrivateKeyPem, LocalSigner, generateKeyPair, keyPairFromSeed,
  privateKeyToPem, publicKeyToPem, rawPublicKey, keyIdHex,
  type KeygenOptions, type KeygenResult, type KeyPair, type PassphraseSource
} from "./keys.js";
export { formatPublicKey, coseKey, type PubkeyFormat } from "./pubkey-format.js";
export { delegate, parseTime, type DelegateOptions, type DelegateResult } from "./delegate.js";
export { pack, sha256File, type PackOptions, type PackResult } from "./pack.js";
export { verifyFile, verifyStream, verifyBytes, verifyBlocks, type VerifyPolicy, type VerifyResult, type VerifyHooks, type ManifestSummary } from "./verify.js";
export { inspect, inspectBytes, type InspectResult } from "./inspect.js";
export { extract, type ExtractOptions, type ExtractResult } from "./extract.js";
export { writeFileAtomic, AtomicFile } from "./atomic-write.js";
export { createNodePrimitives } from "./node-primitives.js";
export { Reason, REASON_NAMES, reasonName } from "../formats/reasons.js";
export { Limits } from "../formats/limits.js";
export { vendorUuid, classUuid, formatUuid } from "../formats/uuid.js";
