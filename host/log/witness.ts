// A witness (c2sp.org/tlog-witness semantics): it cosigns a log's checkpoint only after
// verifying that it extends the last checkpoint it cosigned for that log, so a log cannot
// show two different histories to two witnesses. State: one JSON file per witness.
import { existsSync } from "node:fs";
import { readJsonFile, replaceFile } from "./state-file.js";
import { FwsealError } from "../errors.js";
import { consistencyProof, verifyConsistency } from "./merkle.js";
import { tileReader, type TileSource } from "./tiles.js";
import { openCheckpoint, type Checkpoint } from "./checkpoint.js";
import { cosign } from "./cosignature.js";
import { formatNote, type NoteKey, type NoteSigningKey } from "./note.js";

/** What a witness remembers of each log: the last checkpoint it cosigned. */
export interface WitnessState {
  format: "fwseal-witness/v1";
  logs: Record<string, { size: number; root: string }>; // by origin; root in base64
}

/** Reads the state file, or an empty state if there is none yet. */
export function readWitnessState(file: string): WitnessState {
  if (!existsSync(file)) return { format: "fwseal-witness/v1", logs: {} };
  const s = readJsonFile(file, "a witness state file") as WitnessState;
  if (s?.format !== "fwseal-witness/v1") throw new FwsealError("INPUT_UNREADABLE", `${file}: not a witness state file`);
  return s;
}

function writeWitnessState(file: string, s: WitnessState): void {
  replaceFile(file, JSON.stringify(s, null, 2) + "\n");
}

/** Why a witness refused a checkpoint. */
export class WitnessRefusal extends Error {
  constructor(readonly kind: "fork" | "rollback" | "signature", message: string) {
    super(message);
    this.name = "WitnessRefusal";
  }
}

/** The result of cosigning: the checkpoint with the cosignature added, and what was checked. */
export interface WitnessResult {
  note: string; // the checkpoint note with this witness's cosignature line appended
  checkpoint: Checkpoint;
  previousSize: number | null;
  proofHashes: number;
}

/**
 * Checks `note` (a checkpoint of the log with key `logKey`) against the witness's state:
 * signed by the log, not smaller than the last cosigned one, and consistent with it (a
 * consistency proof built from the log's tiles, verified against both signed roots). Then
 * cosigns it at `now` and records it. Throws WitnessRefusal without cosigning otherwise.
 */
export async function witnessCheckpoint(opts: {
  note: string;
  logKey: NoteKey;
  source: TileSource;
  witnessKey: NoteSigningKey;
  stateFile: string;
  now: number;
}): Promise<WitnessResult> {
  let opened;
  try {
    opened = openCheckpoint(opts.note, opts.logKey);
  } catch (e) {
    throw new WitnessRefusal("signature", (e as Error).message);
  }
  const cp = opened.checkpoint;
  const state = readWitnessState(opts.stateFile);
  const prev = state.logs[cp.origin];
  let proofHashes = 0;
  if (prev) {
    const oldRoot = new Uint8Array(Buffer.from(prev.root, "base64"));
    if (cp.size < prev.size) throw new WitnessRefusal("rollback", `checkpoint of size ${cp.size} is older than the cosigned size ${prev.size}`);
    let proof: Uint8Array[] = [];
    if (cp.size > prev.size && prev.size > 0) {
      try {
        proof = await consistencyProof(tileReader(opts.source, cp.size), prev.size, cp.size);
      } catch (e) {
        throw new WitnessRefusal("fork", `no consistency proof from size ${prev.size} to ${cp.size}: ${(e as Error).message}`);
      }
    }
    proofHashes = proof.length;
    if (prev.size > 0 && !verifyConsistency(prev.size, cp.size, oldRoot, cp.root, proof)) {
      throw new WitnessRefusal("fork", `log fork: checkpoint of size ${cp.size} is not consistent with the cosigned checkpoint of size ${prev.size}`);
    }
  }
  const line = cosign(opened.note.text, opts.witnessKey, opts.now);
  state.logs[cp.origin] = { size: cp.size, root: Buffer.from(cp.root).toString("base64") };
  writeWitnessState(opts.stateFile, state);
  return {
    note: formatNote({ text: opened.note.text, signatures: [...opened.note.signatures, line] }),
    checkpoint: cp,
    previousSize: prev ? prev.size : null,
    proofHashes
  };
}
