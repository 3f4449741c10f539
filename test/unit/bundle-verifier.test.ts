// FORMAT: the streaming verifier (device-sim/core/verify/bundle-verifier.ts) and the boot verifier,
// against real bundles from the host builder: round trips, every rejection reason,
// fragmentation, resume, and random mutations. Real crypto (the core's pure primitives).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { CborTag, encodeCanonical, encodeHead, concatBytes, type Cbor, type CborMap } from "../../formats/host-only/cbor-encode.js";
import { manifestToCbor } from "../../formats/host-only/manifest.js";
import { attachSignatures, buildUnsignedEnvelope, encodeProtectedHeader, encodeSign1, encodeSign, sigStructure1, sigStructureSign, type EnvelopeOptions } from "../../formats/host-only/cose.js";
import { attachCertificateSignature, buildUnsignedCertificate, type CertBody } from "../../formats/host-only/certificate.js";
import { imageSourceFromBytes, prepareBundle, writeBundle, buildBundle, type PreparedBundle } from "../../formats/host-only/bundle-builder.js";
import { keyId } from "../../formats/host-only/keyid.js";
import { chunkHash } from "../../formats/host-only/chunk-chain.js";
import { ManifestKey, HeaderLabel } from "../../formats/device-safe/labels.js";
import { Limits, ALG_EDDSA } from "../../formats/device-safe/limits.js";
import { Reason, reasonName } from "../../formats/device-safe/reasons.js";
import { createBundleVerifier, VerifyEvent } from "../../device-sim/core/verify/bundle-verifier.js";
import { createBootVerifier } from "../../device-sim/core/verify/boot-verifier.js";
import {
  CLASS, OTHER_CLASS, OTHER_VENDOR, VENDOR, cert, config, opts, primitives, release, release2, root0, root1, root2, run, stranger,
} from "../helpers/verifier-fixtures.js";
import { patternImage } from "../helpers/images.js";
import { withCert, type TestKey } from "../helpers/keys.js";

const { CHUNK, ENVELOPE, DONE, REJECT } = VerifyEvent;
const IMG = patternImage(1000); // chunks of 256: 256, 256, 256, 232
const N = 4;
let prepared: PreparedBundle | undefined;

async function prep(): Promise<PreparedBundle> {
  if (!prepared) prepared = await prepareBundle(imageSourceFromBytes(IMG), opts());
  return prepared;
}

async function withChunks(envelope: Uint8Array, p?: PreparedBundle, img = IMG): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  await writeBundle(imageSourceFromBytes(img), p ?? (await prep()), envelope, (b) => {
    parts.push(b);
  });
  return concatBytes(...parts);
}

async function signManifest(mb: Uint8Array, signers: TestKey[], eo: EnvelopeOptions = {}): Promise<Uint8Array> {
  const u = buildUnsignedEnvelope(mb, signers, eo);
  const sigs: Uint8Array[] = [];
  for (let i = 0; i < signers.length; i++) sigs.push(await signers[i].sign(u.signers[i].toBeSigned));
  return attachSignatures(u, sigs);
}

/** Bundle whose manifest map is edited, then (re-)signed. */
async function variant(edit: (m: CborMap) => void, signers: TestKey[] = [root0], eo: EnvelopeOptions = {}): Promise<Uint8Array> {
  const p = await prep();
  const m = manifestToCbor(p.manifest);
  edit(m);
  return withChunks(await signManifest(encodeCanonical(m), signers, eo));
}

/** Bundle with raw manifest bytes, signed by root0 (Sign1). */
async function rawManifestBundle(mb: Uint8Array): Promise<Uint8Array> {
  return withChunks(await signManifest(mb, [root0]));
}

/** Raw map with entries in the given order (may be unsorted / duplicated). */
function rawMap(entries: [Cbor, Cbor][]): Uint8Array {
  return concatBytes(encodeHead(5, entries.length), ...entries.flatMap(([k, v]) => [encodeCanonical(k), encodeCanonical(v)]));
}

async function manifestEntries(): Promise<[Cbor, Cbor][]> {
  return [...manifestToCbor((await prep()).manifest)].map(([k, v]) => [k as Cbor, v]);
}

/** A Sign1 envelope from raw parts; the signature is computed over the given protected bytes. */
async function rawSign1(prot: Uint8Array, unprotRaw: Uint8Array, payload: Uint8Array, signer: TestKey = root0): Promise<Uint8Array> {
  const sig = await signer.sign(sigStructure1(prot, payload));
  return concatBytes(new Uint8Array([0xd2, 0x84]), encodeCanonical(prot), unprotRaw, encodeCanonical(payload), encodeCanonical(sig));
}

function expectReject(b: Uint8Array, reason: string, cfg = config(), chunk?: number): void {
  const r = run(b, cfg);
  expect(r.reason).toBe(reason);
  expect(r.events[r.events.length - 1]).toBe(REJECT);
  if (chunk !== undefined) expect(r.rejectChunk).toBe(chunk);
}

function expectOk(b: Uint8Array, cfg = config()): void {
  const r = run(b, cfg);
  expect(r.reason).toBe("OK");
  expect(r.events).toEqual([ENVELOPE, ...Array(N).fill(CHUNK), DONE]);
  expect(r.data).toEqual(IMG);
}

