// C2SP tlog-tiles layout (c2sp.org/tlog-tiles): resource paths of tiles and entry bundles,
// entry-bundle encoding, and a SubtreeReader that computes any complete subtree's hash from
// tiles fetched through a caller's TileSource (a directory, or HTTP). Tiles have height 8:
// a tile at level L holds up to 256 hashes of complete subtrees of 256^L leaves.
import { nodeHash, type SubtreeReader } from "./merkle.js";

/** Hashes in a full tile (and entries in a full entry bundle). */
export const TILE_WIDTH = 256;
/** Tree levels one tile spans. */
export const TILE_HEIGHT = 8;
const HASH = 32;

/**
 * A tile index as path elements: zero-padded 3-digit groups, every group but the last
 * prefixed with "x" (1234067 -> "x001/x234/067").
 */
export function encodeTileIndex(n: number): string {
  if (!(Number.isSafeInteger(n) && n >= 0)) throw new RangeError(`bad tile index ${n}`);
  const groups: string[] = [];
  let v = n;
  do {
    groups.unshift(String(v % 1000).padStart(3, "0"));
    v = Math.floor(v / 1000);
  } while (v > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? "x" + g : g)).join("/");
}

function widthSuffix(width: number): string {
  if (width === TILE_WIDTH) return "";
  if (!(Number.isInteger(width) && width >= 1 && width < TILE_WIDTH)) throw new RangeError(`bad tile width ${width}`);
  return `.p/${width}`;
}

/** Path of the Merkle tile at `level`, index `n`, `width` hashes (256: full). */
export function tilePath(level: number, n: number, width = TILE_WIDTH): string {
  if (!(Number.isInteger(level) && level >= 0 && level <= 63)) throw new RangeError(`bad tile level ${level}`);
  return `tile/${level}/${encodeTileIndex(n)}${widthSuffix(width)}`;
}

/** Path of entry bundle `n` holding `width` entries (256: full). */
export function entryBundlePath(n: number, width = TILE_WIDTH): string {
  return `tile/entries/${encodeTileIndex(n)}${widthSuffix(width)}`;
}

/** Width of the rightmost tile at `level` for a tree of `size` leaves (0: none). */
export function partialWidth(level: number, size: number): number {
  return Math.floor(size / TILE_WIDTH ** level) % TILE_WIDTH;
}

/** An entry bundle: each entry as a big-endian uint16 length and its bytes. */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  let len = 0;
  for (const e of entries) {
    if (e.length > 0xffff) throw new RangeError("a log entry is at most 65535 bytes");
    len += 2 + e.length;
  }
  const out = new Uint8Array(len);
  let o = 0;
  for (const e of entries) {
    out[o] = e.length >> 8;
    out[o + 1] = e.length & 255;
    out.set(e, o + 2);
    o += 2 + e.length;
  }
  return out;
}

/** The entries of an entry bundle; throws on a truncated bundle. */
export function decodeEntryBundle(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let o = 0;
  while (o < bytes.length) {
    if (o + 2 > bytes.length) throw new Error("entry bundle truncated in a length");
    const n = (bytes[o] << 8) | bytes[o + 1];
    if (o + 2 + n > bytes.length) throw new Error("entry bundle truncated in an entry");
    out.push(bytes.subarray(o + 2, o + 2 + n));
    o += 2 + n;
  }
  return out;
}

/** Reads a published resource by its path under the log's prefix ("tile/0/000"). */
export type TileSource = (path: string) => Promise<Uint8Array>;

/** The hashes of one tile. */
function splitHashes(bytes: Uint8Array, width: number, what: string): Uint8Array[] {
  if (bytes.length !== width * HASH) throw new Error(`${what}: ${bytes.length} bytes, expected ${width * HASH}`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < width; i++) out.push(bytes.subarray(i * HASH, (i + 1) * HASH));
  return out;
}

/**
 * A SubtreeReader for a tree of `size` leaves that fetches the tiles it needs from `source`
 * (each tile once) and hashes the levels between tile levels.
 */
export function tileReader(source: TileSource, size: number): SubtreeReader & { tilesFetched: () => number } {
  const cache = new Map<string, Promise<Uint8Array[]>>();
  const tile = (level: number, n: number): Promise<Uint8Array[]> => {
    // Full if the tree covers all of it, else the partial tile of this tree size.
    const full = (n + 1) * TILE_WIDTH ** (level + 1) <= size;
    const width = full ? TILE_WIDTH : partialWidth(level, size);
    const p = tilePath(level, n, width);
    let t = cache.get(p);
    if (!t) {
      t = source(p).then((b) => splitHashes(b, width, p));
      cache.set(p, t);
    }
    return t;
  };
  // The levels inside a tile, computed once per tile: inner(level, n, b)[i] is the hash of
  // the complete subtree of 2^b tile hashes starting at hash i * 2^b of tile n.
  const innerCache = new Map<string, Promise<Uint8Array[]>>();
  const inner = (level: number, n: number, b: number): Promise<Uint8Array[]> => {
    const key = `${level}/${n}/${b}`;
    let p = innerCache.get(key);
    if (!p) {
      p = (b === 0 ? tile(level, n) : inner(level, n, b - 1).then((lower) => {
        const up: Uint8Array[] = [];
        for (let i = 0; i + 1 < lower.length; i += 2) up.push(nodeHash(lower[i], lower[i + 1]));
        return up;
      }));
      innerCache.set(key, p);
    }
    return p;
  };
  const read = async (height: number, index: number): Promise<Uint8Array> => {
    const level = Math.floor(height / TILE_HEIGHT);
    const b = height - level * TILE_HEIGHT; // levels above the tile's hashes
    const perTile = TILE_WIDTH / 2 ** b; // nodes of this height in one tile
    const n = Math.floor(index / perTile);
    const h = (await inner(level, n, b))[index - n * perTile];
    if (!h) throw new Error(`tile ${level}/${n} lacks node ${index} at height ${height}`);
    return h;
  };
  return Object.assign(read, { tilesFetched: () => cache.size });
}
