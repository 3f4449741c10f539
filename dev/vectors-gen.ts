// Golden vectors for formats/vectors/ (see formats/vectors/README.md): deterministic
// bundles, valid and invalid, each with the verifier policy and the expected verdict.
// Everything is fixed: keys come from committed test seeds, images from a SHA-256 counter
// stream, times are constants, and Ed25519 signatures are deterministic, so regenerating
// gives identical bytes (test/unit/vectors.test.ts checks this).
//
// Run: npm run build && node scripts/gen-vectors.mjs   (writes formats/vectors/)
import { createHash, sign as edSign, type KeyObject } from "node:crypto";
import { Limits, ALG_EDDSA, ALG_HSS_LMS, AlgorithmBit } from "../formats/device-safe/limits.js";
import { chunkCountFor, chunkDataLength, writeChunkPrefix } from "../formats/device-safe/chunk-layout.js";
import { Reason, reasonName } from "../formats/device-safe/reasons.js";
import { ManifestKey, HeaderLabel } from "../formats/device-safe/labels.js";
import { encodeManifest, manifestToCbor, type Manifest } from "../formats/host-only/manifest.js";
import { buildUnsignedEnvelope, attachSignatures, encodeSign1, encodeProtectedHeader, sigStructure1, type EnvelopeOptions } from "../formats/host-only/cose.js";
import { CborRaw, encodeCanonical, type Cbor, type CborMap } from "../formats/host-only/cbor-encode.js";
import { buildCertificate, encodeCertBody, type CertBody } from "../formats/host-only/certificate.js";
import { vendorUuid, classUuid, formatUuid } from "../formats/host-only/uuid.js";
import { keyId } from "../formats/host-only/keyid.js";
import { keyPairFromSeed, privateKeyToPem, publicKeyToPem, LocalSigner } from "../host/keys/keys.js";
import { generateStatementVectors, type StatementVectorEntry } from "./root-statement-vectors.js";
import { SeededHssKey } from "./hss-vector-key.js";
import { loggedEnvelope, vectorLogPolicy } from "./log-vectors.js";
import { addPayloadVectors } from "./payload-vectors.js";

const sha256 = (d: Uint8Array): Uint8Array => new Uint8Array(createHash("sha256").update(d).digest());
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Fixed clock of every vector: 2026-01-01T00:00:00Z. */
export const VECTOR_NOW = 1767225600;
const NOT_BEFORE = 1735689600; // 2025-01-01
const NOT_AFTER = 1798761600; // 2027-01-01
const VENDOR = "acme.example";
const CLASS = "sensor-v3";
const L = (1n << 252n) + 27742317777372353535851937790883648493n;

/** Test-only key names; seed = SHA-256("fwseal test vector key " + name). */
export const VECTOR_KEY_NAMES = ["root1", "root2", "root3", "release", "release-b", "release-c", "rogue"] as const;
type KeyName = (typeof VECTOR_KEY_NAMES)[number];

export function vectorSeed(name: string): Uint8Array {
  return sha256(new TextEncoder().encode(`fwseal test vector key ${name}`));
}

interface VKey {
  name: KeyName;
  seed: Uint8Array;
  key: KeyObject;
  pk: Uint8Array;
}

function loadKeys(): Record<KeyName, VKey> {
  const out = {} as Record<KeyName, VKey>;
  for (const n of VECTOR_KEY_NAMES) {
    const seed = vectorSeed(n);
    const kp = keyPairFromSeed(seed);
    out[n] = { name: n, seed, key: kp.privateKey, pk: kp.publicKey };
  }
  return out;
}

/** Deterministic image bytes: SHA-256(label || be32(counter)) blocks. */
function image(label: string, size: number): Uint8Array {
  const out = new Uint8Array(size);
  const lb = new TextEncoder().encode(label);
  for (let i = 0, o = 0; o < size; i++, o += 32) {
    const c = new Uint8Array(lb.length + 4);
    c.set(lb);
    new DataView(c.buffer).setUint32(lb.length, i);
    const h = sha256(c);
    out.set(h.subarray(0, Math.min(32, size - o)), o);
  }
  return out;
}

/** Chunk i on the wire (data_i || next_i) and the chain head, with an optional last next. */
function chain(img: Uint8Array, cs: number, lastNext: Uint8Array = new Uint8Array(32)): { head: Uint8Array; chunks: Uint8Array[] } {
  const n = chunkCountFor(img.length, cs);
  const chunks: Uint8Array[] = new Array(n);
  let next = lastNext;
  for (let i = n - 1; i >= 0; i--) {
    const data = img.subarray(i * cs, i * cs + chunkDataLength(img.length, cs, n, i));
    const wire = new Uint8Array(data.length + 32);
    wire.set(data);
    wire.set(next, data.length);
    chunks[i] = wire;
    const input = new Uint8Array(Limits.CHUNK_PREFIX_LEN + wire.length);
    writeChunkPrefix(input, 0, i);
    input.set(wire, Limits.CHUNK_PREFIX_LEN);
    next = sha256(input);
  }
  return { head: next, chunks };
}

interface SignSpec {
  key: VKey | SeededHssKey;
  cert?: Uint8Array;
}