describe("round trips", () => {
  it("COSE_Sign1, root-signed; manifest fields exposed after ENVELOPE", async () => {
    const b = await buildBundle(IMG, opts({ releaseNotes: "ünïcödé notes", keyEpochFloor: 7, version: "2.0.0-ß" }), [root0]);
    expectOk(b);
    const v = createBundleVerifier(config());
    expect(v.push(b, 0, b.length)).toBe(ENVELOPE);
    expect(v.sequence).toBe(5);
    expect(v.version).toBe("2.0.0-ß");
    expect(v.imageSize).toBe(1000);
    expect(v.chunkSize).toBe(256);
    expect(v.chunkCount).toBe(4);
    expect(v.keyEpochFloor).toBe(7);
    expect(v.payloadEncoding).toBe(0);
    expect(v.vendorId).toEqual(VENDOR);
    expect(v.classId).toEqual(CLASS);
    expect(v.envelope.subarray(0, v.envelopeLen)).toEqual(b.subarray(0, v.consumed));
    expect(v.expected).toEqual(v.chainHead);
    expect(v.nextChunk).toBe(0);
    expect(v.rejectChunk).toBe(-1);
  });

  it("COSE_Sign with 3 root signers, k = 3", async () => {
    const b = await buildBundle(IMG, opts(), [root0, root1, root2]);
    expect(b[0]).toBe(0xd8);
    expectOk(b, config({ threshold: 3 }));
  });

  it("COSE_Sign with one signer (forced)", async () => {
    expectOk(await buildBundle(IMG, opts({ envelope: { forceSign: true } }), [root0]));
  });

  it("delegated release key (certificate), alone and mixed with a root key", async () => {
    const rel = withCert(release, await cert(root1, release, { vendorId: VENDOR, classIds: [OTHER_CLASS, CLASS], notBefore: 1, notAfter: 2_000_000_000 }));
    expectOk(await buildBundle(IMG, opts(), [rel]));
    expectOk(await buildBundle(IMG, opts(), [rel, root0]), config({ threshold: 2 }));
  });

  it("image sizes: 1 byte, exact multiple, one byte over", async () => {
    for (const n of [1, 512, 513]) {
      const img = patternImage(n, 3);
      const r = run(await buildBundle(img, opts(), [root0]));
      expect(r.reason).toBe("OK");
      expect(r.data).toEqual(img);
      expect(r.chunks.length).toBe(Math.ceil(n / 256));
    }
  });

  it("alg -8 (EdDSA) is accepted like -19; header crit listing understood labels is fine", async () => {
    expectOk(await variant(() => {}, [root0], { alg: ALG_EDDSA }));
    expectOk(await variant(() => {}, [root0], { crit: [HeaderLabel.ALG, HeaderLabel.KID, HeaderLabel.FWSEAL_CERT] }));
  });

  it("unknown header labels (protected and unprotected, int and text) are ignored", async () => {
    const p = await prep();
    const prot = encodeCanonical(new Map<number | string, Cbor>([[1, -19], [4, keyId(root0.publicKey)], [3, 0], [-70000, [1, 2]], ["x", "y"]]));
    const unprot = encodeCanonical(new Map<number | string, Cbor>([[5, new Uint8Array(3)], ["note", new Map<number, Cbor>([[1, 2]])]]));
    expectOk(await withChunks(await rawSign1(prot, unprot, p.manifestBytes)));
  });

  it("unknown manifest keys not listed in crit are ignored; known keys in crit are fine", async () => {
    expectOk(await variant((m) => {
      m.set(99, new Map<number, Cbor>([[1, [1, 2, "x"]]]));
      m.set(-5, "negative key");
      m.set(ManifestKey.CRIT, [ManifestKey.SEQUENCE]);
    }));
  });
});

