// A transparency log kept in a directory: log.json (origin, log public key, size) beside
// public/, the static files any web server publishes as they are (c2sp.org/tlog-tiles):
// public/checkpoint and public/tile/... Appending writes the leaf hashes into tiles and the
// entries into entry bundles; publishing signs a checkpoint for the current size.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { readJsonFile, replaceFile } from "./state-file.js";
import { FwsealError, outputError } from "../errors.js";
import { leafHash, nodeHash, treeHash, inclusionProof, consistencyProof } from "./merkle.js";
import { TILE_WIDTH, tilePath, entryBundlePath, partialWidth, encodeEntryBundle, decodeEntryBundle, tileReader, type TileSource } from "./tiles.js";
import { signCheckpoint, openCheckpoint, formatCheckpoint, type SignedCheckpoint } from "./checkpoint.js";
import { formatNote, parseNote, NoteSigType, formatVerifierKey, type NoteKey, type NoteSigningKey } from "./note.js";

/** The log's own record of itself (not published). */
export interface LogConfig {
  format: "fwseal-log/v1";
  origin: string; // checkpoint origin = the log key's name
  publicKey: string; // hex, Ed25519
  size: number; // entries appended
}

const CONFIG = "log.json";
/** Folder under the log directory whose files are published as they are. */
export const PUBLIC_DIR = "public";

/** The log's note key (for verifying its checkpoints). */
export function logKeyOf(cfg: LogConfig): NoteKey {
  return { name: cfg.origin, type: NoteSigType.ED25519, publicKey: new Uint8Array(Buffer.from(cfg.publicKey, "hex")) };
}

/** Reads log.json. */
export function readLogConfig(dir: string): LogConfig {
  const p = path.join(dir, CONFIG);
  if (!existsSync(p)) throw new FwsealError("INPUT_MISSING", `${dir} is not a log (no ${CONFIG}; run fwseal log init)`);
  const c = readJsonFile(p, "an fwseal log") as LogConfig;
  if (c?.format !== "fwseal-log/v1") throw new FwsealError("INPUT_UNREADABLE", `${p}: not an fwseal log`);
  return c;
}

function writeLogConfig(dir: string, c: LogConfig): void {
  const p = path.join(dir, CONFIG);
  // rename is atomic: a crash leaves the old size, and tiles beyond it are rewritten.
  replaceFile(p, JSON.stringify(c, null, 2) + "\n");
}

/** Creates an empty log in `dir` (which must not hold one) and publishes its empty checkpoint. */
export function initLog(dir: string, logKey: NoteSigningKey): LogConfig {
  if (existsSync(path.join(dir, CONFIG))) throw new FwsealError("OUTPUT_EXISTS", `${dir}: already holds a log`);
  try {
    mkdirSync(path.join(dir, PUBLIC_DIR), { recursive: true });
  } catch (e) {
    throw outputError(dir, e);
  }
  const cfg: LogConfig = { format: "fwseal-log/v1", origin: logKey.name, publicKey: Buffer.from(logKey.publicKey).toString("hex"), size: 0 };
  writeLogConfig(dir, cfg);
  replaceFile(path.join(dir, PUBLIC_DIR, "vkey"), formatVerifierKey(logKey) + "\n");
  return cfg;
}

/** A TileSource reading a published folder. */
export function folderSource(publicDir: string): TileSource {
  return async (p) => {
    try {
      return new Uint8Array(readFileSync(path.join(publicDir, p)));
    } catch {
      throw new Error(`log resource ${p} not found`);
    }
  };
}

/** Hash of a full tile's 256 hashes (the complete subtree they are the bottom of). */
function fullTileHash(hashes: Uint8Array[]): Uint8Array {
  let level = hashes;
  while (level.length > 1) {
    const up: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) up.push(nodeHash(level[i], level[i + 1]));
    level = up;
  }
  return level[0];
}

/** What an append did. */
export interface AppendResult {
  firstIndex: number;
  size: number;
  bytesWritten: number; // tile and entry-bundle bytes
  filesWritten: number;
}

