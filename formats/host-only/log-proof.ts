// Transparency-log structures shared by the log tools and the bundle tools (formats/SPEC.md
// §14): the log entry of a release, the log proof a logged bundle carries, and putting that
// proof into (or taking it out of) an envelope's unprotected header without touching any
// signed byte.
import { CborTag, encodeCanonical, encodeHead, concatBytes, type Cbor, type CborMap } from "./cbor-encode.js";
import { decodeCanonical, decodeItem } from "./cbor-decode.js";
import { CoseTag, HeaderLabel, LogEntryKey, LogProofItem } from "../device-safe/labels.js";
import { Limits, MAX_LOG_PROOF_HASHES } from "../device-safe/limits.js";
import { defaultSha256 } from "./keyid.js";

/** What the log records of one release. */
export interface LogEntry {
  manifestDigest: Uint8Array; // SHA-256 of the manifest bytes
  signerKeyIds: Uint8Array[]; // 8 bytes each, envelope order
  envelopeDigest: Uint8Array; // SHA-256 of the envelope as submitted
  vendorId: Uint8Array;
  classId: Uint8Array;
  sequence: number;
  version: string;
  loggedAt: number; // seconds since 1970
}

/** The canonical CBOR of a log entry (the leaf data of the Merkle tree). */
export function encodeLogEntry(e: LogEntry): Uint8Array {
  const m: CborMap = new Map<number, Cbor>();
  m.set(LogEntryKey.MANIFEST_DIGEST, e.manifestDigest);
  m.set(LogEntryKey.SIGNER_KEY_IDS, e.signerKeyIds);
  m.set(LogEntryKey.ENVELOPE_DIGEST, e.envelopeDigest);
  m.set(LogEntryKey.VENDOR_ID, e.vendorId);
  m.set(LogEntryKey.CLASS_ID, e.classId);
  m.set(LogEntryKey.SEQUENCE, e.sequence);
  m.set(LogEntryKey.VERSION, e.version);
  m.set(LogEntryKey.LOGGED_AT, e.loggedAt);
  return encodeCanonical(m);
}

function field<T>(m: CborMap, k: number, ok: (v: unknown) => v is T, what: string): T {
  const v = m.get(k);
  if (!ok(v)) throw new Error(`log entry: bad or missing ${what}`);
  return v;
}
const isBytes = (n: number) => (v: unknown): v is Uint8Array => v instanceof Uint8Array && v.length === n;
const isUint = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isText = (v: unknown): v is string => typeof v === "string";

/** Decodes a log entry; throws on anything but the canonical map of §14.1. */
export function decodeLogEntry(bytes: Uint8Array): LogEntry {
  const m = decodeCanonical(bytes);
  if (!(m instanceof Map)) throw new Error("log entry: not a map");
  const kids = m.get(LogEntryKey.SIGNER_KEY_IDS);
  if (!Array.isArray(kids) || kids.length < 1 || kids.length > Limits.MAX_SIGNERS || !kids.every(isBytes(Limits.KEY_ID_LEN))) {
    throw new Error("log entry: bad signer key IDs");
  }
  return {
    manifestDigest: field(m, LogEntryKey.MANIFEST_DIGEST, isBytes(32), "manifest digest"),
    signerKeyIds: kids as Uint8Array[],
    envelopeDigest: field(m, LogEntryKey.ENVELOPE_DIGEST, isBytes(32), "envelope digest"),
    vendorId: field(m, LogEntryKey.VENDOR_ID, isBytes(Limits.UUID_LEN), "vendor-id"),
    classId: field(m, LogEntryKey.CLASS_ID, isBytes(Limits.UUID_LEN), "class-id"),
    sequence: field(m, LogEntryKey.SEQUENCE, isUint, "sequence"),
    version: field(m, LogEntryKey.VERSION, isText, "version"),
    loggedAt: field(m, LogEntryKey.LOGGED_AT, isUint, "time")
  };
}

/** The proof a logged bundle carries: its entry, where it is, and the checkpoint it is in. */
export interface LogProof {
  entry: Uint8Array; // encoded log entry
  leafIndex: number;
  path: Uint8Array[]; // RFC 9162 inclusion path, leaf first, at most 63 hashes
  checkpoint: Uint8Array; // the signed checkpoint note (log signature and cosignatures)
}

/** The CBOR of a log proof: [entry, leaf index, path (hashes concatenated), checkpoint note]. */
export function encodeLogProof(p: LogProof): Uint8Array {
  if (p.path.length > MAX_LOG_PROOF_HASHES) throw new Error(`an inclusion path has at most ${MAX_LOG_PROOF_HASHES} hashes`);
  for (const h of p.path) if (h.length !== 32) throw new Error("a path hash is 32 bytes");
  const items: Cbor[] = [];
  items[LogProofItem.ENTRY] = p.entry;
  items[LogProofItem.LEAF_INDEX] = p.leafIndex;
  items[LogProofItem.PATH] = concatBytes(...p.path);
  items[LogProofItem.CHECKPOINT] = p.checkpoint;
  return encodeCanonical(items);
}

/** Decodes a log proof from its CBOR value. */
export function logProofFromCbor(v: Cbor): LogProof {
  if (!Array.isArray(v) || v.length !== LogProofItem.COUNT) throw new Error("log proof: not an array of 4");
  const [entry, leafIndex, path, checkpoint] = [v[LogProofItem.ENTRY], v[LogProofItem.LEAF_INDEX], v[LogProofItem.PATH], v[LogProofItem.CHECKPOINT]];
  if (!(entry instanceof Uint8Array) || !isUint(leafIndex) || !(path instanceof Uint8Array) || !(checkpoint instanceof Uint8Array)) {
    throw new Error("log proof: wrong item types");
  }
  if (path.length % 32 !== 0 || path.length / 32 > MAX_LOG_PROOF_HASHES) throw new Error("log proof: bad inclusion path length");
  const hashes: Uint8Array[] = [];
  for (let o = 0; o < path.length; o += 32) hashes.push(path.subarray(o, o + 32));
  return { entry, leafIndex, path: hashes, checkpoint };
}

