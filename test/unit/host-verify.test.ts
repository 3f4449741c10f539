// Host library: the fast chunk path gives exactly the core's verdicts (differential, on
// systematic and random mutations and on every way of splitting the input), streaming
// sources, pack == the formats builder byte for byte, atomic outputs, key loading errors.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import { randomBytes, generateKeyPairSync } from "node:crypto";
import fc from "fast-check";
import { pack } from "../../host/bundle/pack.js";
import { verifyBytes, verifyEnvelopeFile, verifyFile, verifyStream, type VerifyPolicy } from "../../host/bundle/verify.js";
import { extract } from "../../host/bundle/extract.js";
import { keyPairFromSeed, LocalSigner, loadPrivateKey, parsePrivateKeyPem, privateKeyToPem } from "../../host/keys/keys.js";
import { delegate } from "../../host/keys/delegate.js";
import { writeFileAtomic } from "../../host/io/atomic-write.js";
import { FwsealError } from "../../host/errors.js";
import { buildBundle } from "../../formats/host-only/bundle-builder.js";
import { vendorUuid, classUuid } from "../../formats/host-only/uuid.js";
import { Reason } from "../../formats/device-safe/reasons.js";

let dir = "";
const root = keyPairFromSeed(new Uint8Array(32).fill(1));
const rel = keyPairFromSeed(new Uint8Array(32).fill(2));
let bundle: Uint8Array;
let policy: VerifyPolicy;
const CS = 256;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-host-"));
  fs.writeFileSync(path.join(dir, "img.bin"), randomBytes(CS * 9 + 17));
  const cert = (await delegate({ root: new LocalSigner(root.privateKey), subject: rel.publicKey, epoch: 1, vendor: "acme.example", classes: ["s3"] })).certificate;
  await pack({ image: path.join(dir, "img.bin"), output: path.join(dir, "b.fwb"), signers: [new LocalSigner(rel.privateKey, cert)], vendor: "acme.example", deviceClass: "s3", sequence: 3, version: "1.0", chunkSize: CS });
  bundle = new Uint8Array(fs.readFileSync(path.join(dir, "b.fwb")));
  policy = { roots: [root.publicKey], vendor: "acme.example", deviceClass: "s3" };
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function both(b: Uint8Array): Promise<[string, string]> {
  const f = await verifyBytes(b, { ...policy, engine: "fast" });
  const c = await verifyBytes(b, { ...policy, engine: "core" });
  return [`${f.reasonName}@${f.chunk}`, `${c.reasonName}@${c.chunk}`];
}