describe("envelope rejections (SPEC §8 steps 1-2)", () => {
  it("not a COSE envelope / wrong tag / wrong arity", async () => {
    const p = await prep();
    expectReject(new Uint8Array([0xa0, 1, 2]), "MALFORMED", config(), -1);
    expectReject(await withChunks(encodeCanonical(new CborTag(97, [new Uint8Array(0), new Map(), p.manifestBytes, []]))), "MALFORMED");
    expectReject(await withChunks(encodeCanonical(new CborTag(18, [new Uint8Array(0), new Map(), p.manifestBytes]))), "MALFORMED");
    expectReject(await withChunks(encodeCanonical(new CborTag(18, [1, new Map(), p.manifestBytes, new Uint8Array(64)]))), "MALFORMED");
  });

  it("envelope larger than MAX_ENVELOPE, and an oversized length", async () => {
    const p = await prep();
    const big = encodeSign1(encodeProtectedHeader({ kid: keyId(root0.publicKey) }), new Map([[77, new Uint8Array(Limits.MAX_ENVELOPE)]]), p.manifestBytes, new Uint8Array(64));
    expectReject(await withChunks(big), "TOO_LARGE");
    // payload bstr claiming 2^32 bytes
    const prot = encodeProtectedHeader({ kid: keyId(root0.publicKey) });
    const huge = concatBytes(new Uint8Array([0xd2, 0x84]), encodeCanonical(prot), new Uint8Array([0xa0, 0x5a, 0xff, 0xff, 0xff, 0xff]));
    expectReject(concatBytes(huge, new Uint8Array(100)), "TOO_LARGE");
    const huge8 = concatBytes(new Uint8Array([0xd2, 0x84]), encodeCanonical(prot), new Uint8Array([0xa0, 0x5b, 1, 0, 0, 0, 0, 0, 0, 0]));
    expectReject(huge8, "TOO_LARGE");
  });

  it("non-canonical envelope CBOR: long-form head, indefinite array, unsorted header keys", async () => {
    const p = await prep();
    const prot = encodeProtectedHeader({ kid: keyId(root0.publicKey) });
    const sig = await root0.sign(sigStructure1(prot, p.manifestBytes));
    // protected bstr with a 2-byte length head for a short string
    const longHead = concatBytes(new Uint8Array([0xd2, 0x84, 0x58, prot.length]), prot, new Uint8Array([0xa0]), encodeCanonical(p.manifestBytes), encodeCanonical(sig));
    expectReject(await withChunks(longHead), "NON_CANONICAL");
    const indef = concatBytes(new Uint8Array([0xd2, 0x9f]), encodeCanonical(prot), new Uint8Array([0xa0]), encodeCanonical(p.manifestBytes), encodeCanonical(sig), new Uint8Array([0xff]));
    expectReject(await withChunks(indef), "NON_CANONICAL");
    // protected header {4: kid, 1: alg}: unsorted
    const unsorted = rawMap([[4, keyId(root0.publicKey)], [1, -19]]);
    expectReject(await withChunks(await rawSign1(unsorted, new Uint8Array([0xa0]), p.manifestBytes)), "NON_CANONICAL");
    // duplicate key in the unprotected header
    expectReject(await withChunks(await rawSign1(prot, rawMap([[5, 1], [5, 1]]), p.manifestBytes)), "NON_CANONICAL");
    // float in the unprotected header
    expectReject(await withChunks(await rawSign1(prot, concatBytes(new Uint8Array([0xa1, 0x05, 0xf9, 0x3c, 0x00])), p.manifestBytes)), "MALFORMED");
    // tag in an unknown unprotected header value
    expectReject(await withChunks(await rawSign1(prot, concatBytes(new Uint8Array([0xa1, 0x05, 0xc1, 0x01])), p.manifestBytes)), "MALFORMED");
  });

  it("nesting deeper than MAX_DEPTH", async () => {
    let deep: Cbor = 1;
    for (let i = 0; i < Limits.MAX_DEPTH; i++) deep = [deep];
    expectReject(await variant((m) => m.set(99, deep)), "TOO_LARGE"); // 8 arrays inside the manifest map
    const p = await prep();
    const prot = encodeProtectedHeader({ kid: keyId(root0.publicKey) });
    let d2: Cbor = 1;
    for (let i = 0; i < Limits.MAX_DEPTH - 2; i++) d2 = [d2]; // envelope array + map + 6 = 8: ok
    expectOk(await withChunks(await rawSign1(prot, encodeCanonical(new Map([[5, d2]])), p.manifestBytes)));
    expectReject(await withChunks(await rawSign1(prot, encodeCanonical(new Map([[5, [d2]]])), p.manifestBytes)), "TOO_LARGE");
  });

  it("bad protected headers: missing/short kid, missing alg, unsupported alg, crit", async () => {
    const p = await prep();
    const kid = keyId(root0.publicKey);
    const un = new Uint8Array([0xa0]);
    expectReject(await withChunks(await rawSign1(encodeCanonical(new Map([[1, -19]])), un, p.manifestBytes)), "MALFORMED");
    expectReject(await withChunks(await rawSign1(encodeCanonical(new Map<number, Cbor>([[1, -19], [4, kid.subarray(0, 7)]])), un, p.manifestBytes)), "MALFORMED");
    expectReject(await withChunks(await rawSign1(encodeCanonical(new Map([[4, kid]])), un, p.manifestBytes)), "MALFORMED");
    expectReject(await variant(() => {}, [root0], { alg: -7 }), "UNSUPPORTED_ALGORITHM");
    expectReject(await withChunks(await rawSign1(encodeCanonical(new Map<number, Cbor>([[1, "EdDSA"], [4, kid]])), un, p.manifestBytes)), "UNSUPPORTED_ALGORITHM");
    expectReject(await variant(() => {}, [root0], { crit: [99] }), "UNSUPPORTED_CRITICAL");
    expectReject(await variant(() => {}, [root0, root1], { crit: [3] }), "UNSUPPORTED_CRITICAL");
    // alg is checked (step 2) before the manifest (step 3)
    expectReject(await variant((m) => m.set(ManifestKey.FORMAT_VERSION, 2), [root0], { alg: -7 }), "UNSUPPORTED_ALGORITHM");
  });

  it("COSE_Sign structure: non-empty body protected, no signers, too many signers", async () => {
    const p = await prep();
    const kid = keyId(root0.publicKey);
    const prot = encodeProtectedHeader({ kid });
    const sigOf = async () => root0.sign(sigStructureSign(new Uint8Array(0), prot, p.manifestBytes));
    const s = { protected: prot, unprotected: new Map(), signature: await sigOf() };
    expectReject(await withChunks(encodeSign(encodeCanonical(new Map([[3, 0]])), new Map(), p.manifestBytes, [s])), "MALFORMED");
    expectReject(await withChunks(encodeSign(new Uint8Array(0), new Map(), p.manifestBytes, [])), "MALFORMED");
    expectReject(await withChunks(encodeSign(new Uint8Array(0), new Map(), p.manifestBytes, Array(9).fill(s))), "TOO_LARGE");
    expectOk(await withChunks(encodeSign(new Uint8Array(0), new Map(), p.manifestBytes, Array(8).fill(s))));
  });
});