const publicKeyOf = (k: VKey | SeededHssKey): Uint8Array => (k instanceof SeededHssKey ? k.publicKey : k.pk);

async function envelope(manifestBytes: Uint8Array, signers: SignSpec[], opts: EnvelopeOptions = {}, fix?: (sigs: Uint8Array[], tbs: Uint8Array[]) => void): Promise<Uint8Array> {
  const u = buildUnsignedEnvelope(manifestBytes, signers.map((s) => ({ publicKey: publicKeyOf(s.key), certificate: s.cert })), { sha256, ...opts });
  const sigs: Uint8Array[] = [];
  for (let i = 0; i < signers.length; i++) {
    const k = signers[i].key;
    sigs.push(k instanceof SeededHssKey ? await k.sign(u.signers[i].toBeSigned) : new Uint8Array(edSign(null, u.signers[i].toBeSigned, k.key)));
  }
  fix?.(sigs, u.signers.map((s) => s.toBeSigned));
  return attachSignatures(u, sigs);
}

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

export interface VectorPolicy {
  roots: string[]; // hex, slot order
  retiredRoots: number; // bitmask
  vendor: string; // UUID
  class: string; // UUID
  minSeq: number;
  minEpoch: number;
  threshold: number;
  // distinct root slots the counted signers must come through (SPEC §8.1); absent: 1
  rootThreshold?: number;
  now: number; // -1 = no trusted time
  // hybrid policy (SPEC §8.1): AlgorithmBits (Ed25519 1, HSS/LMS 2) the counted signers must include; absent: 0
  requiredAlgorithms?: number;
  // the device accepts HSS/LMS signatures (also implied by an HSS/LMS root, 120 hex digits); absent: false
  hss?: boolean;
  // device log policy (SPEC §14): key records in hex (note key ID || public key, 36 bytes each)
  log?: { logKeys: string; logKeyCount: number; witnessKeys: string; witnessKeyCount: number; witnessQuorum: number };
  // compressed and delta payloads (SPEC §15): the largest deflate window the device decodes, in bits; absent: 0, no decoder
  maxWindowBits?: number;
  // a delta's running image (SPEC §15): the image file under formats/vectors/ and the chain head the device records for it
  precursor?: { file: string; chainHead: string };
}

export interface VectorEntry {
  name: string;
  file: string;
  description: string;
  policy: VectorPolicy;
  expected: { valid: boolean; reason: string; reasonCode: number; chunk: number };
}

export interface GeneratedVectors {
  /** Relative path under formats/vectors/ -> bytes. */
  files: Map<string, Uint8Array>;
  index: {
    format: string;
    generator: string;
    now: number;
    keys: Record<string, { seed: string; publicKey: string; keyId: string }>;
    vectors: VectorEntry[];
    /** Root-retirement statements (SPEC §11), checked against a device state. */
    rootStatements: StatementVectorEntry[];
  };
}

