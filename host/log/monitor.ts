// A log monitor: follows a log, checks each new checkpoint is signed and consistent with the
// last one it saw, re-derives the root from the new entries (so the entries it reads are the
// ones in the tree), and reports every entry signed by a watched key that is not one of the
// expected releases. State: one JSON file (size, root, and the compact range of the tree).
import { existsSync } from "node:fs";
import { readJsonFile, replaceFile } from "./state-file.js";
import { FwsealError } from "../errors.js";
import { CompactRange, consistencyProof, leafHash, verifyConsistency } from "./merkle.js";
import { tileReader, type TileSource } from "./tiles.js";
import { openCheckpoint } from "./checkpoint.js";
import { readEntries } from "./log-store.js";
import type { NoteKey } from "./note.js";
import { decodeLogEntry, type LogEntry } from "../../formats/host-only/log-proof.js";

/** What a monitor remembers between runs. */
export interface MonitorState {
  format: "fwseal-monitor/v1";
  origin: string;
  size: number;
  root: string; // base64
  range: string[]; // compact range hashes, base64
}

/** One entry signed by a watched key. */
export interface WatchedEntry {
  index: number;
  entry: LogEntry;
  watchedKeyIds: string[]; // hex
  expected: boolean;
}

/** A monitor run's findings. */
export interface MonitorReport {
  origin: string;
  previousSize: number;
  size: number;
  root: string; // hex
  entriesChecked: number;
  watched: WatchedEntry[];
  unexpected: WatchedEntry[];
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Reads the state file, or null if there is none yet. */
export function readMonitorState(file: string): MonitorState | null {
  if (!existsSync(file)) return null;
  const s = readJsonFile(file, "a monitor state file") as MonitorState;
  if (s?.format !== "fwseal-monitor/v1") throw new FwsealError("INPUT_UNREADABLE", `${file}: not a monitor state file`);
  return s;
}

/**
 * One pass: fetch the checkpoint, verify it and its consistency with the state, read the
 * entries added since, and judge them. `expected` holds hex manifest or envelope digests
 * of the releases the owner made; `watch` hex key IDs. Updates the state file if given.
 * Throws if the log misbehaves (bad signature, inconsistent history, entries not in the tree).
 */
export async function monitorLog(opts: {
  source: TileSource;
  logKey: NoteKey;
  watch: readonly string[];
  expected: ReadonlySet<string>;
  stateFile?: string;
}): Promise<MonitorReport> {
  const note = new TextDecoder().decode(await opts.source("checkpoint"));
  const { checkpoint: cp } = openCheckpoint(note, opts.logKey);
  const prev = opts.stateFile ? readMonitorState(opts.stateFile) : null;
  const range = prev ? new CompactRange(prev.size, prev.range.map((h) => new Uint8Array(Buffer.from(h, "base64")))) : new CompactRange();
  if (prev) {
    if (prev.origin !== cp.origin) throw new Error(`state is for log ${prev.origin}, not ${cp.origin}`);
    if (cp.size < prev.size) throw new Error(`log rolled back: size ${cp.size} after ${prev.size}`);
    const oldRoot = new Uint8Array(Buffer.from(prev.root, "base64"));
    const proof = cp.size > prev.size && prev.size > 0 ? await consistencyProof(tileReader(opts.source, cp.size), prev.size, cp.size) : [];
    if (prev.size > 0 && !verifyConsistency(prev.size, cp.size, oldRoot, cp.root, proof)) throw new Error(`log fork: checkpoint of size ${cp.size} is inconsistent with the one of size ${prev.size} seen before`);
  }
  const from = range.size;
  const entries = await readEntries(opts.source, cp.size, from, cp.size);
  for (const e of entries) range.append(leafHash(e));
  if (range.size !== cp.size || hex(range.root()) !== hex(cp.root)) throw new Error(`the log's entries ${from}..${cp.size} do not hash to the checkpoint's root`);
  const watch = new Set(opts.watch.map((k) => k.toLowerCase()));
  const watched: WatchedEntry[] = [];
  entries.forEach((bytes, i) => {
    let entry: LogEntry;
    try {
      entry = decodeLogEntry(bytes);
    } catch {
      return; // not a release entry: nothing a device would accept
    }
    const hits = entry.signerKeyIds.map(hex).filter((k) => watch.has(k));
    if (hits.length === 0) return;
    const expected = opts.expected.has(hex(entry.manifestDigest)) || opts.expected.has(hex(entry.envelopeDigest));
    watched.push({ index: from + i, entry, watchedKeyIds: hits, expected });
  });
  if (opts.stateFile) {
    const s: MonitorState = {
      format: "fwseal-monitor/v1",
      origin: cp.origin,
      size: cp.size,
      root: Buffer.from(cp.root).toString("base64"),
      range: range.hashes.map((h) => Buffer.from(h).toString("base64"))
    };
    replaceFile(opts.stateFile, JSON.stringify(s, null, 2) + "\n");
  }
  return { origin: cp.origin, previousSize: from, size: cp.size, root: hex(cp.root), entriesChecked: entries.length, watched, unexpected: watched.filter((w) => !w.expected) };
}