describe("manifest rejections (SPEC §8 step 3)", () => {
  it("unsupported version / encoding / crit", async () => {
    expectReject(await variant((m) => m.set(ManifestKey.FORMAT_VERSION, 2)), "UNSUPPORTED_VERSION");
    expectReject(await variant((m) => m.set(ManifestKey.FORMAT_VERSION, 2n ** 60n)), "UNSUPPORTED_VERSION");
    expectReject(await variant((m) => m.set(ManifestKey.PAYLOAD_ENCODING, 1)), "UNSUPPORTED_ENCODING");
    expectReject(await variant((m) => m.set(ManifestKey.PAYLOAD_ENCODING, 3)), "UNSUPPORTED_ENCODING");
    expectReject(await variant((m) => { m.set(99, 1); m.set(ManifestKey.CRIT, [99]); }), "UNSUPPORTED_CRITICAL");
    expectReject(await variant((m) => m.set(ManifestKey.CRIT, [17])), "UNSUPPORTED_CRITICAL");
    // version before everything else in the manifest; crit before encoding
    expectReject(await variant((m) => { m.set(ManifestKey.FORMAT_VERSION, 2); m.delete(ManifestKey.CHAIN_HEAD); }), "UNSUPPORTED_VERSION");
    expectReject(await variant((m) => { m.set(ManifestKey.CRIT, [20]); m.set(ManifestKey.PAYLOAD_ENCODING, 1); }), "UNSUPPORTED_CRITICAL");
  });

  it("each mandatory key missing is MALFORMED", async () => {
    for (let k = 1; k <= 10; k++) expectReject(await variant((m) => m.delete(k)), "MALFORMED");
  });

  it("wrong types and sizes", async () => {
    const cases: [number, Cbor, string][] = [
      [ManifestKey.VENDOR_ID, new Uint8Array(15), "MALFORMED"],
      [ManifestKey.CLASS_ID, "not bytes", "MALFORMED"],
      [ManifestKey.SEQUENCE, -1, "MALFORMED"],
      [ManifestKey.SEQUENCE, 2n ** 53n, "TOO_LARGE"],
      [ManifestKey.VERSION, "", "MALFORMED"],
      [ManifestKey.VERSION, "v".repeat(65), "TOO_LARGE"],
      [ManifestKey.VERSION, new Uint8Array(3), "MALFORMED"],
      [ManifestKey.IMAGE_SIZE, 0, "MALFORMED"],
      [ManifestKey.CHAIN_HEAD, new Uint8Array(31), "MALFORMED"],
      [ManifestKey.PAYLOAD_ENCODING, "raw", "MALFORMED"],
      [ManifestKey.ENCODING_PARAMS, [1], "MALFORMED"],
      [ManifestKey.ENCODING_PARAMS, new Map([["text", 1]]), "MALFORMED"],
      [ManifestKey.PROVENANCE, new Map([[1, "r".repeat(257)]]), "TOO_LARGE"],
      [ManifestKey.PROVENANCE, new Map([[3, "yesterday"]]), "MALFORMED"],
      [ManifestKey.SBOM_DIGEST, new Uint8Array(31), "MALFORMED"],
      [ManifestKey.RELEASE_NOTES, "n".repeat(2049), "TOO_LARGE"],
      [ManifestKey.KEY_EPOCH_FLOOR, -3, "MALFORMED"],
      [ManifestKey.CRIT, [], "MALFORMED"],
      [ManifestKey.CRIT, ["x"], "MALFORMED"],
    ];
    for (const [k, v, want] of cases) {
      const r = run(await variant((m) => m.set(k, v)));
      expect(`${k}:${r.reason}`).toBe(`${k}:${want}`);
    }
  });

  it("geometry: chunk size range and power of two, chunk count, device chunk buffer", async () => {
    expectReject(await variant((m) => m.set(ManifestKey.CHUNK_SIZE, 300)), "MALFORMED");
    expectReject(await variant((m) => m.set(ManifestKey.CHUNK_SIZE, 128)), "MALFORMED");
    expectReject(await variant((m) => m.set(ManifestKey.CHUNK_SIZE, 131072)), "TOO_LARGE");
    expectReject(await variant((m) => { m.set(ManifestKey.CHUNK_SIZE, 8192); m.set(ManifestKey.CHUNK_COUNT, 1); }), "TOO_LARGE"); // > cfg.maxChunkSize 4096
    expectReject(await variant((m) => m.set(ManifestKey.CHUNK_COUNT, 5)), "MALFORMED");
    expectReject(await variant((m) => m.set(ManifestKey.CHUNK_COUNT, 3)), "MALFORMED");
    expectReject(await variant((m) => { m.set(ManifestKey.IMAGE_SIZE, 2 ** 40); m.set(ManifestKey.CHUNK_COUNT, 2 ** 32); }), "TOO_LARGE");
  });

  it("non-canonical / malformed manifest bytes", async () => {
    const es = await manifestEntries();
    expectReject(await rawManifestBundle(rawMap([es[1], es[0], ...es.slice(2)])), "NON_CANONICAL"); // unsorted
    expectReject(await rawManifestBundle(rawMap([...es.slice(0, 4), es[3], ...es.slice(4)])), "NON_CANONICAL"); // duplicate key 4
    // sequence (5) written as a 4-byte integer
    const seqIdx = es.findIndex(([k]) => k === ManifestKey.SEQUENCE);
    const longSeq = concatBytes(
      encodeHead(5, es.length),
      ...es.flatMap(([k, v], i) => (i === seqIdx ? [encodeCanonical(k), new Uint8Array([0x1a, 0, 0, 0, 5])] : [encodeCanonical(k), encodeCanonical(v)]))
    );
    expectReject(await rawManifestBundle(longSeq), "NON_CANONICAL");
    // indefinite-length map
    const indef = concatBytes(new Uint8Array([0xbf]), rawMap(es).subarray(1), new Uint8Array([0xff]));
    expectReject(await rawManifestBundle(indef), "NON_CANONICAL");
    // trailing byte after the map inside the payload bstr
    expectReject(await rawManifestBundle(concatBytes(rawMap(es), new Uint8Array([0]))), "MALFORMED");
    // text key
    expectReject(await rawManifestBundle(rawMap([...es, ["x", 1]])), "MALFORMED");
    // not a map
    expectReject(await rawManifestBundle(encodeCanonical([1, 2])), "MALFORMED");
  });
});

describe("signed but lying manifests are caught by the chain", () => {
  it("wrong chain head, shorter image size, fewer chunks", async () => {
    let r = run(await variant((m) => m.set(ManifestKey.CHAIN_HEAD, new Uint8Array(32).fill(9))));
    expect([r.reason, r.rejectChunk, r.events[0]]).toEqual(["CHUNK_HASH_MISMATCH", 0, ENVELOPE]);
    r = run(await variant((m) => m.set(ManifestKey.IMAGE_SIZE, 999)));
    expect([r.reason, r.rejectChunk]).toEqual(["CHUNK_HASH_MISMATCH", 3]);
    r = run(await variant((m) => { m.set(ManifestKey.IMAGE_SIZE, 768); m.set(ManifestKey.CHUNK_COUNT, 3); }));
    expect([r.reason, r.rejectChunk]).toEqual(["CHUNK_HASH_MISMATCH", 2]); // chunk 2's next hash is not zero
    r = run(await variant((m) => m.set(ManifestKey.SEQUENCE, 6)));
    expect(r.reason).toBe("OK"); // re-signed by a root: any sequence is legitimate
  });
});