describe("host verify", () => {
  it("accepts the packed bundle with both engines, from a file, bytes and a stream", async () => {
    expect((await verifyFile(path.join(dir, "b.fwb"), policy)).valid).toBe(true);
    expect(await both(bundle)).toEqual(["OK@null", "OK@null"]);
    const r = await verifyStream(Readable.from([Buffer.from(bundle)]), policy);
    expect(r.valid).toBe(true);
    expect(r.manifest?.sequence).toBe(3);
  });

  it("verifyEnvelopeFile judges the envelope as the core does and leaves the chunks alone", async () => {
    const f = path.join(dir, "env.fwb");
    const b = Buffer.from(bundle);
    b[b.length - 40] ^= 1; // a chunk byte: the full check rejects, the envelope check does not
    fs.writeFileSync(f, b);
    expect((await verifyFile(f, policy)).reasonName).toBe("CHUNK_HASH_MISMATCH");
    const env = await verifyEnvelopeFile(f, policy);
    expect([env.valid, env.manifest?.sequence]).toEqual([true, 3]);
    const other = await verifyEnvelopeFile(f, { ...policy, deviceClass: "other" });
    const full = await verifyFile(f, { ...policy, deviceClass: "other" });
    expect([other.valid, `${other.reasonName}@${other.chunk}`]).toEqual([false, `${full.reasonName}@${full.chunk}`]);
  });

  it("pack output equals the formats builder's bundle byte for byte", async () => {
    const img = new Uint8Array(fs.readFileSync(path.join(dir, "img.bin")));
    const signer = new LocalSigner(root.privateKey);
    await pack({ image: path.join(dir, "img.bin"), output: path.join(dir, "r.fwb"), signers: [signer], vendor: "acme.example", deviceClass: "s3", sequence: 9, version: "2", chunkSize: CS });
    const ref = await buildBundle(img, { vendorId: vendorUuid("acme.example"), classId: classUuid("acme.example", "s3"), sequence: 9, version: "2", chunkSize: CS }, [signer]);
    expect(Buffer.compare(fs.readFileSync(path.join(dir, "r.fwb")), Buffer.from(ref))).toBe(0);
  });

  it("fast engine == core on every truncation point and every single-byte flip in the chunks", async () => {
    for (let n = 0; n <= bundle.length + 1; n += n < 400 ? 1 : 7) {
      const b = n <= bundle.length ? bundle.subarray(0, n) : Buffer.concat([bundle, Buffer.from([0])]);
      const [f, c] = await both(b);
      expect(f, `length ${n}`).toBe(c);
    }
    const envLen = bundle.length - (CS * 9 + 17) - 32 * 10;
    for (let pos = envLen; pos < bundle.length; pos += 5) {
      const b = Uint8Array.from(bundle);
      b[pos] ^= 0x80;
      const [f, c] = await both(b);
      expect(f, `flip at ${pos}`).toBe(c);
      expect(f.startsWith("CHUNK_HASH_MISMATCH")).toBe(true);
    }
  });

  it("fast engine == core on random mutations (fast-check), never throws", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ pos: fc.nat(), val: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 }),
        fc.nat({ max: 64 }),
        async (edits, cut) => {
          const b = Uint8Array.from(bundle.subarray(0, bundle.length - cut));
          for (const e of edits) b[e.pos % b.length] = e.val;
          const [f, c] = await both(b);
          expect(f).toBe(c);
        }
      ),
      { numRuns: 150 }
    );
  });

  it("any split of the input gives the same verdict (streams of small, odd-sized blocks)", async () => {
    const tampered = Uint8Array.from(bundle);
    tampered[tampered.length - 100] ^= 1;
    for (const b of [bundle, tampered, bundle.subarray(0, bundle.length - 40)]) {
      const want = (await verifyBytes(b, policy)).reasonName;
      for (const size of [1, 3, 31, 32, 33, 255, 289, 1000]) {
        const parts: Buffer[] = [];
        for (let i = 0; i < b.length; i += size) parts.push(Buffer.from(b.subarray(i, i + size)));
        const r = await verifyStream(Readable.from(parts), policy);
        expect(r.reasonName, `block size ${size}`).toBe(want);
      }
    }
  });

  it("extract writes the image only when valid, and never leaves a temporary file", async () => {
    const out = path.join(dir, "x.bin");
    const ok = await extract({ bundle: path.join(dir, "b.fwb"), output: out, policy });
    expect(ok.valid).toBe(true);
    expect(Buffer.compare(fs.readFileSync(out), fs.readFileSync(path.join(dir, "img.bin")))).toBe(0);
    const bad = Uint8Array.from(bundle);
    bad[bad.length - 1] ^= 1;
    fs.writeFileSync(path.join(dir, "bad.fwb"), bad);
    const before = fs.readdirSync(dir).sort();
    const r = await extract({ bundle: path.join(dir, "bad.fwb"), output: path.join(dir, "y.bin"), policy });
    expect(r.valid).toBe(false);
    expect(r.reason).toBe(Reason.CHUNK_HASH_MISMATCH);
    expect(fs.readdirSync(dir).sort()).toEqual(before);
  });

  it("writeFileAtomic refuses to clobber without overwrite and applies the mode", async () => {
    const f = path.join(dir, "secret");
    await writeFileAtomic(f, "a", { mode: 0o600, overwrite: false });
    expect(fs.statSync(f).mode & 0o777).toBe(0o600);
    await expect(writeFileAtomic(f, "b", { overwrite: false })).rejects.toMatchObject({ code: "OUTPUT_EXISTS", exitCode: 5 });
    expect(fs.readFileSync(f, "utf8")).toBe("a");
    expect(fs.readdirSync(dir).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });

  it("key loading: clear, typed errors without key material", async () => {
    const pem = privateKeyToPem(rel.privateKey, "pw");
    await expect(parsePrivateKeyPem(pem, "k", { passphrase: "nope" })).rejects.toMatchObject({ code: "KEY_PASSPHRASE", exitCode: 4 });
    await expect(parsePrivateKeyPem(pem, "k", { prompt: false })).rejects.toMatchObject({ code: "KEY_PASSPHRASE_REQUIRED" });
    expect((await parsePrivateKeyPem(pem, "k", { passphrase: "pw" })).asymmetricKeyType).toBe("ed25519");
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs1", format: "pem" }) as string;
    const e = await parsePrivateKeyPem(rsa, "rsa.key").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(FwsealError);
    expect((e as FwsealError).message).toMatch(/RSA key/);
    expect((e as FwsealError).message).not.toContain(rsa.split("\n")[1]);
    await expect(parsePrivateKeyPem("hello", "x")).rejects.toMatchObject({ code: "KEY_CORRUPT" });
    await expect(loadPrivateKey(path.join(dir, "nope.key"))).rejects.toMatchObject({ code: "INPUT_MISSING", exitCode: 3 });
  });
});