export async function generateVectors(): Promise<GeneratedVectors> {
  const K = loadKeys();
  const files = new Map<string, Uint8Array>();
  const vectors: VectorEntry[] = [];
  const vendorId = vendorUuid(VENDOR);
  const classId = classUuid(vendorId, CLASS);
  const otherClass = classUuid(vendorId, "hub");
  const rootSigner = new LocalSigner(K.root1.key);

  const basePolicy: VectorPolicy = {
    roots: [hex(K.root1.pk)], retiredRoots: 0, vendor: formatUuid(vendorId), class: formatUuid(classId),
    minSeq: 0, minEpoch: 0, threshold: 1, now: VECTOR_NOW
  };
  const add = (name: string, description: string, bytes: Uint8Array, reason: number, chunk: number, policy: Partial<VectorPolicy> = {}) => {
    const file = `${name}.fwb`;
    files.set(file, bytes);
    vectors.push({
      name, file, description, policy: { ...basePolicy, ...policy },
      expected: { valid: reason === Reason.OK, reason: reasonName(reason), reasonCode: reason, chunk: reason === Reason.OK ? -1 : chunk }
    });
  };
  const cert = (subject: VKey, body: Partial<CertBody> = {}, issuer: LocalSigner = rootSigner) =>
    buildCertificate(issuer, { publicKey: subject.pk, epoch: 1, notBefore: NOT_BEFORE, notAfter: NOT_AFTER, vendorId, classIds: [classId], ...body }, { sha256 });

  // The standard image: 5000 bytes in 1024-byte chunks (5 chunks, the last one short).
  const CS = 1024;
  const img = image("fwseal vector image", 5000);
  const ch = chain(img, CS);
  const manifest = (over: Partial<Manifest> = {}, head = ch.head, size = img.length, cs = CS): Manifest => ({
    vendorId, classId, sequence: 7, version: "1.2.3", imageSize: size, chunkSize: cs, chunkCount: chunkCountFor(size, cs), chainHead: head,
    provenance: { sourceRevision: "0123456789abcdef0123456789abcdef01234567", builder: "vector-generator", buildTime: VECTOR_NOW - 86400 },
    releaseNotes: "Golden vector.", ...over
  });
  const mBytes = encodeManifest(manifest());
  // Offset of "04 07" (key 4, sequence 7) in mBytes: map head, 01 01, 02 50 <16>, 03 50 <16>.
  const SEQ_OFFSET = 1 + 2 + 18 + 18;
  const relCert = await cert(K.release);
  const bundleOf = (env: Uint8Array, chunks = ch.chunks) => concat([env, ...chunks]);

  // ---- valid
  const envRoot = await envelope(mBytes, [{ key: K.root1 }]);
  add("valid-sign1-root", "COSE_Sign1 signed directly by the root key", bundleOf(envRoot), Reason.OK, -1);
  const envRel = await envelope(mBytes, [{ key: K.release, cert: relCert }]);
  const validDelegated = bundleOf(envRel);
  add("valid-sign1-delegated", "COSE_Sign1 by a release key with a root-signed delegation certificate (epoch 1, window 2025..2027, vendor/class restricted)", validDelegated, Reason.OK, -1);
  const certB = await cert(K["release-b"]);
  const certC = await cert(K["release-c"]);
  const env3 = await envelope(mBytes, [{ key: K.release, cert: relCert }, { key: K["release-b"], cert: certB }, { key: K["release-c"], cert: certC }]);
  add("valid-sign-2of3", "COSE_Sign with three delegated release keys; policy threshold 2", bundleOf(env3), Reason.OK, -1, { threshold: 2 });
  add("valid-sign-3of3", "the same bundle under threshold 3", bundleOf(env3), Reason.OK, -1, { threshold: 3 });
  const envEdDSA = await envelope(mBytes, [{ key: K.root1 }], { alg: ALG_EDDSA });
  add("valid-alg-eddsa", "alg -8 (EdDSA) instead of -19: accepted as the same algorithm", bundleOf(envEdDSA), Reason.OK, -1);
  const imgExact = image("fwseal vector exact", 1024);
  const chExact = chain(imgExact, 256);
  const mExact = encodeManifest(manifest({}, chExact.head, 1024, 256));
  add("valid-exact-chunks", "image an exact multiple of the chunk size (4 x 256)", concat([await envelope(mExact, [{ key: K.root1 }]), ...chExact.chunks]), Reason.OK, -1);
  add("valid-no-trusted-time", "expired certificate, but the device has no trusted time (now = -1)", bundleOf(await envelope(mBytes, [{ key: K.release, cert: await cert(K.release, { notAfter: NOT_BEFORE + 10 }) }])), Reason.OK, -1, { now: -1 });
  add("valid-second-root-slot", "signed by root2, device holds root1 and root2", bundleOf(await envelope(mBytes, [{ key: K.root2 }])), Reason.OK, -1, { roots: [hex(K.root1.pk), hex(K.root2.pk)] });

  // ---- chunk chain (payload integrity)
  const ENV = envRel.length;
  const off = (i: number) => ENV + i * (CS + 32);
  const flip = (b: Uint8Array, pos: number) => {
    const c = Uint8Array.from(b);
    c[pos] ^= 0x01;
    return c;
  };
  add("chunk-data-bitflip", "one bit flipped in the data of chunk 2", flip(validDelegated, off(2) + 100), Reason.CHUNK_HASH_MISMATCH, 2);
  add("chunk-next-bitflip", "one bit flipped in next-hash of chunk 1", flip(validDelegated, off(1) + CS + 5), Reason.CHUNK_HASH_MISMATCH, 1);
  add("chunk-last-bitflip", "one bit flipped in the last (short) chunk", flip(validDelegated, off(4) + 3), Reason.CHUNK_HASH_MISMATCH, 4);
  add("chunks-swapped", "chunks 1 and 2 swapped", bundleOf(envRel, [ch.chunks[0], ch.chunks[2], ch.chunks[1], ch.chunks[3], ch.chunks[4]]), Reason.CHUNK_HASH_MISMATCH, 1);
  add("chunk-dropped", "chunk 2 missing", bundleOf(envRel, [ch.chunks[0], ch.chunks[1], ch.chunks[3], ch.chunks[4]]), Reason.CHUNK_HASH_MISMATCH, 2);
  add("chunk-duplicated", "chunk 1 sent twice", bundleOf(envRel, [ch.chunks[0], ch.chunks[1], ch.chunks[1], ch.chunks[2], ch.chunks[3], ch.chunks[4]]), Reason.CHUNK_HASH_MISMATCH, 2);
  const other = chain(image("fwseal other image", 5000), CS);
  add("chunk-spliced", "chunk 3 taken from another bundle of the same geometry", bundleOf(envRel, [ch.chunks[0], ch.chunks[1], ch.chunks[2], other.chunks[3], ch.chunks[4]]), Reason.CHUNK_HASH_MISMATCH, 3);
  add("truncated-mid-chunk", "stream ends in the middle of chunk 3", validDelegated.subarray(0, off(3) + 500), Reason.TRUNCATED, 3);
  add("truncated-at-boundary", "stream ends exactly after chunk 1", validDelegated.subarray(0, off(2)), Reason.TRUNCATED, 2);
  add("truncated-last-next", "stream ends inside the last chunk's next-hash", validDelegated.subarray(0, validDelegated.length - 1), Reason.TRUNCATED, 4);
  add("truncated-envelope-only", "envelope, no chunks", validDelegated.subarray(0, ENV), Reason.TRUNCATED, 0);
  add("trailing-byte", "one byte after the last chunk", concat([validDelegated, new Uint8Array([0])]), Reason.TRAILING_DATA, 5);
  const chBadLast = chain(img, CS, sha256(new Uint8Array([1])));
  add("last-next-nonzero", "last chunk's next-hash is not zero (chain and signature otherwise consistent)",
    concat([await envelope(encodeManifest(manifest({}, chBadLast.head)), [{ key: K.root1 }]), ...chBadLast.chunks]), Reason.CHUNK_HASH_MISMATCH, 4);

  // ---- signatures and keys (trust)
  add("bad-signature", "one bit flipped in the signature", bundleOf(await envelope(mBytes, [{ key: K.root1 }], {}, (s) => (s[0][10] ^= 1))), Reason.BAD_SIGNATURE, -1);
  {
    // Manifest changed after signing: sequence 7 -> 8 in the payload, signature unchanged.
    const tampered = Uint8Array.from(envRoot);
    const seqAt = Buffer.from(tampered).indexOf(Buffer.from(mBytes)) + SEQ_OFFSET;
    if (tampered[seqAt] !== 0x04 || tampered[seqAt + 1] !== 0x07) throw new Error("vector generator: manifest layout changed");
    tampered[seqAt + 1] = 0x08;
    add("manifest-tampered", "sequence changed in the signed manifest (signature unchanged)", bundleOf(tampered), Reason.BAD_SIGNATURE, -1);
  }
  add("signature-s-not-reduced", "signature with S + L in place of S (valid equation, S >= L)",
    bundleOf(await envelope(mBytes, [{ key: K.root1 }], {}, (s) => {
      let S = 0n;
      for (let i = 31; i >= 0; i--) S = (S << 8n) | BigInt(s[0][32 + i]);
      S += L;
      for (let i = 0; i < 32; i++) s[0][32 + i] = Number((S >> BigInt(8 * i)) & 0xffn);
    })), Reason.BAD_SIGNATURE, -1);
  {
    // Non-canonical R: R_bytes = p + 1 (a non-canonical encoding of y = 1, the identity),
    // S = k*a mod L so that [S]B - [k]A is the identity. A verifier that decodes R and
    // compares points would accept; encode(R') = 01 00..00 != R_bytes, so SPEC §6.1 rejects.
    const a = scalarOf(K.root1.seed);
    const rBytes = new Uint8Array(32).fill(0xff);
    rBytes[0] = 0xee;
    rBytes[31] = 0x7f;
    const env = await envelope(mBytes, [{ key: K.root1 }], {}, (s, tbs) => {
      const k = modL(sha512Int(concat([rBytes, K.root1.pk, tbs[0]])));
      const S = (k * a) % L;
      s[0].set(rBytes, 0);
      for (let i = 0; i < 32; i++) s[0][32 + i] = Number((S >> BigInt(8 * i)) & 0xffn);
    });
    add("signature-r-noncanonical", "R is a non-canonical encoding of a point that satisfies the equation", bundleOf(env), Reason.BAD_SIGNATURE, -1);
  }
  {
    // Small-order root key: A = identity (01 00..00). With S = 1, R = encode(B), any message
    // satisfies [S]B - [k]A = B. Rule 3 ([8]A != identity) rejects.
    const idKey = new Uint8Array(32);
    idKey[0] = 1;
    const B = Buffer.from("5866666666666666666666666666666666666666666666666666666666666666", "hex");
    const prot = encodeProtectedHeader({ kid: keyId(idKey, sha256) });
    const sig = new Uint8Array(64);
    sig.set(B, 0);
    sig[32] = 1;
    const env = encodeSign1(prot, new Map(), mBytes, sig);
    add("small-order-key", "root key is the identity point (small order); signature R = B, S = 1 satisfies the equation for any message", bundleOf(env), Reason.BAD_SIGNATURE, -1, { roots: [hex(idKey)] });
    const nonCanon = new Uint8Array(32).fill(0xff);
    nonCanon[0] = 0xee;
    nonCanon[31] = 0x7f;
    const prot2 = encodeProtectedHeader({ kid: keyId(nonCanon, sha256) });
    add("noncanonical-key", "root key encoded with y = p + 1 (non-canonical)", bundleOf(encodeSign1(prot2, new Map(), mBytes, sig)), Reason.BAD_SIGNATURE, -1, { roots: [hex(nonCanon)] });
  }
  add("unknown-key", "signed by a key that is neither a root nor certified", bundleOf(await envelope(mBytes, [{ key: K.rogue }])), Reason.UNKNOWN_KEY, -1);
  add("wrong-root", "valid bundle, device holds a different root", validDelegated, Reason.BAD_CERTIFICATE, -1, { roots: [hex(K.root2.pk)] });
  add("cert-not-from-root", "certificate signed by a non-root key", bundleOf(await envelope(mBytes, [{ key: K.release, cert: await cert(K.release, {}, new LocalSigner(K.rogue.key)) }])), Reason.BAD_CERTIFICATE, -1);
  add("cert-subject-mismatch", "release-b signs, carrying release's certificate", bundleOf(await envelope(mBytes, [{ key: K["release-b"], cert: relCert }])), Reason.BAD_CERTIFICATE, -1);
  add("cert-expired", "certificate not-after before now", bundleOf(await envelope(mBytes, [{ key: K.release, cert: await cert(K.release, { notAfter: NOT_BEFORE + 10 }) }])), Reason.EXPIRED_KEY, -1);
  add("cert-not-yet-valid", "certificate not-before after now", bundleOf(await envelope(mBytes, [{ key: K.release, cert: await cert(K.release, { notBefore: NOT_AFTER - 10, notAfter: NOT_AFTER }) }])), Reason.EXPIRED_KEY, -1);
  add("cert-revoked-epoch", "certificate epoch 1, device minimum key epoch 2", validDelegated, Reason.REVOKED_KEY, -1, { minEpoch: 2 });
  add("cert-wrong-class", "certificate limited to sensor-v3, bundle and device are class hub",
    bundleOf(await envelope(encodeManifest(manifest({ classId: otherClass })), [{ key: K.release, cert: relCert }])), Reason.KEY_NOT_AUTHORIZED, -1, { class: formatUuid(otherClass) });
  add("retired-root", "root-signed, but the device marked slot 0 retired", bundleOf(envRoot), Reason.REVOKED_ROOT, -1, { retiredRoots: 1 });
  add("threshold-sign1", "one signer, policy threshold 2", bundleOf(envRoot), Reason.THRESHOLD_NOT_MET, -1, { threshold: 2 });
  add("threshold-duplicate-key", "COSE_Sign with the same key twice, threshold 2 (a key counts once)",
    bundleOf(await envelope(mBytes, [{ key: K.release, cert: relCert }, { key: K.release, cert: relCert }])), Reason.THRESHOLD_NOT_MET, -1, { threshold: 2 });
  add("threshold-bad-second", "COSE_Sign 2 signers, the second signature broken, threshold 2",
    bundleOf(await envelope(mBytes, [{ key: K.release, cert: relCert }, { key: K["release-b"], cert: certB }], {}, (s) => (s[1][5] ^= 1))), Reason.BAD_SIGNATURE, -1, { threshold: 2 });

  // ---- policy
  add("wrong-vendor", "device vendor differs (root-signed)", bundleOf(envRoot), Reason.WRONG_VENDOR, -1, { vendor: formatUuid(vendorUuid("other.example")) });
  add("wrong-class", "device class differs (root-signed, so no certificate scope applies)", bundleOf(envRoot), Reason.WRONG_CLASS, -1, { class: formatUuid(otherClass) });
  add("wrong-vendor-delegated", "device vendor differs; the certificate's vendor scope fails first (SPEC §8 step 4 before 5)", validDelegated, Reason.KEY_NOT_AUTHORIZED, -1, { vendor: formatUuid(vendorUuid("other.example")) });
  add("rollback", "sequence 7 below the device minimum 8", validDelegated, Reason.ROLLBACK, -1, { minSeq: 8 });
  add("same-sequence", "sequence 7 equal to the device minimum: accepted (re-install)", validDelegated, Reason.OK, -1, { minSeq: 7 });

  // ---- malformed / unsupported
  add("garbage", "256 pseudo-random bytes", image("garbage", 256), Reason.MALFORMED, -1);
  add("empty", "zero bytes", new Uint8Array(0), Reason.TRUNCATED, -1);
  add("untagged-envelope", "COSE_Sign1 array without tag 18", bundleOf(envRoot.subarray(1)), Reason.MALFORMED, -1);
  add("unsupported-alg", "alg -7 (ES256)", bundleOf(await envelope(mBytes, [{ key: K.root1 }], { alg: -7 })), Reason.UNSUPPORTED_ALGORITHM, -1);
  add("unsupported-header-crit", "protected header crit lists label 99", bundleOf(await envelope(mBytes, [{ key: K.root1 }], { crit: [99] })), Reason.UNSUPPORTED_CRITICAL, -1);
  add("unsupported-manifest-crit", "manifest crit lists unknown key 17 (present)",
    bundleOf(await envelope(encodeManifest(manifest({ crit: [17], extra: new Map<number, Cbor>([[17, 1]]) })), [{ key: K.root1 }])), Reason.UNSUPPORTED_CRITICAL, -1);
  add("unknown-manifest-key", "unknown manifest key 40 not in crit: ignored", bundleOf(await envelope(encodeManifest(manifest({ extra: new Map<number, Cbor>([[40, "future"]]) })), [{ key: K.root1 }])), Reason.OK, -1);
  add("unsupported-version", "manifest format version 2", bundleOf(await envelope(encodeManifest(manifest({ formatVersion: 2 })), [{ key: K.root1 }])), Reason.UNSUPPORTED_VERSION, -1);
  const encodingWithoutParams = bundleOf(await envelope(encodeManifest(manifest({ payloadEncoding: 1 })), [{ key: K.root1 }]));
  add("unsupported-encoding", "payload encoding 1 (compressed)", encodingWithoutParams, Reason.UNSUPPORTED_ENCODING, -1);
  add("chunk-count-inconsistent", "chunk-count 6 for 5000 bytes in 1024-byte chunks",
    bundleOf(await envelope(encodeManifest(manifest({ chunkCount: 6 }), false), [{ key: K.root1 }])), Reason.MALFORMED, -1);
  add("chunk-size-too-large", "chunk-size 131072 (above MAX_CHUNK_SIZE)",
    bundleOf(await envelope(encodeManifest(manifest({ chunkSize: 131072, chunkCount: 1 }), false), [{ key: K.root1 }])), Reason.TOO_LARGE, -1);
  {
    // Non-canonical CBOR inside the signed manifest: sequence 7 as 0x18 0x07 (not shortest).
    const m = Buffer.from(mBytes);
    const at = SEQ_OFFSET;
    if (m[at] !== 0x04 || m[at + 1] !== 0x07) throw new Error("vector generator: manifest layout changed");
    const nonShortest = Buffer.concat([m.subarray(0, at + 1), Buffer.from([0x18, 0x07]), m.subarray(at + 2)]);
    add("noncanonical-int", "manifest sequence encoded as 0x18 0x07 (non-shortest), correctly signed", bundleOf(await envelope(new Uint8Array(nonShortest), [{ key: K.root1 }])), Reason.NON_CANONICAL, -1);
    // Duplicate key: version (5) twice. The map head count grows by one.
    const verAt = at + 2; // key 5, tstr(5) "1.2.3" follows the sequence
    if (m.subarray(verAt, verAt + 7).toString("latin1") !== "\x05\x651.2.3") throw new Error("vector generator: manifest layout changed");
    const dupEntry = m.subarray(verAt, verAt + 7);
    const dup = Buffer.concat([Buffer.from([m[0] + 1]), m.subarray(1, verAt + 7), dupEntry, m.subarray(verAt + 7)]);
    add("duplicate-map-key", "manifest key 5 twice, correctly signed", bundleOf(await envelope(new Uint8Array(dup), [{ key: K.root1 }])), Reason.NON_CANONICAL, -1);
  }
  {
    // Envelope larger than MAX_ENVELOPE (unknown manifest key with a 9000-byte value).
    const big = encodeManifest(manifest({ extra: new Map<number, Cbor>([[40, new Uint8Array(9000)]]) }));
    const prot = encodeProtectedHeader({ kid: keyId(K.root1.pk, sha256) });
    const env = encodeSign1(prot, new Map() as CborMap, big, new Uint8Array(64));
    add("envelope-too-large", "envelope of more than 8192 bytes", bundleOf(env), Reason.TOO_LARGE, -1);
  }
  {
    // Distinct roots (SPEC §8.1): three release keys certified by one root meet a key
    // threshold of 3 but not a root threshold of 2; with one of them certified by the
    // second root they meet both.
    const twoRoots = { roots: [hex(K.root1.pk), hex(K.root2.pk)], threshold: 3, rootThreshold: 2 };
    add("root-threshold-one-root", "three release keys all certified by root1; device holds root1 and root2, threshold 3, root threshold 2",
      bundleOf(env3), Reason.THRESHOLD_NOT_MET, -1, twoRoots);
    const certC2 = await cert(K["release-c"], {}, new LocalSigner(K.root2.key));
    add("root-threshold-two-roots", "release and release-b certified by root1, release-c by root2; threshold 3, root threshold 2",
      bundleOf(await envelope(mBytes, [{ key: K.release, cert: relCert }, { key: K["release-b"], cert: certB }, { key: K["release-c"], cert: certC2 }])), Reason.OK, -1, twoRoots);
    // Bounded signature work (SPEC §9): the first signature that fails ends the signer step,
    // even if the signers after it would meet the threshold.
    add("bad-signature-first", "COSE_Sign 3 delegated signers, the first signature broken, threshold 2",
      bundleOf(await envelope(mBytes, [{ key: K.release, cert: relCert }, { key: K["release-b"], cert: certB }, { key: K["release-c"], cert: certC }], {}, (s) => (s[0][5] ^= 1))), Reason.BAD_SIGNATURE, -1, { threshold: 2 });
  }

  // ---- conformance and key-safety rules (SPEC §4 step 3 order, §5 (a))
  {
    // A certificate whose own protected header lists the certificate label in crit: that
    // label belongs to the signer's header, never to a certificate's (SPEC §5 (a)).
    const body = encodeCertBody({ publicKey: K.release.pk, epoch: 1, notBefore: NOT_BEFORE, notAfter: NOT_AFTER, vendorId, classIds: [classId] });
    const prot = encodeProtectedHeader({ kid: keyId(K.root1.pk, sha256), crit: [HeaderLabel.FWSEAL_CERT] });
    const certSig = await rootSigner.sign(sigStructure1(prot, body));
    const critCert = encodeSign1(prot, new Map() as CborMap, body, certSig);
    add("cert-header-crit-cert-label", "certificate protected header crit lists -65537 (only 1, 2, 4 are allowed there)",
      bundleOf(await envelope(mBytes, [{ key: K.release, cert: critCert }])), Reason.BAD_CERTIFICATE, -1);
  }
  {
    // Two faults in the manifest: version of 65 bytes (key 5, TOO_LARGE) and no chain head
    // (key 9, MALFORMED). Checked in key order, the version is reported.
    const m = manifestToCbor(manifest({ version: "v".repeat(Limits.MAX_VERSION_LEN + 1) }));
    m.delete(ManifestKey.CHAIN_HEAD);
    add("manifest-order-version-before-missing-key", "version of 65 bytes and key 9 missing: key order gives TOO_LARGE",
      bundleOf(await envelope(encodeCanonical(m), [{ key: K.root1 }])), Reason.TOO_LARGE, -1);
  }
  {
    // Key-epoch floor (SPEC §8.3): a release may not revoke its own signer, nor raise the
    // device minimum by more than MAX_EPOCH_STEP.
    const floorOf = (floor: number) => encodeManifest(manifest({ keyEpochFloor: floor }));
    add("epoch-floor-above-signer", "delegated signer's certificate has epoch 1, manifest key-epoch-floor 2",
      bundleOf(await envelope(floorOf(2), [{ key: K.release, cert: relCert }])), Reason.KEY_NOT_AUTHORIZED, -1);
    add("valid-epoch-floor-at-signer", "delegated signer's certificate has epoch 1, manifest key-epoch-floor 1",
      bundleOf(await envelope(floorOf(1), [{ key: K.release, cert: relCert }])), Reason.OK, -1);
    const certB3 = await cert(K["release-b"], { epoch: 3 });
    add("epoch-floor-above-second-signer", "2 of 2 signers with epochs 1 and 3, key-epoch-floor 3: above the lower one",
      bundleOf(await envelope(floorOf(3), [{ key: K.release, cert: relCert }, { key: K["release-b"], cert: certB3 }])), Reason.KEY_NOT_AUTHORIZED, -1, { threshold: 2 });
    add("valid-epoch-floor-full-step", "root-signed, key-epoch-floor 1024 = device minimum 0 + MAX_EPOCH_STEP",
      bundleOf(await envelope(floorOf(Limits.MAX_EPOCH_STEP), [{ key: K.root1 }])), Reason.OK, -1);
    add("epoch-floor-step-too-far", "root-signed, key-epoch-floor 1025 with device minimum 0 (more than MAX_EPOCH_STEP)",
      bundleOf(await envelope(floorOf(Limits.MAX_EPOCH_STEP + 1), [{ key: K.root1 }])), Reason.TOO_LARGE, -1);
    add("epoch-floor-max", "root-signed, key-epoch-floor 2^53 - 1", bundleOf(await envelope(floorOf(Number.MAX_SAFE_INTEGER), [{ key: K.root1 }])), Reason.TOO_LARGE, -1);
  }
  void CborRaw;

  // ---- HSS/LMS (SPEC §3, §5, §6, §8.1): keys "hss-root" and "hss-release", L = 1, H5, W4
  {
    const hssRoot = new SeededHssKey("hss-root");
    const hssRel = new SeededHssKey("hss-release");
    const hybridRoots = { roots: [hex(K.root1.pk), hex(hssRoot.publicKey)] };
    const hybrid = { ...hybridRoots, threshold: 2, rootThreshold: 2, requiredAlgorithms: AlgorithmBit.ED25519 | AlgorithmBit.HSS_LMS };
    add("valid-hss-root", "COSE_Sign1 signed by an HSS/LMS root key (alg -46; LMS_SHA256_M32_H5, LMOTS_SHA256_N32_W4)",
      bundleOf(await envelope(mBytes, [{ key: hssRoot }])), Reason.OK, -1, { roots: [hex(hssRoot.publicKey)] });
    const envHybrid = await envelope(mBytes, [{ key: K.root1 }, { key: hssRoot }]);
    add("valid-hybrid", "COSE_Sign by an Ed25519 root and an HSS/LMS root; threshold 2, root threshold 2, both algorithms required",
      bundleOf(envHybrid), Reason.OK, -1, hybrid);
    add("hybrid-missing-pq", "signed by the Ed25519 root only; the device requires an Ed25519 and an HSS/LMS signature (threshold 1)",
      bundleOf(envRoot), Reason.ALGORITHM_POLICY_NOT_MET, -1, { ...hybridRoots, requiredAlgorithms: AlgorithmBit.ED25519 | AlgorithmBit.HSS_LMS });
    add("hybrid-bad-pq-signature", "hybrid bundle with one bit of the HSS/LMS signature flipped",
      bundleOf(await envelope(mBytes, [{ key: K.root1 }, { key: hssRoot }], {}, (s) => (s[1][100] ^= 1))), Reason.BAD_SIGNATURE, -1, hybrid);
    const edCertByHss = await buildCertificate(hssRoot, { publicKey: K.release.pk, epoch: 1, notBefore: NOT_BEFORE, notAfter: NOT_AFTER, vendorId, classIds: [classId] }, { sha256 });
    add("valid-hss-root-certifies-ed25519", "Ed25519 release key delegated by an HSS/LMS root (certificate signed with alg -46)",
      bundleOf(await envelope(mBytes, [{ key: K.release, cert: edCertByHss }])), Reason.OK, -1, { roots: [hex(hssRoot.publicKey)] });
    const hssCert = await cert(K.release, { publicKey: hssRel.publicKey });
    const envHssDelegated = await envelope(mBytes, [{ key: hssRel, cert: hssCert }]);
    add("valid-ed25519-root-certifies-hss", "HSS/LMS release key (60-byte subject) delegated by the Ed25519 root",
      bundleOf(envHssDelegated), Reason.OK, -1, { hss: true });
    add("hss-not-accepted", "HSS/LMS release key delegated by the Ed25519 root, on a device that accepts only Ed25519",
      bundleOf(envHssDelegated), Reason.UNSUPPORTED_ALGORITHM, -1);
    // alg -46 under the kid of an Ed25519 root (an HSS/LMS signature made by another key).
    const hssSig = await hssRoot.sign(sigStructure1(encodeProtectedHeader({ alg: ALG_HSS_LMS, kid: keyId(K.root1.pk, sha256) }), mBytes));
    const mismatch = encodeSign1(encodeProtectedHeader({ alg: ALG_HSS_LMS, kid: keyId(K.root1.pk, sha256) }), new Map() as CborMap, mBytes, hssSig);
    add("alg-key-mismatch", "alg -46 (HSS-LMS) in the header of a signer whose kid names an Ed25519 root key",
      bundleOf(mismatch), Reason.ALG_KEY_MISMATCH, -1, { hss: true });
    const oversize = encodeSign1(encodeProtectedHeader({ alg: ALG_HSS_LMS, kid: keyId(hssRoot.publicKey, sha256) }), new Map() as CborMap, mBytes,
      new Uint8Array(Limits.MAX_HSS_SIGNATURE + 1));
    add("hss-signature-too-large", "alg -46 with a signature of MAX_HSS_SIGNATURE + 1 bytes (8193)",
      bundleOf(oversize), Reason.TOO_LARGE, -1, { roots: [hex(hssRoot.publicKey)] });
    files.set("keys/hss-root.pub.hex", new TextEncoder().encode(hex(hssRoot.publicKey) + "\n"));
  }

  // Keys: PEM files (test-only!) and seeds.
  const keys: GeneratedVectors["index"]["keys"] = {};
  for (const n of VECTOR_KEY_NAMES) {
    files.set(`keys/${n}.key`, new TextEncoder().encode(privateKeyToPem(K[n].key)));
    files.set(`keys/${n}.pub`, new TextEncoder().encode(publicKeyToPem(K[n].pk)));
    keys[n] = { seed: hex(K[n].seed), publicKey: hex(K[n].pk), keyId: hex(keyId(K[n].pk, sha256)) };
  }
  // ---- transparency log (SPEC §14): a log policy with two witnesses and a quorum of 2
  const logPolicy = { log: vectorLogPolicy(2) };
  add("log-proof-valid", "root-signed, logged: checkpoint signed by the log, cosigned by both witnesses, inclusion path of 3 hashes", bundleOf(await loggedEnvelope(envRoot, VECTOR_NOW, 2)), Reason.OK, -1, logPolicy);
  add("log-proof-missing", "the valid root-signed bundle without a log proof, under a log policy", bundleOf(envRoot), Reason.NOT_LOGGED, -1, logPolicy);
  add("log-proof-bad-path", "logged, but one bit of the inclusion path flipped", bundleOf(await loggedEnvelope(envRoot, VECTOR_NOW, 2, (p) => p.map((h, i) => (i === 1 ? Uint8Array.from(h, (b, j) => (j === 0 ? b ^ 1 : b)) : h)))), Reason.BAD_LOG_PROOF, -1, logPolicy);
  add("log-proof-one-witness", "logged and cosigned by one witness; the policy's quorum is 2", bundleOf(await loggedEnvelope(envRoot, VECTOR_NOW, 1)), Reason.WITNESS_QUORUM_NOT_MET, -1, logPolicy);

  // ---- compressed and delta payloads (SPEC §15): a device that decodes windows up to 2^12
  await addPayloadVectors({
    add, file: (rel, bytes) => files.set(rel, bytes), image: img, imageHead: ch.head, imageOf: image, headOf: (b) => chain(b, CS).head, chunkSize: CS,
    options: { vendorId, classId, sequence: 7, version: "1.2.3", provenance: manifest().provenance, releaseNotes: "Golden vector.", sha256 },
    signer: rootSigner, encodingWithoutParams
  });

  const rootStatements = await generateStatementVectors([K.root1, K.root2, K.root3], vendorId, formatUuid(vendorId), formatUuid(classId), files);
  files.set("images/vector-image.bin", img);
  files.set("certs/release.cert", relCert);
  const index = {
    format: "fwseal bundle format v1 golden vectors (formats/SPEC.md)",
    generator: "scripts/gen-vectors.mjs",
    now: VECTOR_NOW,
    keys,
    vectors,
    rootStatements
  };
  files.set("index.json", new TextEncoder().encode(JSON.stringify(index, null, 2) + "\n"));
  return { files, index };
}

// --- scalar helpers for the non-canonical-R vector (BigInt is fine here: host code) ---
function leInt(b: Uint8Array): bigint {
  let x = 0n;
  for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]);
  return x;
}
function sha512Int(d: Uint8Array): bigint {
  return leInt(new Uint8Array(createHash("sha512").update(d).digest()));
}
function modL(x: bigint): bigint {
  return x % L;
}
/** RFC 8032 §5.1.5 secret scalar a from a seed. */
function scalarOf(seed: Uint8Array): bigint {
  const h = new Uint8Array(createHash("sha512").update(seed).digest()).subarray(0, 32);
  h[0] &= 248;
  h[31] &= 127;
  h[31] |= 64;
  return leInt(h) % L;
}
