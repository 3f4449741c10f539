// A logged release built in-process: a bundle, a log directory with it and two other entries,
// two witnesses' cosignatures merged into the checkpoint, and the bundle with its log proof
// attached; plus the device log policy that trusts that log and those witnesses.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { appendEntries, folderSource, initLog, mergeCosignatures, publishCheckpoint, PUBLIC_DIR } from "../../host/log/log-store.js";
import { NoteSigType, noteSigningKey, type NoteSigningKey } from "../../host/log/note.js";
import { witnessCheckpoint } from "../../host/log/witness.js";
import { bundleWithProof, findLogProof, releaseEntry } from "../../host/log/release.js";
import { logPolicyFor } from "../../host/log/device-policy.js";
import { encodeLogEntry } from "../../formats/host-only/log-proof.js";
import { decodeItem } from "../../formats/host-only/cbor-decode.js";
import { keyPairFromSeed } from "../../host/keys/keys.js";
import type { LogPolicy } from "../../device-sim/core/verify/log-proof.js";

/** Deterministic note keys: the log's and two witnesses'. */
export const LOG_KEY = noteSigningKey("log.example/fw", NoteSigType.ED25519, keyPairFromSeed(new Uint8Array(32).fill(0x41)).privateKey);
export const WITNESS_KEYS: NoteSigningKey[] = [0x42, 0x43].map((b, i) =>
  noteSigningKey(`witness.example/w${i + 1}`, NoteSigType.COSIGNATURE_V1, keyPairFromSeed(new Uint8Array(32).fill(b)).privateKey));

/** A logged release: the bundle without and with its proof, and the device policy. */
export interface LoggedRelease {
  bare: Uint8Array;
  logged: Uint8Array;
  policy: Required<LogPolicy>;
  leafIndex: number;
  pathHashes: number;
}

/**
 * Logs `bundle` as entry `before` of a log with `before + after` other entries, has both
 * witnesses cosign, and attaches the proof (`witnesses`: how many of them cosign).
 */
export async function logRelease(bundle: Uint8Array, opts: { before?: number; after?: number; witnesses?: number; quorum?: number } = {}): Promise<LoggedRelease> {
  const dir = mkdtempSync(path.join(tmpdir(), "fwseal-logfix-"));
  const ws = path.join(dir, "w");
  try {
    const { end } = decodeItem(bundle, 0, { lenient: true });
    const parts = { envelope: bundle.subarray(0, end), rest: bundle.subarray(end) };
    const filler = (i: number) => {
      const e = releaseEntry(parts.envelope, 1_700_000_000);
      return encodeLogEntry({ ...e, manifestDigest: new Uint8Array(32).fill(i), envelopeDigest: new Uint8Array(32).fill(i), sequence: i });
    };
    initLog(dir, LOG_KEY);
    const before = opts.before ?? 2;
    const after = opts.after ?? 2;
    appendEntries(dir, [
      ...Array.from({ length: before }, (_, i) => filler(i + 1)),
      encodeLogEntry(releaseEntry(parts.envelope, 1_700_000_100)),
      ...Array.from({ length: after }, (_, i) => filler(before + i + 2))
    ]);
    await publishCheckpoint(dir, LOG_KEY);
    const src = folderSource(path.join(dir, PUBLIC_DIR));
    const notes: string[] = [];
    for (let i = 0; i < (opts.witnesses ?? 2); i++) {
      const note = readFileSync(path.join(dir, PUBLIC_DIR, "checkpoint"), "utf8");
      notes.push((await witnessCheckpoint({ note, logKey: LOG_KEY, source: src, witnessKey: WITNESS_KEYS[i], stateFile: `${ws}${i}.json`, now: 1_700_000_200 + i })).note);
    }
    if (notes.length) mergeCosignatures(dir, notes);
    const proof = await findLogProof(src, LOG_KEY, parts.envelope);
    return {
      bare: bundle,
      logged: bundleWithProof(parts, proof),
      policy: logPolicyFor([LOG_KEY], WITNESS_KEYS, opts.quorum ?? 2),
      leafIndex: proof.leafIndex,
      pathHashes: proof.path.length
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
