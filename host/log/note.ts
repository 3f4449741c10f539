// C2SP signed notes (c2sp.org/signed-note) with Ed25519: key IDs, verifier keys (vkeys),
// the Go-style private key strings, signing and verifying. A note is its text (ending in a
// newline), a blank line, and signature lines "— <name> base64(key ID || signature)\n".
import * as crypto from "node:crypto";
import { keyPairFromSeed, publicKeyObject } from "../keys/keys.js";
import { sha256 } from "./merkle.js";

/** Signature type bytes of the note key ID (c2sp.org/signed-note "Signature types"). */
export const NoteSigType = { ED25519: 0x01, COSIGNATURE_V1: 0x04 } as const;

/** The em dash and space that open a signature line. */
const SIG_PREFIX = "\u2014 ";

/** A note key: its name, signature type and 32-byte Ed25519 public key. */
export interface NoteKey {
  name: string;
  type: number;
  publicKey: Uint8Array;
}

/** A key that can sign notes: the public part and the private key. */
export interface NoteSigningKey extends NoteKey {
  privateKey: crypto.KeyObject;
}

/** One signature line of a note. */
export interface NoteSignature {
  name: string;
  keyId: number; // uint32
  signature: Uint8Array; // the bytes after the key ID
}

/** A parsed note: its text (with the final newline) and signature lines. */
export interface Note {
  text: string;
  signatures: NoteSignature[];
}

/** Is `name` a valid key name (non-empty, no Unicode space, no '+')? */
export function validKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name) && !/[\u0000-\u001f]/.test(name);
}

/** Key ID: first 4 bytes (big-endian uint32) of SHA-256(name || 0x0A || type || public key). */
export function noteKeyId(name: string, type: number, publicKey: Uint8Array): number {
  const h = sha256(new TextEncoder().encode(name + "\n"), new Uint8Array([type]), publicKey);
  return ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0;
}

/** The key ID as 4 big-endian bytes. */
export function keyIdBytes(id: number): Uint8Array {
  return new Uint8Array([(id >>> 24) & 255, (id >>> 16) & 255, (id >>> 8) & 255, id & 255]);
}

function hex8(id: number): string {
  return id.toString(16).padStart(8, "0");
}

/** The vkey string "<name>+<hex key ID>+base64(type || public key)". */
export function formatVerifierKey(k: NoteKey): string {
  const material = Buffer.concat([Buffer.from([k.type]), Buffer.from(k.publicKey)]).toString("base64");
  return `${k.name}+${hex8(noteKeyId(k.name, k.type, k.publicKey))}+${material}`;
}

function splitKeyString(s: string, parts: number, what: string): string[] {
  // The base64 key material (last part) may itself contain '+'.
  const p = s.trim().split("+");
  if (p.length < parts) throw new Error(`${what}: expected ${parts} '+'-separated parts`);
  return [...p.slice(0, parts - 1), p.slice(parts - 1).join("+")];
}

function strictBase64(s: string, what: string): Buffer {
  const b = Buffer.from(s, "base64");
  if (b.toString("base64") !== s) throw new Error(`${what}: not canonical base64`);
  return b;
}

/** Parses a vkey; the key ID must match the name, type and key. Ed25519 types only. */
export function parseVerifierKey(vkey: string): NoteKey {
  const [name, idHex, b64] = splitKeyString(vkey, 3, "verifier key");
  const material = strictBase64(b64, "verifier key");
  if (!validKeyName(name)) throw new Error("verifier key: bad key name");
  const type = material[0];
  if ((type !== NoteSigType.ED25519 && type !== NoteSigType.COSIGNATURE_V1) || material.length !== 33) throw new Error("verifier key: not an Ed25519 key");
  const publicKey = new Uint8Array(material.subarray(1));
  if (!/^[0-9a-f]{8}$/.test(idHex) || parseInt(idHex, 16) !== noteKeyId(name, type, publicKey)) throw new Error("verifier key: key ID does not match");
  return { name, type, publicKey };
}

