// Readers for the published test vectors kept under test/vectors (see its SOURCES.md): the
// NIST CAVP SHA-256 response files and the RFC 8032 §7.1 Ed25519 vectors.
import { readFileSync } from "node:fs";
import path from "node:path";
import { REPO } from "./repo.js";

/** The folder of the published vectors. */
export const STANDARD_VECTORS = path.join(REPO, "test/vectors");

/** One SHA-256 vector: the message and its digest, both lowercase hex. */
export interface Sha256Vector {
  /** The message ("" for the zero-length message, which the file writes as "00"). */
  msg: string;
  md: string;
}

/** The vectors of one NIST response file under test/vectors/sha256 (e.g. "SHA256ShortMsg.rsp"). */
export function readSha256Vectors(file: string): Sha256Vector[] {
  const out: Sha256Vector[] = [];
  let len = -1;
  let msg = "";
  for (const raw of readFileSync(path.join(STANDARD_VECTORS, "sha256", file), "utf8").split(/\r?\n/)) {
    const line = raw.trim();
    let m: RegExpMatchArray | null;
    if ((m = line.match(/^Len = (\d+)$/))) len = Number(m[1]);
    else if ((m = line.match(/^Msg = ([0-9a-f]*)$/))) msg = len === 0 ? "" : m[1];
    else if ((m = line.match(/^MD = ([0-9a-f]{64})$/))) out.push({ msg, md: m[1] });
  }
  return out;
}

/** One RFC 8032 §7.1 Ed25519 vector, fields in lowercase hex. */
export interface Ed25519Vector {
  name: string;
  secretKey: string;
  publicKey: string;
  message: string;
  signature: string;
}

/** The five RFC 8032 §7.1 Ed25519 test vectors. */
export function readEd25519Vectors(): Ed25519Vector[] {
  return JSON.parse(readFileSync(path.join(STANDARD_VECTORS, "ed25519/rfc8032-ed25519.json"), "utf8")) as Ed25519Vector[];
}