describe("signers and trust (SPEC §5, §6, §8 step 4)", () => {
  it("unknown key, bad signature, payload changed after signing", async () => {
    expectReject(await buildBundle(IMG, opts(), [stranger]), "UNKNOWN_KEY");
    const b = await buildBundle(IMG, opts(), [root0]);
    const v = createBundleVerifier(config());
    v.push(b, 0, b.length);
    const envLen = v.consumed;
    const sigFlip = b.slice();
    sigFlip[envLen - 1] ^= 0x01;
    expectReject(sigFlip, "BAD_SIGNATURE");
    // change a character of the version string inside the signed payload
    const at = Buffer.from(b.subarray(0, envLen)).indexOf(Buffer.from("1.2.3"));
    expect(at).toBeGreaterThan(0);
    const payFlip = b.slice();
    payFlip[at] = "9".charCodeAt(0);
    expectReject(payFlip, "BAD_SIGNATURE");
    // signature by a root key, kid naming another root
    const p = await prep();
    const prot = encodeProtectedHeader({ kid: keyId(root1.publicKey) });
    const sig = await root0.sign(sigStructure1(prot, p.manifestBytes));
    expectReject(await withChunks(encodeSign1(prot, new Map(), p.manifestBytes, sig)), "BAD_SIGNATURE");
    // S >= L (non-canonical S) is rejected
    const sHigh = b.slice();
    for (let i = envLen - 32; i < envLen; i++) sHigh[i] = 0xff;
    expectReject(sHigh, "BAD_SIGNATURE");
  });

  it("retired root slot", async () => {
    expectReject(await buildBundle(IMG, opts(), [root1]), "REVOKED_ROOT", config({ rootRetired: 0b010 }));
    expectOk(await buildBundle(IMG, opts(), [root0]), config({ rootRetired: 0b010 }));
  });

  it("threshold: not met, duplicates counted once, first failing reason", async () => {
    expectReject(await buildBundle(IMG, opts(), [root0]), "THRESHOLD_NOT_MET", config({ threshold: 2 }));
    expectReject(await buildBundle(IMG, opts(), [root0, root0]), "THRESHOLD_NOT_MET", config({ threshold: 2 }));
    const rel = withCert(release, await cert(root0, release));
    const rel2 = withCert(release, await cert(root2, release)); // same key, another certificate
    expectReject(await buildBundle(IMG, opts(), [rel, rel2]), "THRESHOLD_NOT_MET", config({ threshold: 2 }));
    expectReject(await buildBundle(IMG, opts(), [root0, stranger, root1]), "UNKNOWN_KEY", config({ threshold: 3 }));
    expectOk(await buildBundle(IMG, opts(), [root0, stranger, root1]), config({ threshold: 2 }));
    expectOk(await buildBundle(IMG, opts(), [stranger, root2]));
    expectReject(await buildBundle(IMG, opts(), [root0, root1]), "REVOKED_ROOT", config({ threshold: 2, rootRetired: 1 }));
  });

  it("delegation certificate checks", async () => {
    const cases: [Partial<CertBody>, Partial<Parameters<typeof config>[0]>, string][] = [
      [{ notAfter: 1000 }, {}, "EXPIRED_KEY"],
      [{ notBefore: 1_900_000_000 }, {}, "EXPIRED_KEY"],
      [{ notAfter: 1000 }, { now: -1 }, "OK"],
      [{ epoch: 1 }, { minEpoch: 2 }, "REVOKED_KEY"],
      [{ epoch: 2 }, { minEpoch: 2 }, "OK"],
      [{ vendorId: OTHER_VENDOR }, {}, "KEY_NOT_AUTHORIZED"],
      [{ classIds: [OTHER_CLASS] }, {}, "KEY_NOT_AUTHORIZED"],
      [{ formatVersion: 2 }, {}, "UNSUPPORTED_VERSION"],
    ];
    for (const [body, cfg, want] of cases) {
      const u = buildUnsignedCertificate(root0.publicKey, { publicKey: release.publicKey, epoch: 1, ...body }, { check: false });
      const c = attachCertificateSignature(u, await root0.sign(u.toBeSigned));
      const r = run(await buildBundle(IMG, opts(), [withCert(release, c)]), config(cfg));
      expect(`${JSON.stringify(body)}:${r.reason}`).toBe(`${JSON.stringify(body)}:${want}`);
    }
    // issued by a retired root
    expectReject(await buildBundle(IMG, opts(), [withCert(release, await cert(root1, release))]), "REVOKED_ROOT", config({ rootRetired: 2 }));
    // issued by a non-root (incl. a delegated key trying to delegate further)
    expectReject(await buildBundle(IMG, opts(), [withCert(release2, await cert(release, release2))]), "BAD_CERTIFICATE");
    // certificate for another key than the signer's
    expectReject(await buildBundle(IMG, opts(), [withCert(release, await cert(root0, release2))]), "BAD_CERTIFICATE");
    // tampered certificate signature
    const good = await cert(root0, release);
    const bad = good.slice();
    bad[bad.length - 5] ^= 0x40;
    expectReject(await buildBundle(IMG, opts(), [withCert(release, bad)]), "BAD_CERTIFICATE");
    // untagged certificate, and a certificate that is not even an array
    expectReject(await buildBundle(IMG, opts(), [withCert(release, good.subarray(1))]), "BAD_CERTIFICATE");
    expectReject(await buildBundle(IMG, opts(), [withCert(release, encodeCanonical(7))]), "BAD_CERTIFICATE");
    // non-canonical certificate body (signed by the root): BAD_CERTIFICATE
    const cprot = encodeProtectedHeader({ kid: keyId(root0.publicKey) });
    const body = rawMap([[2, release.publicKey], [1, 1], [5, 1]]);
    const rawCert = encodeSign1(cprot, new Map(), body, await root0.sign(sigStructure1(cprot, body)));
    expectReject(await buildBundle(IMG, opts(), [withCert(release, rawCert)]), "BAD_CERTIFICATE");
    // certificate body without an epoch
    const noEpoch = encodeCanonical(new Map<number, Cbor>([[1, 1], [2, release.publicKey]]));
    const c2 = encodeSign1(cprot, new Map(), noEpoch, await root0.sign(sigStructure1(cprot, noEpoch)));
    expectReject(await buildBundle(IMG, opts(), [withCert(release, c2)]), "BAD_CERTIFICATE");
    // non-canonical outer CBOR of the certificate is an envelope problem (step 1)
    const longSig = concatBytes(good.subarray(0, good.length - 66), new Uint8Array([0x59, 0x00, 0x40]), good.subarray(good.length - 64));
    expectReject(await buildBundle(IMG, opts(), [withCert(release, longSig)]), "NON_CANONICAL");
    // certificate header with an unsupported alg
    const u = buildUnsignedCertificate(root0.publicKey, { publicKey: release.publicKey, epoch: 1 }, { alg: -7 });
    expectReject(await buildBundle(IMG, opts(), [withCert(release, attachCertificateSignature(u, await root0.sign(u.toBeSigned)))]), "BAD_CERTIFICATE");
  });

  it("root-signed bundles ignore key epochs", async () => {
    expectOk(await buildBundle(IMG, opts(), [root0]), config({ minEpoch: 100 }));
  });
});

