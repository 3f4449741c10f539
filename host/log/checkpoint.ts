// C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint): the note text "<origin>\n<size>\n<base64
// root hash>\n" plus optional extension lines, signed by the log's Ed25519 note key.
import { formatNote, parseNote, signNoteText, verifyNoteSignature, type Note, type NoteKey, type NoteSigningKey } from "./note.js";

/** A checkpoint's body. */
export interface Checkpoint {
  origin: string;
  size: number;
  root: Uint8Array;
  extensions?: string[];
}

/** The checkpoint note text. */
export function formatCheckpoint(c: Checkpoint): string {
  if (c.origin.length === 0 || c.origin.includes("\n")) throw new Error("bad checkpoint origin");
  if (c.root.length !== 32) throw new Error("a checkpoint root hash is 32 bytes");
  const ext = (c.extensions ?? []).map((l) => l + "\n").join("");
  return `${c.origin}\n${c.size}\n${Buffer.from(c.root).toString("base64")}\n${ext}`;
}

/** Parses a checkpoint note text (not its signatures). */
export function parseCheckpointText(text: string): Checkpoint {
  const lines = text.split("\n");
  if (lines.length < 4 || lines[lines.length - 1] !== "") throw new Error("checkpoint: fewer than three lines");
  const [origin, sizeText, rootText] = lines;
  if (origin.length === 0) throw new Error("checkpoint: empty origin");
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) throw new Error("checkpoint: bad tree size");
  const root = Buffer.from(rootText, "base64");
  if (root.length !== 32 || root.toString("base64") !== rootText) throw new Error("checkpoint: bad root hash");
  const extensions = lines.slice(3, -1);
  if (extensions.some((l) => l.length === 0)) throw new Error("checkpoint: empty extension line");
  return { origin, size: Number(sizeText), root: new Uint8Array(root), ...(extensions.length ? { extensions } : {}) };
}

/** A signed checkpoint: the parsed note and its body. */
export interface SignedCheckpoint {
  note: Note;
  checkpoint: Checkpoint;
}

/** Signs the checkpoint with the log key: the note. */
export function signCheckpoint(c: Checkpoint, logKey: NoteSigningKey): string {
  const text = formatCheckpoint(c);
  return formatNote({ text, signatures: [signNoteText(text, logKey)] });
}

/**
 * Opens a checkpoint note: the log key must have signed it, and its origin must be the log
 * key's name. Throws with the problem otherwise.
 */
export function openCheckpoint(note: Uint8Array | string, logKey: NoteKey): SignedCheckpoint {
  const n = parseNote(note);
  if (!verifyNoteSignature(n, logKey)) throw new Error(`checkpoint: no valid signature by log key ${logKey.name}`);
  const checkpoint = parseCheckpointText(n.text);
  if (checkpoint.origin !== logKey.name) throw new Error(`checkpoint: origin "${checkpoint.origin}" is not the log key's name "${logKey.name}"`);
  return { note: n, checkpoint };
}
