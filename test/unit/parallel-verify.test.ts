// Chunk hashing on worker threads (host/bundle/chunk-digest-pool.ts, chain-lookahead.ts)
// feeds the "fast" engine's in-order chain check: verdicts, rejection reasons, the rejected
// chunk and the chunks handed to onChunk must be exactly those of the core engine and of
// single-thread hashing, for valid bundles, flipped bytes in every read block (and at block
// boundaries), truncation and trailing data, from files (shared read blocks, more of them
// than the read-ahead ring holds) and from streams split anywhere.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import { createHash, randomBytes } from "node:crypto";
import { pack } from "../../host/bundle/pack.js";
import { verifyFile, verifyStream, VERIFY_BLOCK, type VerifyPolicy } from "../../host/bundle/verify.js";
import { ChunkDigestPool, sharedBuffer } from "../../host/bundle/chunk-digest-pool.js";
import { sha256Latin1 } from "../../host/bundle/chunk-hash.js";
import { writeChunkPrefix } from "../../formats/device-safe/chunk-layout.js";
import { Limits } from "../../formats/device-safe/limits.js";
import { keyPairFromSeed, LocalSigner } from "../../host/keys/keys.js";

const CS = 4096;
const IMAGE = 7 * VERIFY_BLOCK + 12345; // eight read blocks (more than LOOKAHEAD_BUFFERS), chunks straddling each boundary
let dir = "";
let bundle: Buffer;
let policy: VerifyPolicy;
const root = keyPairFromSeed(new Uint8Array(32).fill(7));

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-parallel-"));
  fs.writeFileSync(path.join(dir, "img.bin"), randomBytes(IMAGE));
  await pack({ image: path.join(dir, "img.bin"), output: path.join(dir, "b.fwb"), signers: [new LocalSigner(root.privateKey)], vendor: "acme.example", deviceClass: "p", sequence: 1, version: "1", chunkSize: CS });
  bundle = fs.readFileSync(path.join(dir, "b.fwb"));
  policy = { roots: [root.publicKey], vendor: "acme.example", deviceClass: "p" };
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * reason@chunk of one bundle from a file: two worker threads, this thread only, the core;
 * then the same with an onChunk hook (the workers hash every whole chunk), each verdict
 * followed by the hook's calls: their count, the first index not in order (-1: none) and
 * the SHA-256 of the data handed over.
 */
async function verdicts(b: Buffer): Promise<string[]> {
  const f = path.join(dir, "v.fwb");
  fs.writeFileSync(f, b);
  const out: string[] = [];
  for (const p of [{ hashThreads: 2 }, { hashThreads: 0 }, { engine: "core" as const }]) {
    const r = await verifyFile(f, { ...policy, ...p });
    out.push(`${r.reasonName}@${r.chunk}`);
  }
  for (const p of [{ hashThreads: 2 }, { hashThreads: 0 }, { engine: "core" as const }]) {
    const h = createHash("sha256");
    let calls = 0;
    let outOfOrder = -1;
    const r = await verifyFile(f, { ...policy, ...p }, {
      onChunk: (i, data) => {
        if (i !== calls && outOfOrder < 0) outOfOrder = i;
        calls++;
        h.update(data);
      }
    });
    out.push(`${r.reasonName}@${r.chunk} ${calls} ${outOfOrder} ${h.digest("hex")}`);
  }
  return out;
}

/** Every verdict of verdicts() equal to the core's (without and with the hook). */
function expectAllAsCore(v: string[], what: string): void {
  expect(v.slice(0, 3), what).toEqual([v[2], v[2], v[2]]);
  expect(v.slice(3), what).toEqual([v[5], v[5], v[5]]);
  expect(v[5].startsWith(v[2]), what).toBe(true);
}

describe("parallel chunk hashing", () => {
  it("the pool's digests are SHA-256(prefix || chunk), in job order, from shared memory", async () => {
    const block = sharedBuffer(3 * 1000);
    randomBytes(3000).copy(block);
    const jobs = [0, 1, 2].map((k) => ({ index: 40 + k, off: k * 1000, len: 1000 - k }));
    const pool = new ChunkDigestPool(2);
    try {
      const got = await pool.digest(block, jobs);
      const want = jobs.map((j) => {
        const b = Buffer.alloc(Limits.CHUNK_PREFIX_LEN + j.len);
        writeChunkPrefix(b, 0, j.index);
        block.copy(b, Limits.CHUNK_PREFIX_LEN, j.off, j.off + j.len);
        return sha256Latin1(b);
      });
      expect(got).toEqual(want);
    } finally {
      await pool.close();
    }
  });

  it("accepts a valid bundle like the core, from a file and from streams split anywhere", async () => {
    const image = fs.readFileSync(path.join(dir, "img.bin"));
    const v = await verdicts(bundle);
    expect(v.slice(0, 3)).toEqual(["OK@null", "OK@null", "OK@null"]);
    expectAllAsCore(v, "valid");
    expect(v[3]).toBe(`OK@null ${Math.ceil(IMAGE / CS)} -1 ${createHash("sha256").update(image).digest("hex")}`);
    for (const piece of [1000, 4128, 65536, 1 << 20]) {
      const parts: Buffer[] = [];
      for (let o = 0; o < bundle.length; o += piece) parts.push(bundle.subarray(o, o + piece));
      const r = await verifyStream(Readable.from(parts), { ...policy, hashThreads: 1 });
      expect(`${r.reasonName}@${r.chunk}`, `pieces of ${piece}`).toBe("OK@null");
      const h = createHash("sha256");
      const withHook = await verifyStream(Readable.from(parts), { ...policy, hashThreads: 1 }, { onChunk: (_i, d) => void h.update(d) });
      expect(`${withHook.reasonName} ${h.digest("hex")}`, `pieces of ${piece}, onChunk`).toBe(`OK ${createHash("sha256").update(image).digest("hex")}`);
    }
  });

  it("rejects a flipped byte at the same chunk as the core, in every block and at block boundaries", async () => {
    const positions = [300, 5000, VERIFY_BLOCK - 1, VERIFY_BLOCK, VERIFY_BLOCK + 30, 2 * VERIFY_BLOCK + 7, 5 * VERIFY_BLOCK + 3, 7 * VERIFY_BLOCK - 1, bundle.length - 40, bundle.length - 1];
    for (const pos of positions) {
      const b = Buffer.from(bundle);
      b[pos] ^= 0x10;
      const v = await verdicts(b);
      expectAllAsCore(v, `flip at ${pos}`);
      if (pos > 5000) expect(v[2], `flip at ${pos}`).toMatch(/^CHUNK_HASH_MISMATCH@\d+$/);
    }
  });

  it("truncation and trailing data: the same reason and chunk as the core", async () => {
    for (const n of [bundle.length - 1, bundle.length - 4128, 6 * VERIFY_BLOCK + 3, 2 * VERIFY_BLOCK + 3, VERIFY_BLOCK]) {
      const v = await verdicts(bundle.subarray(0, n));
      expectAllAsCore(v, `length ${n}`);
      expect(v[2], `length ${n}`).toMatch(/^TRUNCATED@\d+$/);
    }
    const v = await verdicts(Buffer.concat([bundle, Buffer.from([1, 2])]));
    expectAllAsCore(v, "trailing data");
    expect(v[2]).toBe(`TRAILING_DATA@${Math.ceil(IMAGE / CS)}`);
  });
});