describe("policy (SPEC §8 step 5)", () => {
  it("vendor, class, rollback", async () => {
    expectReject(await variant((m) => m.set(ManifestKey.VENDOR_ID, OTHER_VENDOR)), "WRONG_VENDOR");
    expectReject(await variant((m) => m.set(ManifestKey.CLASS_ID, OTHER_CLASS)), "WRONG_CLASS");
    expectReject(await buildBundle(IMG, opts({ sequence: 4 }), [root0]), "ROLLBACK", config({ minSequence: 5 }));
    expectOk(await buildBundle(IMG, opts({ sequence: 5 }), [root0]), config({ minSequence: 5 }));
    // signature problems are reported before policy
    expectReject(await variant((m) => m.set(ManifestKey.VENDOR_ID, OTHER_VENDOR), [stranger]), "UNKNOWN_KEY");
  });
});

describe("chunks (SPEC §7)", () => {
  let bundle: Uint8Array;
  let envLen: number;
  const chunkStart = (i: number) => envLen + i * (256 + 32);
  const chunkEnd = (i: number) => (i === N - 1 ? bundle.length : chunkStart(i + 1));

  it("setup", async () => {
    bundle = await buildBundle(IMG, opts(), [root0]);
    const v = createBundleVerifier(config());
    expect(v.push(bundle, 0, bundle.length)).toBe(ENVELOPE);
    envLen = v.consumed;
    expect(bundle.length).toBe(envLen + 1000 + N * 32);
  });

  it("a flipped bit in any chunk's data or chain hash is caught at that chunk, before release", () => {
    for (let i = 0; i < N; i++) {
      for (const off of [chunkStart(i), chunkEnd(i) - 33, chunkEnd(i) - 32, chunkEnd(i) - 1]) {
        const b = bundle.slice();
        b[off] ^= 0x80;
        const r = run(b);
        expect(r.reason).toBe("CHUNK_HASH_MISMATCH");
        expect(r.rejectChunk).toBe(i);
        expect(r.chunks).toEqual([...Array(i).keys()]);
      }
    }
  });

  it("last chunk with a non-zero next hash", async () => {
    // forge a bundle whose last next-hash is non-zero but correctly chained
    const p = await prep();
    const fake = new Uint8Array(32).fill(1);
    const hs: Uint8Array[] = [];
    let next: Uint8Array = fake;
    for (let i = N - 1; i >= 0; i--) {
      const data = IMG.subarray(i * 256, Math.min(1000, (i + 1) * 256));
      next = chunkHash(i, data, next);
      hs[i] = next;
    }
    const m = manifestToCbor(p.manifest);
    m.set(ManifestKey.CHAIN_HEAD, hs[0]);
    const env = await signManifest(encodeCanonical(m), [root0]);
    const parts = [env];
    for (let i = 0; i < N; i++) parts.push(IMG.subarray(i * 256, Math.min(1000, (i + 1) * 256)), i < N - 1 ? hs[i + 1] : fake);
    const r = run(concatBytes(...parts));
    expect(r.reason).toBe("CHUNK_HASH_MISMATCH");
    expect(r.rejectChunk).toBe(N - 1);
    expect(r.chunks).toEqual([0, 1, 2]);
  });

  it("truncation at every chunk boundary and mid-chunk; in the envelope", () => {
    for (let i = 0; i < N; i++) {
      for (const cut of [chunkStart(i), chunkStart(i) + 1, chunkStart(i) + 100, chunkEnd(i) - 1]) {
        const r = run(bundle.subarray(0, cut));
        expect(r.reason).toBe("TRUNCATED");
        expect(r.rejectChunk).toBe(i);
      }
    }
    for (const cut of [1, 2, 10, envLen - 1]) {
      const r = run(bundle.subarray(0, cut));
      expect(r.reason).toBe("TRUNCATED");
      expect(r.rejectChunk).toBe(-1);
    }
  });

  it("dropped, duplicated, reordered chunks; chunks spliced from another bundle", async () => {
    const ch = (i: number) => bundle.subarray(chunkStart(i), chunkEnd(i));
    const env = bundle.subarray(0, envLen);
    const cases: [Uint8Array, number][] = [
      [concatBytes(env, ch(0), ch(2), ch(3)), 1],
      [concatBytes(env, ch(0), ch(0), ch(1), ch(2), ch(3)), 1],
      [concatBytes(env, ch(0), ch(2), ch(1), ch(3)), 1],
      [concatBytes(env, ch(1), ch(0), ch(2), ch(3)), 0],
    ];
    for (const [b, at] of cases) {
      const r = run(b);
      expect(r.reason).toBe("CHUNK_HASH_MISMATCH");
      expect(r.rejectChunk).toBe(at);
    }
    const other = await buildBundle(patternImage(1000, 77), opts(), [root0]);
    const spliced = concatBytes(bundle.subarray(0, chunkStart(2)), other.subarray(chunkStart(2)));
    const r = run(spliced);
    expect(r.reason).toBe("CHUNK_HASH_MISMATCH");
    expect(r.rejectChunk).toBe(2);
  });

  it("trailing data after the last chunk", () => {
    for (const extra of [1, 32, 300]) {
      const r = run(concatBytes(bundle, new Uint8Array(extra)));
      expect(r.reason).toBe("TRAILING_DATA");
      expect(r.events).toEqual([ENVELOPE, CHUNK, CHUNK, CHUNK, CHUNK, REJECT]);
    }
    const v = createBundleVerifier(config());
    let off = 0;
    while (off < bundle.length) {
      v.push(bundle, off, bundle.length - off);
      off += v.consumed;
    }
    expect(v.push(bundle, 0, 0)).toBe(DONE);
    expect(v.end()).toBe(DONE);
    expect(v.push(new Uint8Array(1), 0, 1)).toBe(REJECT);
    expect(reasonName(v.reason)).toBe("TRAILING_DATA");
    expect(v.push(bundle, 0, 10)).toBe(REJECT);
  });

  it("any fragmentation (1 byte .. 10 KiB pieces) gives identical events", () => {
    const ref = run(bundle);
    expect(ref.reason).toBe("OK");
    const rng = fc.sample(fc.array(fc.integer({ min: 1, max: 10240 }), { minLength: 1, maxLength: 20 }), { numRuns: 30, seed: 42 });
    for (const sizes of [[1], [2], [3], [31], [33], [288], [289], ...rng]) {
      const r = run(bundle, config(), sizes);
      expect(r.events).toEqual(ref.events);
      expect(r.data).toEqual(IMG);
      expect(r.chunks).toEqual(ref.chunks);
    }
    // a rejecting bundle rejects identically under fragmentation
    const bad = bundle.slice();
    bad[chunkStart(2) + 5] ^= 1;
    const refBad = run(bad);
    for (const sizes of [[1], [7], [1000]]) expect(run(bad, config(), sizes)).toEqual(refBad);
  });

  it("resume at a chunk with the stored expected hash; misuse is BAD_STATE", () => {
    const v = createBundleVerifier(config());
    // first session: envelope and two chunks, then "power loss"
    let off = 0;
    const seen: number[] = [];
    let saved = { next: 0, expected: new Uint8Array(32) };
    while (seen.length < 2) {
      const ev = v.push(bundle, off, bundle.length - off);
      off += v.consumed;
      if (ev === CHUNK) {
        seen.push(v.chunkIndex);
        saved = { next: v.nextChunk, expected: v.expected.slice() };
      }
    }
    expect(saved.next).toBe(2);
    const stored = v.envelope.slice(0, v.envelopeLen);
    expect(v.resume(0, saved.expected)).toBe(Reason.BAD_STATE);
    // second session
    v.reset();
    expect(v.push(stored, 0, stored.length)).toBe(ENVELOPE);
    expect(v.resume(N, saved.expected)).toBe(Reason.BAD_STATE);
    expect(v.resume(saved.next, saved.expected)).toBe(Reason.OK);
    const rest = bundle.subarray(chunkStart(2));
    const r: number[] = [];
    off = 0;
    while (off < rest.length) {
      const ev = v.push(rest, off, rest.length - off);
      off += v.consumed;
      r.push(ev === CHUNK ? v.chunkIndex : -ev);
    }
    expect(r).toEqual([2, 3]);
    expect(v.end()).toBe(DONE);
    // resuming with a wrong expected hash fails at that chunk
    v.reset();
    v.push(stored, 0, stored.length);
    expect(v.resume(2, new Uint8Array(32))).toBe(Reason.OK);
    expect(v.push(rest, 0, rest.length)).toBe(REJECT);
    expect(v.rejectChunk).toBe(2);
  });

  it("one verifier instance handles many bundles via reset(); chunkData is one fixed view", async () => {
    const v = createBundleVerifier(config());
    const views = new Set<Uint8Array>();
    for (let k = 0; k < 3; k++) {
      v.reset();
      const b = k === 1 ? await buildBundle(patternImage(700, k), opts(), [root1]) : bundle;
      let off = 0;
      while (off < b.length) {
        const ev = v.push(b, off, b.length - off);
        off += v.consumed;
        if (ev === CHUNK) views.add(v.chunkData);
        expect(ev).not.toBe(REJECT);
      }
      expect(v.end()).toBe(DONE);
    }
    expect(views.size).toBe(1);
  });
});

