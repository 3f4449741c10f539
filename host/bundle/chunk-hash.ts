// One SHA-256 per chunk, as fast as node:crypto allows. With 4 KiB chunks the per-call
// overhead matters as much as the hashing: crypto.hash() (Node >= 20.12) with a latin1
// string result avoids the Hash object and the result Buffer, which brings per-chunk
// hashing close to OpenSSL's bulk speed. Results are 32-char latin1 strings (one char
// per byte), compared and written as such.
import * as crypto from "node:crypto";

type OneShot = (alg: string, data: Uint8Array, enc: "latin1") => string;
const oneShot: OneShot | undefined = (crypto as unknown as { hash?: OneShot }).hash;

export const sha256Latin1: (data: Uint8Array) => string = oneShot
  ? (data) => oneShot("sha256", data, "latin1")
  : (data) => crypto.createHash("sha256").update(data).digest("binary"); // "binary" = latin1

export const ZERO_HASH_LATIN1 = "\0".repeat(32);
