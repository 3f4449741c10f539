/**
 * fwseal formats: the bundle format's codecs (host side) and shared constants.
 * Normative text: formats/SPEC.md. Device-side verifier: device-sim/core/verify/bundle-verifier.ts.
 *
 * API (all byte values are Uint8Array; every builder is deterministic):
 *
 * Constants   Reason, REASON_NAMES, reasonName (reasons.ts); Limits, CHUNK_DOMAIN, ALG_ED25519,
 *             ALG_EDDSA (limits.ts); CoseTag, HeaderLabel, ManifestKey, CertKey, ProvenanceKey,
 *             PayloadEncoding (labels.ts).
 * CBOR        encodeCanonical(value: Cbor): Uint8Array    RFC 8949 §4.2.1; Cbor = number | bigint |
 *             string | boolean | null | Uint8Array | Cbor[] | Map<number|string, Cbor> |
 *             CborTag(tag, value) | CborRaw(bytes = one pre-encoded item). encodeHead, concatBytes.
 *             decodeCanonical(bytes, {allowTags?}): Cbor   strict host decoder (throws
 *             CborDecodeError{reason}); it runs the device's CborReader (cbor-decode.ts).
 *             CborReader / CborItemScanner / CborMapWalk (canonical key order, MapKeys): the
 *             constrained, allocation-free device reader;
 *             cborItemLength(buf, avail, maxLen): > 0 complete item length, 0 need more,
 *             < 0 minus a Reason (host convenience over CborItemScanner).
 * UUIDs       vendorUuid(nameOrUuid), classUuid(vendor: bytes|string, nameOrUuid): 16 bytes
 *             (UUIDv5 per SPEC §4; a literal UUID string is taken as is), uuidV5, parseUuid,
 *             formatUuid, isUuidString, NAMESPACE_DNS.
 * Keys        keyId(pk, sha256?) -> 8 bytes; keyIdHex; toHex/fromHex;
 *             type Sha256Fn = (data) => Uint8Array (defaultSha256 = @noble/hashes).
 * Manifest    interface Manifest; encodeManifest(m, check = true); checkManifest (throws);
 *             manifestToCbor.
 * COSE        encodeProtectedHeader({alg?, kid, crit?}); sigStructure1(prot, payload, aad?);
 *             sigStructureSign(bodyProt, signProt, payload, aad?); encodeSign1; encodeSign.
 *             Two-phase signing (offline / HSM):
 *               const u = buildUnsignedEnvelope(manifestBytes, [{publicKey, certificate?}], opts)
 *               // u.signers[i].toBeSigned = the exact Sig_structure bytes key i signs
 *               const envelope = attachSignatures(u, [sig0, sig1, ...])
 *             signEnvelope(manifestBytes, signers: EnvelopeSigner[], opts) does both.
 *             EnvelopeOptions = {forceSign? (COSE_Sign with 1 signer), alg?, crit?, sha256?}.
 *             Sign1 for one signer, COSE_Sign for several. EnvelopeSigner is structurally
 *             host/keys/signer.ts Signer {publicKey, certificate?, sign(msg): Promise<sig>}.
 * Certificates interface CertBody {publicKey, epoch, notBefore?, notAfter?, vendorId?, classIds?};
 *             buildCertificate(rootSigner, body): Promise<cert bytes>;
 *             buildUnsignedCertificate(rootPk, body) -> {protected, payload, toBeSigned} +
 *             attachCertificateSignature(u, sig) for offline roots; parseCertificate(bytes).
 * Chunks      writeChunkPrefix(buf, off, i), checkChunkSize, checkChunkCount, checkChunkGeometry,
 *             chunkCountFor, chunkDataLength (chunk-layout.ts, shared with the device);
 *             chunkGeometry(imageSize, chunkSize); chunkDataLen(g, i);
 *             chunkHash(i, data, next, sha256?); chunkHashInput; computeChain(read, g, sha256?)
 *             -> all H_i (32 bytes each, back to front, one chunk in memory).
 * Bundles     interface ImageSource {size, read(offset, dst, dstOff, len): void | Promise<void>}
 *             imageSourceFromBytes(image)
 *             BundleOptions {vendorId, classId, sequence, version, chunkSize? (4096),
 *               payloadEncoding?, provenance?, sbomDigest?, releaseNotes?, keyEpochFloor?,
 *               crit?, extraManifest?, envelope?: EnvelopeOptions, sha256?: Sha256Fn}
 *             packBundle(src, opts, signers, write: (bytes) => void|Promise<void>)
 *               -> {manifest, manifestBytes, envelope, bundleSize}   streaming
 *             buildBundle(image, opts, signers): Promise<Uint8Array>  whole bundle in memory
 *             Offline: p = await prepareBundle(src, opts); u = prepareEnvelope(p, infos, envOpts);
 *               env = attachSignatures(u, sigs); await writeBundle(src, p, env, write).
 *
 * Device side (constrained TS, not re-exported here): device-sim/core/verify/bundle-verifier.ts
 * createBundleVerifier(cfg) (streaming, SPEC §8 order; `chunkData` is ONE fixed view into the
 * chunk buffer: only chunkData[0 .. chunkLen) is the chunk) and device-sim/core/verify/boot-verifier.ts
 * createBootVerifier(cfg, shared?) (pass the install verifier to share its buffers).
 */
export * from "./device-safe/reasons.js";
export * from "./device-safe/limits.js";
export * from "./device-safe/labels.js";
export * from "./device-safe/chunk-layout.js";
export * from "./host-only/cbor-encode.js";
export * from "./device-safe/cbor-reader.js";
export * from "./host-only/cbor-decode.js";
export * from "./host-only/uuid.js";
export * from "./host-only/keyid.js";
export * from "./host-only/manifest.js";
export * from "./host-only/cose.js";
export * from "./host-only/certificate.js";
export * from "./host-only/chunk-chain.js";
export * from "./host-only/bundle-builder.js";