describe("no allocation while verifying", () => {
  it("push() creates no typed arrays or views (outside the crypto primitives), envelope included", async () => {
    const bundle = await buildBundle(IMG, opts(), [withCert(release, await cert(root0, release)), root1]);
    let inPrim = 0;
    const prims = {
      sha256: (b: Uint8Array, o: number, l: number, out: Uint8Array) => { inPrim++; try { primitives.sha256(b, o, l, out); } finally { inPrim--; } },
      ed25519Verify: (pk: Uint8Array, sig: Uint8Array, m: Uint8Array, o: number, l: number) => { inPrim++; try { return primitives.ed25519Verify(pk, sig, m, o, l); } finally { inPrim--; } },
    };
    const v = createBundleVerifier(config({ primitives: prims, threshold: 2 }));
    let count = 0;
    const g = globalThis as unknown as Record<string, unknown>;
    const saved: Record<string, unknown> = {};
    const names = ["Uint8Array", "Int32Array", "Float64Array", "Uint32Array", "ArrayBuffer"];
    const protoSub = Uint8Array.prototype.subarray;
    const protoSlice = Uint8Array.prototype.slice;
    for (const n of names) {
      saved[n] = g[n];
      const C = g[n] as new (...a: unknown[]) => unknown;
      g[n] = new Proxy(C, { construct(t, a) { if (!inPrim) count++; return Reflect.construct(t, a) as object; } });
    }
    Uint8Array.prototype.subarray = function (this: Uint8Array, a?: number, b?: number) { if (!inPrim) count++; return protoSub.call(this, a, b); } as typeof protoSub;
    Uint8Array.prototype.slice = function (this: Uint8Array, a?: number, b?: number) { if (!inPrim) count++; return protoSlice.call(this, a, b); } as typeof protoSlice;
    const events: number[] = [];
    try {
      // the instrumentation itself works
      new (g.Uint8Array as typeof Uint8Array)(1).subarray(0);
      expect(count).toBe(2);
      count = 0;
      for (let off = 0; off < bundle.length; ) {
        const ev = v.push(bundle, off, Math.min(100, bundle.length - off));
        off += v.consumed;
        if (ev !== VerifyEvent.NEED_MORE) events.push(ev);
      }
      events.push(v.end());
    } finally {
      for (const n of names) g[n] = saved[n];
      Uint8Array.prototype.subarray = protoSub;
      Uint8Array.prototype.slice = protoSlice;
    }
    expect(events).toEqual([ENVELOPE, CHUNK, CHUNK, CHUNK, CHUNK, DONE]);
    expect(count).toBe(0);
  });
});

describe("native copy primitive", () => {
  it("copies every chunk byte when a platform has one, with the same events, data and verdicts as the core's loop", async () => {
    const bundle = await buildBundle(IMG, opts(), [withCert(release, await cert(root0, release))]);
    let copied = 0;
    const withCopy = {
      ...primitives,
      copyBytes: (src: Uint8Array, so: number, dst: Uint8Array, dO: number, n: number) => {
        copied += n;
        dst.set(src.subarray(so, so + n), dO);
      },
    };
    const tampered = bundle.slice();
    tampered[bundle.length - (232 + 32) - (256 + 32) + 10] ^= 0x40; // a data byte of chunk 2 (wire chunks of 288 and 264 bytes at the end)
    for (const sizes of [[bundle.length], [1], [7, 100, 3], [300]]) {
      for (const b of [bundle, tampered]) {
        copied = 0;
        const native = run(b, config({ primitives: withCopy }), sizes);
        const loop = run(b, config(), sizes);
        expect(native).toEqual(loop);
        if (b === bundle) {
          expect(native.reason).toBe("OK");
          expect(native.data).toEqual(IMG);
          expect(copied).toBe(IMG.length + N * Limits.HASH_LEN); // every wire chunk byte, once
        } else {
          expect(native.reason).toBe("CHUNK_HASH_MISMATCH");
          expect(native.rejectChunk).toBe(2);
        }
      }
    }
  });
});

