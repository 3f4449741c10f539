// Key arguments of the transparency-log commands: a note signing key from an Ed25519 PEM and
// a name, and a verifier key (vkey) given as the string or as a file holding it.
import { existsSync, readFileSync } from "node:fs";
import { loadPrivateKey } from "../keys/keys.js";
import { noteSigningKey, parseVerifierKey, NoteSigType, type NoteKey, type NoteSigningKey } from "../log/note.js";
import { logPolicyFor } from "../log/device-policy.js";
import type { LogPolicy } from "../../device-sim/core/verify/log-proof.js";
import { FwsealError } from "../errors.js";
import { parseUint } from "./key-options.js";

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

/** The log policy flags verify, extract, finalize and device-sim share. */
export interface LogPolicyArgs {
  "log-key"?: string[];
  "witness-key"?: string[];
  "witness-quorum"?: number;
}

/** A vkey of the kind a flag asks for: a log signs checkpoints with Ed25519 notes, a witness cosigns them (cosignature/v1). */
function verifierKeyOfType(arg: string, flag: string, type: number): NoteKey {
  const k = loadVerifierKey(arg);
  if (k.type === type) return k;
  const what = (t: number): string => (t === NoteSigType.ED25519 ? "a log's key (Ed25519 note signatures)" : t === NoteSigType.COSIGNATURE_V1 ? "a witness's key (cosignature/v1)" : `a key of signature type ${t}`);
  throw new FwsealError("KEY_WRONG_TYPE", `${flag} ${arg}: ${what(k.type)}, not ${what(type)}`);
}

/**
 * The device's log policy from --log-key, --witness-key and --witness-quorum (none without
 * --log-key). Witness flags without a log and a key of the other kind are refused here, in
 * the flags' words, before anything is read or created. (A quorum above the witness keys
 * given is the device's own verdict, WITNESS_QUORUM_NOT_MET, as a device configured so gives.)
 */
export function logPolicyFromArgs(a: LogPolicyArgs): { log?: Required<LogPolicy> } {
  const quorum = parseUint(a["witness-quorum"] ?? 0, "--witness-quorum") ?? 0;
  const witnesses = a["witness-key"] ?? [];
  if (!a["log-key"] || a["log-key"].length === 0) {
    if (witnesses.length > 0 || quorum > 0) throw new FwsealError("USAGE", "--witness-key and --witness-quorum are part of a log policy: add the log's --log-key");
    return {};
  }
  const logKeys = a["log-key"].map((k) => verifierKeyOfType(k, "--log-key", NoteSigType.ED25519));
  const witnessKeys = witnesses.map((k) => verifierKeyOfType(k, "--witness-key", NoteSigType.COSIGNATURE_V1));
  return { log: logPolicyFor(logKeys, witnessKeys, quorum) };
}

/** The last second an RFC 3339 time can name (9999-12-31T23:59:59Z). */
const LAST_SECOND = 253402300799;

/** A time flag given in seconds since 1970 (log append --time, witness --time). */
export function epochSecondsFlag(v: number, flag: string): number {
  if (!Number.isSafeInteger(v) || v < 0 || v > LAST_SECOND) throw new FwsealError("USAGE", `${flag} ${v}: seconds since 1970 are a whole number from 0 to ${LAST_SECOND} (9999-12-31T23:59:59Z)`);
  return v;
}
