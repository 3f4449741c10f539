// RFC 9162 Merkle proofs of the host log library against the published test data of an
// independent implementation (test/vectors/merkle, see SOURCES.md), including its invalid
// proofs, and the proofs fwseal generates from tiles against its own verifier.
import { describe, expect, it } from "vitest";
import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { STANDARD_VECTORS } from "../helpers/standard-vectors.js";
import {
  CompactRange, EMPTY_ROOT, consistencyProof, inclusionProof, leafHash, memoryReader, treeHash, verifyConsistency, verifyInclusion
} from "../../host/log/merkle.js";
import { encodeTileIndex, tilePath, entryBundlePath, tileReader, encodeEntryBundle, decodeEntryBundle } from "../../host/log/tiles.js";

const b64 = (s: string | null | undefined): Uint8Array => new Uint8Array(Buffer.from(s ?? "", "base64"));

function jsonFiles(dir: string): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir)) {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) out.push(...jsonFiles(p));
    else if (f.endsWith(".json")) out.push(p);
  }
  return out.sort();
}

interface InclusionCase { leafIdx: number; treeSize: number; root: string; leafHash: string; proof: string[] | null; desc: string; wantErr: boolean }
interface ConsistencyCase { size1: number; size2: number; root1: string; root2: string; proof: string[] | null; desc: string; wantErr: boolean }

const MERKLE = path.join(STANDARD_VECTORS, "merkle");
const inclusion = jsonFiles(path.join(MERKLE, "inclusion")).map((f) => ({ f: path.relative(MERKLE, f), c: JSON.parse(readFileSync(f, "utf8")) as InclusionCase }));
const consistency = jsonFiles(path.join(MERKLE, "consistency")).map((f) => ({ f: path.relative(MERKLE, f), c: JSON.parse(readFileSync(f, "utf8")) as ConsistencyCase }));

describe("published inclusion proofs (transparency-dev/merkle testdata)", () => {
  it("has both valid and invalid cases", () => {
    expect(inclusion.length).toBeGreaterThan(70);
    expect(inclusion.filter((x) => x.c.wantErr).length).toBeGreaterThan(50);
    expect(inclusion.filter((x) => !x.c.wantErr).length).toBeGreaterThan(5);
  });
  it.each(inclusion)("$f", ({ c }) => {
    const ok = verifyInclusion(b64(c.leafHash), c.leafIdx, c.treeSize, (c.proof ?? []).map(b64), b64(c.root));
    expect(ok).toBe(!c.wantErr);
  });
});

describe("published consistency proofs (transparency-dev/merkle testdata)", () => {
  it("has both valid and invalid cases", () => {
    expect(consistency.length).toBeGreaterThan(80);
    expect(consistency.filter((x) => x.c.wantErr).length).toBeGreaterThan(50);
  });
  it.each(consistency)("$f", ({ c }) => {
    const ok = verifyConsistency(c.size1, c.size2, b64(c.root1), b64(c.root2), (c.proof ?? []).map(b64));
    expect(ok).toBe(!c.wantErr);
  });
});

describe("proof generation", () => {
  const leaves = Array.from({ length: 70 }, (_, i) => leafHash(new TextEncoder().encode(`entry ${i}`)));
  const read = memoryReader(leaves);

  it("every inclusion and consistency proof of trees up to 70 leaves verifies, and a flipped bit fails", async () => {
    for (let n = 1; n <= 70; n++) {
      const root = await treeHash(read, n);
      const cr = new CompactRange();
      for (let i = 0; i < n; i++) cr.append(leaves[i]);
      expect(Buffer.from(cr.root()).equals(Buffer.from(root))).toBe(true);
      for (let i = 0; i < n; i += 7) {
        const p = await inclusionProof(read, i, n);
        expect(verifyInclusion(leaves[i], i, n, p, root)).toBe(true);
        if (p.length > 0) {
          const bad = p.map((h) => h.slice());
          bad[p.length - 1][5] ^= 1;
          expect(verifyInclusion(leaves[i], i, n, bad, root)).toBe(false);
        }
      }
      for (let m = 1; m <= n; m += 5) {
        const p = await consistencyProof(read, m, n);
        expect(verifyConsistency(m, n, await treeHash(read, m), root, p)).toBe(true);
        if (m < n) expect(verifyConsistency(m, n, await treeHash(read, m), leaves[0], p)).toBe(false);
      }
    }
  });

  it("the empty tree's root is SHA-256 of nothing", async () => {
    expect(Buffer.from(EMPTY_ROOT).toString("hex")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(await treeHash(read, 0)).toEqual(EMPTY_ROOT);
  });
});

describe("tlog-tiles layout", () => {
  it("encodes tile indices with x-prefixed 3-digit groups (the spec's example)", () => {
    expect(encodeTileIndex(1234067)).toBe("x001/x234/067");
    expect(encodeTileIndex(0)).toBe("000");
    expect(encodeTileIndex(1000)).toBe("x001/000");
    expect(tilePath(0, 1234067)).toBe("tile/0/x001/x234/067");
    expect(tilePath(2, 5, 17)).toBe("tile/2/005.p/17");
    expect(entryBundlePath(3, 1)).toBe("tile/entries/003.p/1");
    expect(() => tilePath(0, 1, 0)).toThrow();
    expect(() => tilePath(64, 1)).toThrow();
  });

  it("entry bundles are uint16-length-prefixed entries", () => {
    const e = [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array(300).fill(7)];
    const b = encodeEntryBundle(e);
    expect(Array.from(b.subarray(0, 5))).toEqual([0, 3, 1, 2, 3]);
    expect(decodeEntryBundle(b)).toEqual(e);
    expect(() => decodeEntryBundle(b.subarray(0, b.length - 1))).toThrow(/truncated/);
  });

  it("a tile reader over the spec's 70,000-leaf example reads the partial tiles for the root and proves from tiles", async () => {
    // 70,000 leaves: 273 full level-0 tiles, a level-0 partial of 112, a full level-1 tile,
    // a level-1 partial of 17, a level-2 partial of 1 (the spec's example).
    const n = 70000;
    const lv = Array.from({ length: n }, (_, i) => leafHash(new Uint8Array([i & 255, (i >> 8) & 255, i >> 16])));
    const mem = memoryReader(lv);
    const fetched: string[] = [];
    const source = async (p: string): Promise<Uint8Array> => {
      fetched.push(p);
      const m = /^tile\/(\d+)\/(.+?)(?:\.p\/(\d+))?$/.exec(p);
      if (!m) throw new Error(p);
      const level = Number(m[1]);
      const idx = Number(m[2].replace(/x/g, "").replace(/\//g, ""));
      const w = m[3] ? Number(m[3]) : 256;
      const out = new Uint8Array(w * 32);
      for (let i = 0; i < w; i++) out.set(await mem(level * 8, idx * 256 + i), i * 32);
      return out;
    };
    const read = tileReader(source, n);
    const root = await treeHash(read, n);
    // The root needs only the right edge: the partial tile of each level.
    expect(fetched.sort()).toEqual(["tile/0/273.p/112", "tile/1/001.p/17", "tile/2/000.p/1"]);
    const p = await inclusionProof(read, 12345, n);
    expect(verifyInclusion(lv[12345], 12345, n, p, root)).toBe(true);
    const c = await consistencyProof(read, 256, n);
    expect(verifyConsistency(256, n, await mem(8, 0), root, c)).toBe(true);
  });
});
