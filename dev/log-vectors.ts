// Golden-vector material for transparency-log proofs (formats/SPEC.md §14): a deterministic
// log of six entries held in memory, its checkpoint signed by a fixed log key and cosigned by
// fixed witness keys at fixed times, and the envelope with its log proof attached.
import { keyPairFromSeed } from "../host/keys/keys.js";
import { NoteSigType, noteSigningKey, formatNote, signNoteText, type NoteSigningKey } from "../host/log/note.js";
import { formatCheckpoint } from "../host/log/checkpoint.js";
import { cosign } from "../host/log/cosignature.js";
import { inclusionProof, leafHash, memoryReader, treeHash } from "../host/log/merkle.js";
import { releaseEntry } from "../host/log/release.js";
import { logPolicyFor } from "../host/log/device-policy.js";
import { attachLogProof, encodeLogEntry, encodeLogProof } from "../formats/host-only/log-proof.js";

/** The vector log's origin, and its key and the two witnesses' keys (fixed seeds). */
export const LOG_VECTOR_ORIGIN = "log.fwseal.example/vectors";
const key = (name: string, type: number, seed: number): NoteSigningKey => noteSigningKey(name, type, keyPairFromSeed(new Uint8Array(32).fill(seed)).privateKey);
export const LOG_VECTOR_KEYS = {
  log: key(LOG_VECTOR_ORIGIN, NoteSigType.ED25519, 0x4c),
  witnesses: [key("witness.fwseal.example/w1", NoteSigType.COSIGNATURE_V1, 0x57), key("witness.fwseal.example/w2", NoteSigType.COSIGNATURE_V1, 0x58)]
};

/** The log policy of the vectors (hex key records), with a quorum of `quorum` witnesses. */
export function vectorLogPolicy(quorum: number): { logKeys: string; logKeyCount: number; witnessKeys: string; witnessKeyCount: number; witnessQuorum: number } {
  const p = logPolicyFor([LOG_VECTOR_KEYS.log], LOG_VECTOR_KEYS.witnesses, quorum);
  const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
  return { logKeys: hex(p.logKeys), logKeyCount: p.logKeyCount, witnessKeys: hex(p.witnessKeys), witnessKeyCount: p.witnessKeyCount, witnessQuorum: p.witnessQuorum };
}

/**
 * `envelope` with the log proof of its entry (index 3 of 6) attached; `witnesses` of the two
 * cosign; `path` may edit the inclusion path (invalid vectors).
 */
export async function loggedEnvelope(envelope: Uint8Array, now: number, witnesses: number, path: (p: Uint8Array[]) => Uint8Array[] = (p) => p): Promise<Uint8Array> {
  const release = releaseEntry(envelope, now - 3600);
  const filler = (i: number) => encodeLogEntry({ ...release, manifestDigest: new Uint8Array(32).fill(i), envelopeDigest: new Uint8Array(32).fill(i), sequence: i, loggedAt: now - 7200 + i });
  const entries = [filler(1), filler(2), filler(3), encodeLogEntry(release), filler(5), filler(6)];
  const read = memoryReader(entries.map(leafHash));
  const root = await treeHash(read, entries.length);
  const text = formatCheckpoint({ origin: LOG_VECTOR_ORIGIN, size: entries.length, root });
  const sigs = [signNoteText(text, LOG_VECTOR_KEYS.log), ...LOG_VECTOR_KEYS.witnesses.slice(0, witnesses).map((w, i) => cosign(text, w, now - 600 + i))];
  const note = new TextEncoder().encode(formatNote({ text, signatures: sigs }));
  const proof = encodeLogProof({ entry: entries[3], leafIndex: 3, path: path(await inclusionProof(read, 3, entries.length)), checkpoint: note });
  return attachLogProof(envelope, proof);
}