/** Offsets of one CBOR item: head start, content start, end. */
interface Span {
  start: number;
  end: number;
}

/** Reads a head's argument (definite lengths only; the envelope is deterministic CBOR). */
function headAt(b: Uint8Array, o: number): { major: number; arg: number; next: number } {
  const ib = b[o];
  const major = ib >> 5;
  const ai = ib & 31;
  if (ai < 24) return { major, arg: ai, next: o + 1 };
  const n = ai === 24 ? 1 : ai === 25 ? 2 : ai === 26 ? 4 : ai === 27 ? 8 : -1;
  if (n < 0) throw new Error("envelope: indefinite or reserved CBOR head");
  let arg = 0;
  for (let i = 0; i < n; i++) arg = arg * 256 + b[o + 1 + i];
  return { major, arg, next: o + 1 + n };
}

const LENIENT = { lenient: true };

/** Where the unprotected map that carries the log proof sits in `envelope`. */
function proofMapSpan(envelope: Uint8Array): { map: Span; count: number; entriesStart: number } {
  const tag = headAt(envelope, 0);
  if (tag.major !== 6 || (tag.arg !== CoseTag.SIGN1 && tag.arg !== CoseTag.SIGN)) throw new Error("envelope: not a tagged COSE_Sign1 / COSE_Sign");
  const arr = headAt(envelope, tag.next);
  if (arr.major !== 4 || arr.arg !== 4) throw new Error("envelope: not a COSE array of 4");
  const prot = decodeItem(envelope, arr.next, LENIENT);
  const mapHead = headAt(envelope, prot.end);
  if (mapHead.major !== 5) throw new Error("envelope: unprotected header is not a map");
  const mapEnd = decodeItem(envelope, prot.end, LENIENT).end;
  return { map: { start: prot.end, end: mapEnd }, count: mapHead.arg, entriesStart: mapHead.next };
}

/** The envelope without its log proof (unchanged if it has none), and the proof's CBOR bytes. */
export function detachLogProof(envelope: Uint8Array): { envelope: Uint8Array; proof: Uint8Array | null } {
  const { map, count, entriesStart } = proofMapSpan(envelope);
  const kept: Uint8Array[] = [];
  let proof: Uint8Array | null = null;
  let o = entriesStart;
  for (let i = 0; i < count; i++) {
    const k = decodeItem(envelope, o, LENIENT);
    const v = decodeItem(envelope, k.end, LENIENT);
    if (k.value === HeaderLabel.FWSEAL_LOG_PROOF) proof = envelope.subarray(k.end, v.end);
    else kept.push(envelope.subarray(o, v.end));
    o = v.end;
  }
  if (proof === null) return { envelope, proof: null };
  const rebuilt = concatBytes(envelope.subarray(0, map.start), encodeHead(5, kept.length), ...kept, envelope.subarray(map.end));
  return { envelope: rebuilt, proof };
}

/**
 * The envelope with `proof` (encoded log proof) in its unprotected header, replacing any
 * proof already there. The label sorts after every label fwseal writes, so the map stays in
 * deterministic order; signed bytes are untouched.
 */
export function attachLogProof(envelope: Uint8Array, proof: Uint8Array): Uint8Array {
  const bare = detachLogProof(envelope).envelope;
  const { map, count, entriesStart } = proofMapSpan(bare);
  const out = concatBytes(
    bare.subarray(0, map.start),
    encodeHead(5, count + 1),
    bare.subarray(entriesStart, map.end),
    encodeCanonical(HeaderLabel.FWSEAL_LOG_PROOF),
    proof,
    bare.subarray(map.end)
  );
  if (out.length > Limits.MAX_ENVELOPE) throw new Error(`envelope with its log proof is ${out.length} bytes, more than ${Limits.MAX_ENVELOPE}`);
  return out;
}

/** The log proof an envelope carries, decoded, or null. */
export function readLogProof(envelope: Uint8Array): LogProof | null {
  const { proof } = detachLogProof(envelope);
  return proof === null ? null : logProofFromCbor(decodeCanonical(proof));
}

/** The device-checked parts of an envelope's log entry: manifest digest and signer key IDs. */
export function envelopeLogFacts(envelope: Uint8Array): { manifestDigest: Uint8Array; signerKeyIds: Uint8Array[]; envelopeDigest: Uint8Array; payload: Uint8Array } {
  const bare = detachLogProof(envelope).envelope;
  const v = decodeCanonical(bare, LENIENT);
  if (!(v instanceof CborTag) || !Array.isArray(v.value)) throw new Error("envelope: not a COSE structure");
  const [prot, , payload, sigs] = v.value as Cbor[];
  if (!(payload instanceof Uint8Array)) throw new Error("envelope: no payload");
  const protList: Cbor[] = v.tag === CoseTag.SIGN1 ? [prot] : Array.isArray(sigs) ? sigs.map((s) => (Array.isArray(s) ? s[0] : null)) : [];
  const kids = protList.map((p) => {
    if (!(p instanceof Uint8Array)) throw new Error("envelope: bad protected header");
    const h = decodeCanonical(p, LENIENT);
    const kid = h instanceof Map ? h.get(HeaderLabel.KID) : undefined;
    if (!(kid instanceof Uint8Array)) throw new Error("envelope: a signer has no kid");
    return kid;
  });
  return { manifestDigest: defaultSha256(payload), signerKeyIds: kids, envelopeDigest: defaultSha256(bare), payload };
}
