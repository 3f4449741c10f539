// How `fwseal inspect` shows a bundle's log proof: decoded, never judged (no keys here;
// `fwseal verify` with a log policy and the device decide).
import { readLogProof, decodeLogEntry } from "../../formats/host-only/log-proof.js";
import { parseNote } from "./note.js";
import { parseCheckpointText } from "./checkpoint.js";

/** A log proof as inspect shows it. */
export interface LogProofView {
  leafIndex: number;
  pathHashes: number;
  entry: { manifestDigest: string; envelopeDigest: string; signerKeyIds: string[]; sequence: number; version: string; loggedAt: number } | null;
  checkpoint: { origin: string; size: number; root: string } | null;
  signatures: { name: string; keyId: string; bytes: number }[];
  problems: string[];
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** The log proof carried by `envelope` (null: none), decoded for display. */
export function describeLogProof(envelope: Uint8Array): LogProofView | null {
  let p;
  try {
    p = readLogProof(envelope);
  } catch (e) {
    return { leafIndex: -1, pathHashes: 0, entry: null, checkpoint: null, signatures: [], problems: [`log proof unreadable: ${(e as Error).message}`] };
  }
  if (p === null) return null;
  const v: LogProofView = { leafIndex: p.leafIndex, pathHashes: p.path.length, entry: null, checkpoint: null, signatures: [], problems: [] };
  try {
    const e = decodeLogEntry(p.entry);
    v.entry = { manifestDigest: hex(e.manifestDigest), envelopeDigest: hex(e.envelopeDigest), signerKeyIds: e.signerKeyIds.map(hex), sequence: e.sequence, version: e.version, loggedAt: e.loggedAt };
  } catch (e) {
    v.problems.push((e as Error).message);
  }
  try {
    const n = parseNote(p.checkpoint);
    const c = parseCheckpointText(n.text);
    v.checkpoint = { origin: c.origin, size: c.size, root: hex(c.root) };
    v.signatures = n.signatures.map((s) => ({ name: s.name, keyId: s.keyId.toString(16).padStart(8, "0"), bytes: s.signature.length }));
  } catch (e) {
    v.problems.push((e as Error).message);
  }
  return v;
}
