// The image SHA-256 `fwseal verify` reports (host/bundle/verified-image-digest.ts): computed
// on a worker reading a raw bundle file, or here over the authenticated (or decoded) chunks;
// both are the image's SHA-256, and a file that changes while it is verified is refused
// rather than reported with a digest of other bytes.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createHash, randomBytes } from "node:crypto";
import { pack } from "../../host/bundle/pack.js";
import { verifyFile, type VerifyPolicy } from "../../host/bundle/verify.js";
import { VerifiedImageDigest } from "../../host/bundle/verified-image-digest.js";
import { fileSha256OnWorker } from "../../host/bundle/file-sha256-worker.js";
import { keyPairFromSeed, LocalSigner } from "../../host/keys/keys.js";
import { FwsealError } from "../../host/errors.js";

let dir = "";
const root = keyPairFromSeed(new Uint8Array(32).fill(11));
const policy: VerifyPolicy = { roots: [root.publicKey] };
const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-verified-digest-"));
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function bundleOf(name: string, image: Uint8Array, chunkSize: number, kind?: "compressed"): Promise<string> {
  const img = path.join(dir, `${name}.bin`);
  fs.writeFileSync(img, image);
  const output = path.join(dir, `${name}.fwb`);
  await pack({
    image: img, output, signers: [new LocalSigner(root.privateKey)], vendor: "acme.example", deviceClass: "d", sequence: 1, version: "1", chunkSize,
    ...(kind ? { payload: { kind } } : {})
  });
  return output;
}

/** The digest `fwseal verify` would print for `file`, the worker forced on or off, or decided from the file's size. */
async function reported(file: string, worker: boolean | "by size"): Promise<string | null> {
  const d = await VerifiedImageDigest.start(file, worker === "by size" ? { size: fs.statSync(file).size } : { worker });
  const r = await verifyFile(file, policy, d.hooks);
  expect(r.reasonName).toBe("OK");
  return d.result(r);
}

describe("verify's image SHA-256", () => {
  it("raw bundles: the worker's digest and the one taken over the chunks are the image's", async () => {
    for (const [size, cs] of [[1, 256], [4096, 4096], [70001, 1024], [(5 << 20) + 3, 4096]]) {
      const image = randomBytes(size);
      const f = await bundleOf(`raw-${size}`, image, cs);
      expect(await reported(f, true), `${size} bytes, worker`).toBe(sha(image));
      expect(await reported(f, false), `${size} bytes, here`).toBe(sha(image));
      expect(await reported(f, "by size"), `${size} bytes, by size`).toBe(sha(image));
    }
  });

  it("a compressed bundle: the decoded image's digest (no worker: the file holds the wire stream)", async () => {
    const image = Buffer.alloc(300000);
    for (let i = 0; i < image.length; i++) image[i] = (i * 7) % 251 < 40 ? i & 0xff : 0x20;
    const f = await bundleOf("compressed", image, 4096, "compressed");
    expect(fs.statSync(f).size).toBeLessThan(image.length);
    expect(await reported(f, true)).toBe(sha(image));
  });

  it("a file that changed while it was verified is refused, not reported", async () => {
    const image = randomBytes(200000);
    const f = await bundleOf("changing", image, 4096);
    const d = await VerifiedImageDigest.start(f, { worker: true });
    const r = await verifyFile(f, policy, d.hooks);
    expect(r.valid).toBe(true);
    const later = new Date(Date.now() + 60000);
    fs.utimesSync(f, later, later); // rewritten in place, as far as anyone can tell
    const e = await d.result(r).then(() => null, (x: unknown) => x);
    expect(e).toBeInstanceOf(FwsealError);
    expect((e as FwsealError).code).toBe("INPUT_UNREADABLE");
    expect((e as FwsealError).message).toContain("changed while it was being verified");
  });

  it("the worker over a chunk stream skips each chunk's link, the last chunk partial", async () => {
    const cs = 1024;
    const image = randomBytes(10 * cs + 17);
    const links = Buffer.alloc(32, 0xee);
    const start = 33;
    const parts = [Buffer.alloc(start, 0x11)];
    for (let o = 0; o < image.length; o += cs) parts.push(image.subarray(o, o + cs), links);
    const f = path.join(dir, "stream.bin");
    fs.writeFileSync(f, Buffer.concat(parts));
    const w = fileSha256OnWorker(f, { start, chunkSize: cs, imageSize: image.length });
    expect(Buffer.from(await w.result()).toString("hex")).toBe(sha(image));
    const short = fileSha256OnWorker(f, { start, chunkSize: cs, imageSize: image.length + 4096 });
    await expect(short.result()).rejects.toMatchObject({ code: "ESHORT" });
  });
});
