// Releases in the log: the entry the log records for a bundle, finding a bundle's entry in
// a published log, and attaching the log proof to the bundle file (the envelope's
// unprotected header; every signed byte and every chunk unchanged).
import { readFileSync } from "node:fs";
import { FwsealError, inputError } from "../errors.js";
import { Reason } from "../../formats/device-safe/reasons.js";
import { decodeItem } from "../../formats/host-only/cbor-decode.js";
import { concatBytes } from "../../formats/host-only/cbor-encode.js";
import { decodeCanonical } from "../../formats/host-only/cbor-decode.js";
import { manifestFromCbor } from "../../formats/host-only/manifest.js";
import {
  attachLogProof, encodeLogEntry, encodeLogProof, envelopeLogFacts, decodeLogEntry, type LogEntry, type LogProof
} from "../../formats/host-only/log-proof.js";
import { openCheckpoint } from "./checkpoint.js";
import { inclusionProof, leafHash, verifyInclusion } from "./merkle.js";
import { tileReader, type TileSource } from "./tiles.js";
import { readEntries } from "./log-store.js";
import type { NoteKey } from "./note.js";

/** A bundle file split into its envelope and the chunks after it. */
export interface BundleParts {
  envelope: Uint8Array;
  rest: Uint8Array;
}

/** Not a bundle's envelope: a rejection of the file, with the decoder's words. */
function notABundle(file: string, e: unknown): FwsealError {
  if (e instanceof FwsealError) return e;
  return new FwsealError("BUNDLE_REJECTED", `${file}: not a bundle's envelope (${(e as Error).message})`, { reason: Reason.MALFORMED, chunk: -1 });
}

/** Reads a bundle file and splits it after the envelope. */
export function readBundleParts(file: string): BundleParts {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file)); // a directory: EISDIR, reported as such
  } catch (e) {
    throw inputError(file, e);
  }
  try {
    const { end } = decodeItem(bytes, 0, { lenient: true });
    const envelope = bytes.subarray(0, end);
    envelopeLogFacts(envelope); // a COSE envelope, not any CBOR item: refused here as a bundle, not later as a log's fault
    return { envelope, rest: bytes.subarray(end) };
  } catch (e) {
    throw notABundle(file, e);
  }
}

/** The log entry of a release: digests, signer key IDs, manifest summary, and `loggedAt`. */
export function releaseEntry(envelope: Uint8Array, loggedAt: number): LogEntry {
  const f = envelopeLogFacts(envelope);
  const m = manifestFromCbor(decodeCanonical(f.payload) as never);
  if (!m.vendorId || !m.classId || m.sequence === undefined) throw new Error("the manifest lacks vendor-id, class-id or sequence");
  return {
    manifestDigest: f.manifestDigest,
    signerKeyIds: f.signerKeyIds,
    envelopeDigest: f.envelopeDigest,
    vendorId: m.vendorId,
    classId: m.classId,
    sequence: m.sequence,
    version: m.version ?? "",
    loggedAt
  };
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/**
 * The log proof of `envelope` in the log published at `source`: the entry with the same
 * envelope digest (the last one, if logged twice), its inclusion path to the published
 * checkpoint, and that checkpoint with every signature it carries. Throws if the bundle is
 * not in the checkpoint's tree.
 */
export async function findLogProof(source: TileSource, logKey: NoteKey, envelope: Uint8Array): Promise<LogProof & { checkpointSize: number }> {
  const noteBytes = await source("checkpoint");
  const { checkpoint: cp } = openCheckpoint(noteBytes, logKey);
  const want = hex(envelopeLogFacts(envelope).envelopeDigest);
  const entries = await readEntries(source, cp.size, 0, cp.size);
  let index = -1;
  entries.forEach((e, i) => {
    try {
      if (hex(decodeLogEntry(e).envelopeDigest) === want) index = i;
    } catch {
      // not a release entry
    }
  });
  if (index < 0) throw new Error(`the bundle is not in the log's checkpoint of size ${cp.size} (run fwseal log append and publish first)`);
  const path = await inclusionProof(tileReader(source, cp.size), index, cp.size);
  if (!verifyInclusion(leafHash(entries[index]), index, cp.size, path, cp.root)) throw new Error("the log's tiles do not prove the entry into its checkpoint");
  return { entry: entries[index], leafIndex: index, path, checkpoint: noteBytes, checkpointSize: cp.size };
}

/** The bundle bytes with `proof` attached to its envelope. */
export function bundleWithProof(parts: BundleParts, proof: LogProof): Uint8Array {
  return concatBytes(attachLogProof(parts.envelope, encodeLogProof(proof)), parts.rest);
}

/** The entry bytes a log appends for a bundle file. */
export function entryBytesForBundle(file: string, loggedAt: number): Uint8Array {
  const { envelope } = readBundleParts(file);
  try {
    return encodeLogEntry(releaseEntry(envelope, loggedAt));
  } catch (e) {
    throw notABundle(file, e);
  }
}