describe("boot verifier", () => {
  it("accepts the installed image, rejects a changed flash byte, ignores rollback state", async () => {
    const bundle = await buildBundle(IMG, opts({ sequence: 3 }), [root0]);
    const v = createBundleVerifier(config());
    v.push(bundle, 0, bundle.length);
    const env = v.envelope.slice(0, v.envelopeLen);
    const flash = IMG.slice();
    const read = (o: number, dst: Uint8Array, dOff: number, n: number) => dst.set(flash.subarray(o, o + n), dOff);
    const boot = createBootVerifier(config({ minSequence: 10 }));
    expect(boot.check(env, env.length, read)).toBe(Reason.OK);
    flash[999] ^= 1;
    expect(boot.check(env, env.length, read)).toBe(Reason.CHUNK_HASH_MISMATCH);
    flash[999] ^= 1;
    flash[0] ^= 1;
    expect(boot.check(env, env.length, read)).toBe(Reason.CHUNK_HASH_MISMATCH);
    flash[0] ^= 1;
    expect(boot.check(env, env.length, read)).toBe(Reason.OK);
    // trust is re-checked: a retired root slot stops the boot
    expect(createBootVerifier(config({ rootRetired: 1 })).check(env, env.length, read)).toBe(Reason.REVOKED_ROOT);
    expect(boot.check(env, env.length - 1, read)).toBe(Reason.TRUNCATED);
    const bad = env.slice();
    bad[bad.length - 1] ^= 1;
    expect(boot.check(bad, bad.length, read)).toBe(Reason.BAD_SIGNATURE);
    // sharing the install verifier's buffers: rollback is skipped during the check only
    const shared = createBundleVerifier(config({ minSequence: 10 }));
    const boot2 = createBootVerifier(config({ minSequence: 10 }), shared);
    expect(boot2.check(env, env.length, read)).toBe(Reason.OK);
    expect(shared.push(bundle, 0, bundle.length)).toBe(REJECT);
    expect(reasonName(shared.reason)).toBe("ROLLBACK");
  });

  it("skips certificate validity windows (checked at install), still applies key epochs; a shared verifier checks time again after", async () => {
    const notAfter = 1800000000;
    const signer = withCert(release, await cert(root0, release, { notBefore: notAfter - 1000, notAfter }));
    const bundle = await buildBundle(IMG, opts(), [signer]);
    const atInstall = createBundleVerifier(config({ now: notAfter - 10 }));
    expect(atInstall.push(bundle, 0, bundle.length)).toBe(ENVELOPE);
    const env = atInstall.envelope.slice(0, atInstall.envelopeLen);
    const read = (o: number, dst: Uint8Array, dOff: number, n: number) => dst.set(IMG.subarray(o, o + n), dOff);
    // Years later, and before its window: the installed image still boots.
    expect(createBootVerifier(config({ now: notAfter + 86400 * 365 })).check(env, env.length, read)).toBe(Reason.OK);
    expect(createBootVerifier(config({ now: notAfter - 5000 })).check(env, env.length, read)).toBe(Reason.OK);
    // Revocation by epoch still stops it.
    expect(createBootVerifier(config({ now: notAfter + 1, minEpoch: 2 })).check(env, env.length, read)).toBe(Reason.REVOKED_KEY);
    // Borrowed buffers: after the boot check, the install verifier checks the window again.
    const shared = createBundleVerifier(config({ now: notAfter + 1 }));
    expect(createBootVerifier(config({ now: notAfter + 1 }), shared).check(env, env.length, read)).toBe(Reason.OK);
    expect(shared.push(bundle, 0, bundle.length)).toBe(REJECT);
    expect(reasonName(shared.reason)).toBe("EXPIRED_KEY");
  });
});

describe("random mutations never verify and never throw", () => {
  const cases: [string, () => Promise<Uint8Array>, Parameters<typeof config>[0]][] = [
    ["Sign1 root", () => buildBundle(IMG, opts(), [root0]), {}],
    ["Sign delegated + root, k=2", async () => buildBundle(IMG, opts(), [withCert(release, await cert(root0, release, { classIds: [CLASS] })), root1]), { threshold: 2 }],
  ];
  it.each(cases)("fast-check: flips, inserts, deletes, truncations (%s)", async (_name, make, over) => {
    const bundle = await make();
    const cfg = config(over);
    const probe = createBundleVerifier(cfg);
    expect(probe.push(bundle, 0, bundle.length)).toBe(ENVELOPE);
    const envLen = probe.consumed;
    // half of the positions inside the envelope, where the parsing is
    const pos = (max: number) => fc.oneof(fc.nat(Math.min(envLen + 8, max)), fc.nat(max));
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant("flip" as const), at: pos(bundle.length - 1), x: fc.integer({ min: 1, max: 255 }) }),
      fc.record({ kind: fc.constant("insert" as const), at: pos(bundle.length), x: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant("delete" as const), at: pos(bundle.length - 1), x: fc.constant(0) }),
      fc.record({ kind: fc.constant("truncate" as const), at: pos(bundle.length - 1), x: fc.constant(0) }),
    );
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 600 }), (ms, piece) => {
        let b: Uint8Array = bundle.slice();
        for (const m of ms) {
          const at = Math.min(m.at, b.length - 1);
          if (m.kind === "flip") b[at] ^= m.x;
          else if (m.kind === "insert") b = concatBytes(b.subarray(0, at), new Uint8Array([m.x]), b.subarray(at));
          else if (m.kind === "delete") b = concatBytes(b.subarray(0, at), b.subarray(at + 1));
          else b = b.subarray(0, at);
        }
        if (Buffer.compare(Buffer.from(b), Buffer.from(bundle)) === 0) return; // mutations cancelled out
        const r = run(b, cfg, [piece]);
        expect(r.events[r.events.length - 1]).toBe(REJECT);
        expect(r.reason).not.toBe("OK");
      }),
      { numRuns: 250, seed: 7 }
    );
  });
});
