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

/** One case of a Botan-format .vec file under test/vectors/hss-lms: the comment above it and its hex fields. */
export interface HssLmsVector {
  /** The last comment line before the case ("" if none). */
  name: string;
  fields: Record<string, Buffer>;
}

/**
 * The cases of one test/vectors/hss-lms file (e.g. "hss_lms_verify.vec"). A case is a run of
 * `Key = hex` lines; a blank line or a comment ends it. `q` and `TypeId` are decimal there
 * and are returned as 4-byte big-endian values.
 */
export function readHssLmsVectors(file: string): HssLmsVector[] {
  const out: HssLmsVector[] = [];
  let name = "";
  let fields: Record<string, Buffer> = {};
  const flush = (): void => {
    if (Object.keys(fields).length > 0) out.push({ name, fields });
    fields = {};
  };
  for (const raw of readFileSync(path.join(STANDARD_VECTORS, "hss-lms", file), "utf8").split(/\r?\n/)) {
    const line = raw.trim();
    const m = line.match(/^(\w+) =\s*([0-9a-fA-F]*)$/);
    if (m) {
      const v = Buffer.alloc(4);
      if (m[1] === "q" || m[1] === "TypeId") v.writeUInt32BE(Number(m[2]), 0);
      fields[m[1]] = m[1] === "q" || m[1] === "TypeId" ? v : Buffer.from(m[2], "hex");
      continue;
    }
    flush();
    if (line.startsWith("#")) name = line.replace(/^#+\s*/, "");
  }
  flush();
  return out;
}
