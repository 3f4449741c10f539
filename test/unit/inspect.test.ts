// inspect and the host codecs it shares with drafts, delegate and retire-root: lenient
// description of bundles the verifier rejects, and output that never hands terminal
// control characters from a bundle to the operator's screen.
import { afterAll, describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { encodeCanonical, CborTag, type Cbor } from "../../formats/host-only/cbor-encode.js";
import { decodeCanonical, decodeItem, CborDecodeError } from "../../formats/host-only/cbor-decode.js";
import { decodeManifest, decodeCompleteManifest, encodeManifest, type Manifest } from "../../formats/host-only/manifest.js";
import { attachCertificateSignature, buildUnsignedCertificate, parseCertificate, readCertificate } from "../../formats/host-only/certificate.js";
import { decodeRootStatement, encodeRootRetirementPayload, encodeRootStatement, rootStatementToBeSigned } from "../../formats/host-only/root-statement.js";
import { decodeDraftHeader, encodeDraftHeader, draftProtectedHeader, startsWithDraftMagic } from "../../formats/host-only/draft.js";
import { encodeProtectedHeader } from "../../formats/host-only/cose.js";
import { keyId, keyIdHex } from "../../formats/host-only/keyid.js";
import { formatUuid } from "../../formats/host-only/uuid.js";
import { reasonName } from "../../formats/device-safe/reasons.js";
import { inspect, inspectBytes } from "../../host/bundle/inspect.js";
import { inspectStream } from "../../host/bundle/inspect-stream.js";
import { imageSha256OfBundle } from "../../host/bundle/image-digest.js";
import { verifyBytes } from "../../host/bundle/verify.js";
import { escapeForTerminal, terminalSafeJson } from "../../host/terminal-text.js";
import { fwseal, tempDir } from "../helpers/cli.js";
import { patternImage as image } from "../helpers/images.js";
import { buildBundle, cert, opts, release, root0, root1, CLASS, VENDOR } from "../helpers/verifier-fixtures.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const vectorDir = path.resolve(here, "../../formats/vectors");
const dir = tempDir("inspect");
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// Every character that must never reach a terminal raw (newline aside, which ends lines).
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

function reasonOf(f: () => unknown): string {
  try {
    f();
    return "OK";
  } catch (e) {
    if (e instanceof CborDecodeError) return reasonName(e.reason);
    throw e;
  }
}

describe("inspect output from a hostile bundle", () => {
  const version = "1.0\x1b[2J\u202e";
  const notes = "first\x1b[2J line\r\u202eevil\u0007\nsecond";
  const builder = "ci\u009b31m\u2066";
  const file = path.join(dir, "hostile.fwb");

  it("text mode shows control and bidi characters as visible escapes, never raw", async () => {
    fs.writeFileSync(file, await buildBundle(image(1000), opts({ version, releaseNotes: notes, provenance: { builder } }), [root0]));
    const r = await fwseal(["inspect", file]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    const lines = r.stdout.split("\n");
    expect(lines).toContain("  version          1.0\\x1b[2J\\u202e");
    expect(lines).toContain("  builder          ci\\x9b31m\\u2066");
    expect(lines).toContain("    first\\x1b[2J line\\r\\u202eevil\\x07");
    expect(lines).toContain("    second");
  });

  it("JSON mode escapes them too, and the parsed values are the bundle's own strings", async () => {
    const r = await fwseal(["inspect", file, "--json"]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    expect(r.stdout).toContain("\\u202e");
    expect(r.stdout).toContain("\\u001b[2J");
    const j = JSON.parse(r.stdout);
    expect(j.manifest.version).toBe(version);
    expect(j.manifest.releaseNotes).toBe(notes);
    expect(j.manifest.provenance.builder).toBe(builder);
  });

  it("escapeForTerminal leaves ordinary text alone and terminalSafeJson keeps JSON valid", () => {
    expect(escapeForTerminal("fw 1.2.3 — grüße, 日本")).toBe("fw 1.2.3 — grüße, 日本");
    expect(escapeForTerminal("a\tb\u200fc\u007f")).toBe("a\\tb\\u200fc\\x7f");
    const s = "x\u202ey\u0085z\u2028";
    const json = terminalSafeJson(JSON.stringify({ s }));
    expect(json).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(json).s).toBe(s);
  });
});

describe("inspect of a stream (inspect -)", () => {
  /** The bytes in blocks of `size` (the last one shorter), as a stream delivers them. */
  async function* blocks(b: Uint8Array, size: number): AsyncIterable<Uint8Array> {
    for (let o = 0; o < b.length; o += size) yield b.subarray(o, o + size);
  }

  it("gives the image SHA-256 a file gives, whatever the block size; none for a short stream", async () => {
    for (const name of ["valid-sign1-root.fwb", "valid-exact-chunks.fwb", "valid-sign-3of3.fwb"]) {
      const file = path.join(vectorDir, name);
      const bytes = new Uint8Array(fs.readFileSync(file));
      const r = await inspect(file);
      const m = r.manifest;
      const want = await imageSha256OfBundle(file, { envelopeSize: r.envelopeSize, chunkSize: m.chunkSize!, imageSize: m.imageSize! });
      for (const size of [1 << 20, 16384, 4096 + 32, 1000, 333]) {
        const s = await inspectStream(blocks(bytes, size));
        expect({ name, size, sha: s.imageSha256, fileSize: s.result.fileSize }).toEqual({ name, size, sha: want, fileSize: bytes.length });
      }
      expect((await inspectStream(blocks(bytes.subarray(0, bytes.length - 1), 4096))).imageSha256).toBeNull();
    }
  });

  it("a stream that is not a bundle is refused as inspectBytes refuses it", async () => {
    const junk = new Uint8Array(40000).fill(0x41);
    expect(() => inspectBytes(junk, junk.length)).toThrow(/not CBOR|COSE/);
    await expect(inspectStream(blocks(junk, 5000))).rejects.toThrow(/not CBOR|COSE/);
  });
});

describe("inspect describes what the verifier rejects (lenient decoding, same reader)", () => {
  const index = JSON.parse(fs.readFileSync(path.join(vectorDir, "index.json"), "utf8")) as {
    vectors: { file: string; policy: { roots: string[]; now: number }; expected: { reason: string } }[];
  };
  for (const name of ["noncanonical-int.fwb", "noncanonical-key.fwb", "duplicate-map-key.fwb"]) {
    it(`${name}: rejected by verify, described by inspect`, async () => {
      const v = index.vectors.find((x) => x.file === name)!;
      const bytes = new Uint8Array(fs.readFileSync(path.join(vectorDir, name)));
      const verdict = await verifyBytes(bytes, { roots: v.policy.roots.map((h) => new Uint8Array(Buffer.from(h, "hex"))), now: v.policy.now });
      expect(verdict.valid).toBe(false);
      expect(verdict.reasonName).toBe(v.expected.reason);
      const info = inspectBytes(bytes.subarray(0, 8192), bytes.length);
      expect(info.manifest.vendorId).toBe(formatUuid(VENDOR));
      expect(info.manifest.classId).toBe(formatUuid(CLASS));
      expect(info.manifest.imageSize).toBeGreaterThan(0);
      expect(info.signers.length).toBeGreaterThan(0);
    });
  }

  it("the lenient decoder takes non-shortest heads, unsorted or repeated keys and any tag; strict mode refuses them", () => {
    const longHead = new Uint8Array([0x18, 0x07]);
    expect(decodeItem(longHead, 0, { lenient: true })).toEqual({ value: 7, end: 2 });
    expect(reasonOf(() => decodeCanonical(longHead))).toBe("NON_CANONICAL");
    const unsorted = new Uint8Array([0xa3, 0x02, 0x61, 0x62, 0x01, 0x61, 0x61, 0x02, 0x61, 0x63]); // {2:"b", 1:"a", 2:"c"}
    expect(decodeCanonical(unsorted, { lenient: true })).toEqual(new Map<number, Cbor>([[2, "c"], [1, "a"]]));
    expect(reasonOf(() => decodeCanonical(unsorted))).toBe("NON_CANONICAL");
    const tagged = encodeCanonical(new CborTag(1234, 5));
    expect(decodeCanonical(tagged, { lenient: true })).toEqual(new CborTag(1234, 5));
    expect(reasonOf(() => decodeCanonical(tagged))).toBe("MALFORMED");
    // Lengths are checked in both modes.
    expect(reasonOf(() => decodeCanonical(new Uint8Array([0x5a, 0xff, 0xff, 0xff, 0xff, 0x00]), { lenient: true }))).toBe("MALFORMED");
    expect(reasonOf(() => decodeCanonical(new Uint8Array([0x9a, 0x00, 0x01, 0x00, 0x00]), { lenient: true }))).toBe("MALFORMED");
  });

  it("a truncated envelope is refused with a message that says why", () => {
    expect(() => inspectBytes(new Uint8Array([0xd2, 0x84, 0x58, 0x20, 0, 0, 0, 0]), 8)).toThrow(/cannot decode envelope: truncated CBOR item at byte 2 \(MALFORMED\)/);
  });
});

describe("one host codec per structure", () => {
  const m: Manifest = {
    vendorId: VENDOR, classId: CLASS, sequence: 9, version: "2.0.0", imageSize: 5000, chunkSize: 1024, chunkCount: 5,
    chainHead: new Uint8Array(32).fill(7), releaseNotes: "notes", keyEpochFloor: 2, provenance: { builder: "ci", buildTime: 1700000000 },
    extra: new Map<number, Cbor>([[40, "future"]])
  };

  it("manifest: decode(encode(m)) gives m back; a missing mandatory key is named", () => {
    const d = decodeCompleteManifest(encodeManifest(m));
    expect(d).toEqual({ ...m, formatVersion: 1, payloadEncoding: 0 });
    const partial = new Map<number, Cbor>([[1, 1], [2, VENDOR]]);
    expect(() => decodeCompleteManifest(encodeCanonical(partial))).toThrow("manifest key 3 missing");
    expect(decodeManifest(encodeCanonical(partial))).toEqual({ formatVersion: 1, vendorId: VENDOR, extra: new Map() });
  });

  it("certificate: strict parse and lenient reading agree on a good one; problems are named on a bad one", async () => {
    const good = await cert(root0, release, { notAfter: 1900000000, vendorId: VENDOR, classIds: [CLASS] });
    const p = parseCertificate(good);
    expect(p.body).toEqual({ formatVersion: 1, publicKey: release.publicKey, notAfter: 1900000000, epoch: 1, vendorId: VENDOR, classIds: [CLASS] });
    expect(p.issuerKeyId).toEqual(keyId(root0.publicKey));
    const lenient = readCertificate(decodeCanonical(good, { lenient: true }), { lenient: true });
    expect(lenient.problems).toEqual([]);
    expect(lenient.body).toEqual(p.body);

    const u = buildUnsignedCertificate(root0.publicKey, { publicKey: release.publicKey, epoch: 1, vendorId: new Uint8Array(3) }, { check: false });
    const bad = attachCertificateSignature(u, new Uint8Array(64));
    expect(() => parseCertificate(bad)).toThrow("certificate vendor-id must be 16 bytes");
    const r = readCertificate(decodeCanonical(bad, { allowTags: [18] }));
    expect(r.problems).toEqual(["certificate vendor-id must be 16 bytes"]);
    expect(r.body.epoch).toBe(1);
  });

  it("root statement: what is encoded decodes back", () => {
    const prot = encodeProtectedHeader({ kid: keyId(root1.publicKey) });
    const payload = encodeRootRetirementPayload({ slot: 0, counter: 42, vendorId: VENDOR, retiredKey: root0.publicKey, note: "INC-1" });
    const stmt = encodeRootStatement(prot, payload, new Uint8Array(64));
    expect(rootStatementToBeSigned(prot, payload).length).toBeGreaterThan(payload.length);
    expect(decodeRootStatement(stmt)).toEqual({
      signerKeyId: keyIdHex(root1.publicKey), signerKeyIds: [keyIdHex(root1.publicKey)], alg: -19, version: 1, slot: 0, counter: 42,
      vendorId: formatUuid(VENDOR), retiredKeyId: keyIdHex(root0.publicKey), note: "INC-1"
    });
    expect(() => encodeRootRetirementPayload({ slot: 9, counter: 1, vendorId: VENDOR, retiredKey: root0.publicKey })).toThrow("slot must be 0..3");
  });

  it("draft header: what is encoded decodes back", async () => {
    const payload = encodeManifest(m);
    const certificate = await cert(root0, release);
    const sig = { protected: draftProtectedHeader(release.publicKey), certificate, signature: new Uint8Array(64).fill(1), publicKey: release.publicKey, keyId: keyIdHex(release.publicKey) };
    const policy = { threshold: 1, signers: [keyIdHex(release.publicKey)] };
    const header = encodeDraftHeader(payload, [sig], policy);
    const withChunks = new Uint8Array(header.length + 10);
    withChunks.set(header);
    expect(startsWithDraftMagic(withChunks)).toBe(true);
    const d = decodeDraftHeader(withChunks);
    expect(d.length).toBe(header.length);
    expect(d.payload).toEqual(payload);
    expect(d.signatures).toEqual([sig]);
    expect(d.policy).toEqual(policy);
    expect(d.manifest.sequence).toBe(9);
    expect(() => decodeDraftHeader(header.subarray(0, header.length - 1))).toThrow("header truncated");
  });
});
