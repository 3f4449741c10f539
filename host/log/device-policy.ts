// A device's log policy (device-sim/core/verify/log-proof.ts) from the log's and witnesses'
// verifier keys: each key becomes a record of its note key ID (4 bytes) and public key.
import { LOG_KEY_RECORD } from "../../formats/device-safe/limits.js";
import { keyIdBytes, noteKeyId, NoteSigType, type NoteKey } from "./note.js";
import type { LogPolicy } from "../../device-sim/core/verify/log-proof.js";
import { FwsealError } from "../errors.js";

function records(keys: readonly NoteKey[], type: number): Uint8Array {
  const out = new Uint8Array(keys.length * LOG_KEY_RECORD);
  keys.forEach((k, i) => {
    if (k.type !== type) throw new FwsealError("KEY_WRONG_TYPE", `key ${k.name} has signature type ${k.type}, expected ${type}`);
    out.set(keyIdBytes(noteKeyId(k.name, k.type, k.publicKey)), i * LOG_KEY_RECORD);
    out.set(k.publicKey, i * LOG_KEY_RECORD + 4);
  });
  return out;
}

/** The policy fields requiring bundles logged by one of `logKeys` and cosigned by `quorum` of `witnessKeys`. */
export function logPolicyFor(logKeys: readonly NoteKey[], witnessKeys: readonly NoteKey[], quorum: number): Required<LogPolicy> {
  return {
    logKeys: records(logKeys, NoteSigType.ED25519),
    logKeyCount: logKeys.length,
    witnessKeys: records(witnessKeys, NoteSigType.COSIGNATURE_V1),
    witnessKeyCount: witnessKeys.length,
    witnessQuorum: quorum
  };
}