/** Parses a private key string "PRIVATE+KEY+<name>+<hex key ID>+base64(type || seed)". */
export function parseSignerKey(skey: string): NoteSigningKey {
  const [p1, p2, name, idHex, b64] = splitKeyString(skey, 5, "signer key");
  if (p1 !== "PRIVATE" || p2 !== "KEY") throw new Error("signer key: not a PRIVATE+KEY string");
  const material = strictBase64(b64, "signer key");
  const type = material[0];
  if ((type !== NoteSigType.ED25519 && type !== NoteSigType.COSIGNATURE_V1) || material.length !== 33) throw new Error("signer key: not an Ed25519 key");
  const kp = keyPairFromSeed(new Uint8Array(material.subarray(1)));
  if (!validKeyName(name) || parseInt(idHex, 16) !== noteKeyId(name, type, kp.publicKey)) throw new Error("signer key: key ID does not match");
  return { name, type, publicKey: kp.publicKey, privateKey: kp.privateKey };
}

/** A note signing key from an Ed25519 private KeyObject. */
export function noteSigningKey(name: string, type: number, privateKey: crypto.KeyObject): NoteSigningKey {
  if (!validKeyName(name)) throw new Error(`bad key name "${name}"`);
  const der = crypto.createPublicKey(privateKey).export({ type: "spki", format: "der" });
  return { name, type, publicKey: new Uint8Array(der.subarray(der.length - 32)), privateKey };
}

/** Ed25519 signature of `message` (deterministic, RFC 8032). */
export function ed25519Sign(key: NoteSigningKey, message: Uint8Array): Uint8Array {
  return new Uint8Array(crypto.sign(null, message, key.privateKey));
}

/** Ed25519 verification with node:crypto. */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  return crypto.verify(null, message, publicKeyObject(publicKey), signature);
}

/** One signature line (with its newline). */
export function formatSignatureLine(s: NoteSignature): string {
  const body = Buffer.concat([Buffer.from(keyIdBytes(s.keyId)), Buffer.from(s.signature)]).toString("base64");
  return `${SIG_PREFIX}${s.name} ${body}\n`;
}

/** The note's bytes: text, blank line, signature lines. */
export function formatNote(n: Note): string {
  return n.text + "\n" + n.signatures.map(formatSignatureLine).join("");
}

/**
 * Parses a signed note: valid UTF-8 text with no control characters but newline, the text
 * separated from one or more signature lines by the last blank line. Throws on anything else.
 */
export function parseNote(input: Uint8Array | string): Note {
  const s = typeof input === "string" ? input : new TextDecoder("utf-8", { fatal: true }).decode(input);
  if (/[\u0000-\u0009\u000b-\u001f]/.test(s)) throw new Error("note: control character");
  const split = s.lastIndexOf("\n\n");
  if (split < 0 || !s.endsWith("\n")) throw new Error("note: no blank line before the signatures, or no final newline");
  const text = s.slice(0, split + 1);
  const sigs: NoteSignature[] = [];
  for (const line of s.slice(split + 2, -1).split("\n")) {
    if (!line.startsWith(SIG_PREFIX)) throw new Error("note: malformed signature line");
    const rest = line.slice(SIG_PREFIX.length);
    const sp = rest.indexOf(" ");
    if (sp <= 0) throw new Error("note: malformed signature line");
    const name = rest.slice(0, sp);
    const raw = strictBase64(rest.slice(sp + 1), "note signature");
    if (!validKeyName(name) || raw.length < 5) throw new Error("note: malformed signature line");
    sigs.push({ name, keyId: raw.readUInt32BE(0), signature: new Uint8Array(raw.subarray(4)) });
  }
  if (sigs.length === 0) throw new Error("note: no signature lines");
  return { text, signatures: sigs };
}

/** The signatures of `note` by `key` (same name and key ID). */
export function signaturesBy(note: Note, key: NoteKey): NoteSignature[] {
  const id = noteKeyId(key.name, key.type, key.publicKey);
  return note.signatures.filter((s) => s.name === key.name && s.keyId === id);
}

/** Signs `text` (it must end in a newline) with `key`: the signature line. */
export function signNoteText(text: string, key: NoteSigningKey): NoteSignature {
  if (!text.endsWith("\n")) throw new Error("note text must end in a newline");
  return { name: key.name, keyId: noteKeyId(key.name, key.type, key.publicKey), signature: ed25519Sign(key, new TextEncoder().encode(text)) };
}

/** Does `note` carry a valid Ed25519 note signature by `key` (type 0x01)? */
export function verifyNoteSignature(note: Note, key: NoteKey): boolean {
  const text = new TextEncoder().encode(note.text);
  const sigs = signaturesBy(note, key);
  return sigs.length > 0 && sigs.every((s) => ed25519Verify(key.publicKey, text, s.signature));
}