/** Appends entries to the log in `dir`: their leaf indices are firstIndex, firstIndex + 1, ... */
export function appendEntries(dir: string, entries: readonly Uint8Array[]): AppendResult {
  const cfg = readLogConfig(dir);
  const pub = path.join(dir, PUBLIC_DIR);
  let bytes = 0;
  let files = 0;
  const write = (rel: string, data: Uint8Array): void => {
    const f = path.join(pub, rel);
    try {
      mkdirSync(path.dirname(f), { recursive: true });
      writeFileSync(f, data);
    } catch (e) {
      throw outputError(f, e);
    }
    bytes += data.length;
    files++;
  };
  const readHashes = (rel: string, width: number): Uint8Array[] => {
    const b = readFileSync(path.join(pub, rel));
    if (b.length !== width * 32) throw new Error(`${rel}: wrong size`);
    const out: Uint8Array[] = [];
    for (let i = 0; i < width; i++) out.push(new Uint8Array(b.subarray(i * 32, i * 32 + 32)));
    return out;
  };
  const first = cfg.size;
  let size = cfg.size;
  // The right edge: the partial tile of every level, and the partial entry bundle.
  const levels: Uint8Array[][] = [];
  for (let l = 0; TILE_WIDTH ** l <= size; l++) {
    const w = partialWidth(l, size);
    levels.push(w > 0 ? readHashes(tilePath(l, Math.floor(size / TILE_WIDTH ** (l + 1)), w), w) : []);
  }
  const w0 = partialWidth(0, size);
  let bundle: Uint8Array[] = w0 > 0 ? decodeEntryBundle(new Uint8Array(readFileSync(path.join(pub, entryBundlePath(Math.floor(size / TILE_WIDTH), w0))))) : [];
  if (levels.length === 0) levels.push([]);
  for (const e of entries) {
    levels[0].push(leafHash(e));
    bundle.push(e);
    size++;
    if (bundle.length === TILE_WIDTH) {
      write(entryBundlePath(Math.floor((size - 1) / TILE_WIDTH)), encodeEntryBundle(bundle));
      bundle = [];
    }
    // A full tile is written and its hash moves up one tile level.
    for (let l = 0; l < levels.length && levels[l].length === TILE_WIDTH; l++) {
      const n = Math.floor((size - 1) / TILE_WIDTH ** (l + 1));
      write(tilePath(l, n), concat(levels[l]));
      if (l + 1 === levels.length) levels.push([]);
      levels[l + 1].push(fullTileHash(levels[l]));
      levels[l] = [];
    }
  }
  for (let l = 0; l < levels.length; l++) {
    const w = levels[l].length;
    if (w > 0 && size > first) write(tilePath(l, Math.floor(size / TILE_WIDTH ** (l + 1)), w), concat(levels[l]));
  }
  if (bundle.length > 0 && size > first) write(entryBundlePath(Math.floor(size / TILE_WIDTH), bundle.length), encodeEntryBundle(bundle));
  writeLogConfig(dir, { ...cfg, size });
  return { firstIndex: first, size, bytesWritten: bytes, filesWritten: files };
}

function concat(hashes: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(hashes.length * 32);
  hashes.forEach((h, i) => out.set(h, i * 32));
  return out;
}

/** Signs a checkpoint for the log's current size and publishes it (public/checkpoint). */
export async function publishCheckpoint(dir: string, logKey: NoteSigningKey): Promise<SignedCheckpoint> {
  const cfg = readLogConfig(dir);
  if (Buffer.from(logKey.publicKey).toString("hex") !== cfg.publicKey || logKey.name !== cfg.origin) {
    throw new FwsealError("KEY_WRONG_TYPE", "that key is not this log's key (name or public key differ)");
  }
  const pub = path.join(dir, PUBLIC_DIR);
  const root = await treeHash(tileReader(folderSource(pub), cfg.size), cfg.size);
  const note = signCheckpoint({ origin: cfg.origin, size: cfg.size, root }, logKey);
  replaceFile(path.join(pub, "checkpoint"), note);
  return openCheckpoint(note, logKeyOf(cfg));
}

/**
 * Adds cosignature lines to the published checkpoint: each of `cosigned` is the same
 * checkpoint text with more signature lines (as a witness returns it); lines already present
 * are not repeated. Returns the new note.
 */
export function mergeCosignatures(dir: string, cosigned: readonly string[]): string {
  const cfg = readLogConfig(dir);
  const file = path.join(dir, PUBLIC_DIR, "checkpoint");
  const current = openCheckpoint(readFileSync(file, "utf8"), logKeyOf(cfg));
  const sigs = [...current.note.signatures];
  const seen = new Set(sigs.map((s) => `${s.name} ${s.keyId}`));
  for (const c of cosigned) {
    const n = parseNote(c);
    if (n.text !== current.note.text) throw new Error("a cosigned checkpoint is not the published one (another tree size or root)");
    for (const s of n.signatures) {
      const k = `${s.name} ${s.keyId}`;
      if (!seen.has(k)) {
        seen.add(k);
        sigs.push(s);
      }
    }
  }
  const note = formatNote({ text: current.note.text, signatures: sigs });
  replaceFile(file, note);
  return note;
}

/** The entries [from, to) of a log of `size` entries, from its entry bundles. */
export async function readEntries(source: TileSource, size: number, from: number, to: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let n = Math.floor(from / TILE_WIDTH); n * TILE_WIDTH < to; n++) {
    const full = (n + 1) * TILE_WIDTH <= size;
    const bundle = decodeEntryBundle(await source(entryBundlePath(n, full ? TILE_WIDTH : partialWidth(0, size))));
    for (let i = 0; i < bundle.length; i++) {
      const idx = n * TILE_WIDTH + i;
      if (idx >= from && idx < to) out.push(bundle[i]);
    }
  }
  return out;
}

/** The inclusion proof of leaf `index` and the consistency proof from `from` to the tree of `size`. */
export async function proofsFor(source: TileSource, size: number, opts: { index?: number; from?: number }): Promise<{ inclusion?: Uint8Array[]; consistency?: Uint8Array[] }> {
  const read = tileReader(source, size);
  return {
    ...(opts.index !== undefined ? { inclusion: await inclusionProof(read, opts.index, size) } : {}),
    ...(opts.from !== undefined ? { consistency: await consistencyProof(read, opts.from, size) } : {})
  };
}

/** Checkpoint text for the log's current size (tests compare it with the published one). */
export async function currentCheckpointText(dir: string): Promise<string> {
  const cfg = readLogConfig(dir);
  const root = await treeHash(tileReader(folderSource(path.join(dir, PUBLIC_DIR)), cfg.size), cfg.size);
  return formatCheckpoint({ origin: cfg.origin, size: cfg.size, root });
}
