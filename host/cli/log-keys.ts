// Key arguments of the transparency-log commands: a note signing key from an Ed25519 PEM and
// a name, and a verifier key (vkey) given as the string or as a file holding it.
import { existsSync, readFileSync } from "node:fs";
import { loadPrivateKey } from "../keys/keys.js";
import { noteSigningKey, parseVerifierKey, type NoteKey, type NoteSigningKey } from "../log/note.js";
import { FwsealError } from "../errors.js";

/** A note signing key of `type` from the PEM at `keyFile`, named `name`. */
export async function loadNoteSigningKey(keyFile: string, name: string, type: number): Promise<NoteSigningKey> {
  const pk = await loadPrivateKey(keyFile);
  try {
    return noteSigningKey(name, type, pk);
  } catch (e) {
    throw new FwsealError("USAGE", (e as Error).message);
  }
}

/** A vkey from its text or from a file holding it. */
export function loadVerifierKey(arg: string): NoteKey {
  const text = existsSync(arg) ? readFileSync(arg, "utf8").trim() : arg;
  try {
    return parseVerifierKey(text);
  } catch (e) {
    throw new FwsealError("KEY_CORRUPT", `${(e as Error).message} (${arg})`);
  }
}
