// C2SP tlog-cosignature v1 with Ed25519 (c2sp.org/tlog-cosignature): a witness's timestamped
// signature line on a checkpoint. The key ID uses signature type 0x04; the signature is
// timestamp (u64 big-endian) || Ed25519 signature over "cosignature/v1\ntime <t>\n" || the
// checkpoint text.
import { ed25519Sign, ed25519Verify, noteKeyId, signaturesBy, type Note, type NoteKey, type NoteSignature, type NoteSigningKey } from "./note.js";

/** The signed message of a v1 cosignature at time `timestamp` on checkpoint text `text`. */
export function cosignedMessage(text: string, timestamp: number): Uint8Array {
  if (!(Number.isSafeInteger(timestamp) && timestamp >= 0)) throw new Error("bad cosignature timestamp");
  return new TextEncoder().encode(`cosignature/v1\ntime ${timestamp}\n${text}`);
}

/** A cosignature line by `key` on checkpoint text `text` at `timestamp` (seconds). */
export function cosign(text: string, key: NoteSigningKey, timestamp: number): NoteSignature {
  const sig = ed25519Sign(key, cosignedMessage(text, timestamp));
  const body = new Uint8Array(72);
  new DataView(body.buffer).setBigUint64(0, BigInt(timestamp));
  body.set(sig, 8);
  return { name: key.name, keyId: noteKeyId(key.name, key.type, key.publicKey), signature: body };
}

/** The timestamp of a valid cosignature by `key` on `note`, or null if it has none. */
export function verifyCosignature(note: Note, key: NoteKey): number | null {
  for (const s of signaturesBy(note, key)) {
    if (s.signature.length !== 72) continue;
    const t = new DataView(s.signature.buffer, s.signature.byteOffset, 8).getBigUint64(0);
    if (t > BigInt(Number.MAX_SAFE_INTEGER)) continue;
    const ts = Number(t);
    if (ed25519Verify(key.publicKey, cosignedMessage(note.text, ts), s.signature.subarray(8))) return ts;
  }
  return null;
}
