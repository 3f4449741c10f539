// pack's image SHA-256 comes from a worker thread reading the image front to back while the
// chain is computed back to front (host/bundle/file-sha256-worker.ts) for a large image on a
// machine with an idle core, and from this thread otherwise: the same digest either way, and
// the bundle the chain pass writes (chunks read straight into their slots) is the one the
// core accepts.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createHash, randomBytes } from "node:crypto";
import { pack } from "../../host/bundle/pack.js";
import { verifyFile } from "../../host/bundle/verify.js";
import { fileSha256OnWorker, startFileSha256, WORKER_FILE_HASH_MIN } from "../../host/bundle/file-sha256-worker.js";
import { keyPairFromSeed, LocalSigner } from "../../host/keys/keys.js";

let dir = "";
const root = keyPairFromSeed(new Uint8Array(32).fill(9));

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-pack-digest-"));
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Packs `size` random bytes; returns pack's image digest, the file's, and the core's verdict. */
async function packed(size: number, chunkSize: number): Promise<{ reported: string; actual: string; verdict: string }> {
  const image = path.join(dir, `img-${size}.bin`);
  const bytes = randomBytes(size);
  fs.writeFileSync(image, bytes);
  const output = path.join(dir, `b-${size}.fwb`);
  const r = await pack({ image, output, signers: [new LocalSigner(root.privateKey)], vendor: "acme.example", deviceClass: "d", sequence: 1, version: "1", chunkSize });
  const v = await verifyFile(output, { roots: [root.publicKey], engine: "core" });
  return { reported: Buffer.from(r.imageSha256).toString("hex"), actual: createHash("sha256").update(bytes).digest("hex"), verdict: v.reasonName };
}

describe("pack: image SHA-256 beside the chain pass", () => {
  it("a large image: pack's digest is the file's, the bundle valid", async () => {
    const r = await packed(WORKER_FILE_HASH_MIN + 4097, 4096);
    expect(r.reported).toBe(r.actual);
    expect(r.verdict).toBe("OK");
  });

  it("a small image (hashed on this thread), odd sizes and chunk sizes: the same", async () => {
    for (const [size, cs] of [[1, 256], [4096, 4096], [70001, 1024], [1 << 20, 65536]]) {
      const r = await packed(size, cs);
      expect(r.reported, `${size} bytes`).toBe(r.actual);
      expect(r.verdict, `${size} bytes`).toBe("OK");
    }
  });

  it("the worker's digest is the file's; a missing file rejects with its code; none below the threshold", async () => {
    const f = path.join(dir, "w.bin");
    const bytes = randomBytes(5 * 1024 * 1024 + 3); // more than one of the worker's reads
    fs.writeFileSync(f, bytes);
    const w = fileSha256OnWorker(f);
    expect(Buffer.from(await w.result()).toString("hex")).toBe(createHash("sha256").update(bytes).digest("hex"));
    await w.cancel();
    const missing = fileSha256OnWorker(path.join(dir, "missing.bin"));
    await expect(missing.result()).rejects.toMatchObject({ code: "ENOENT" });
    await missing.cancel();
    expect(startFileSha256(f, WORKER_FILE_HASH_MIN - 1)).toBeNull();
  });
});
