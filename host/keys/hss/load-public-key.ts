// Finding an HSS/LMS public key in what a user names on the command line: an SPKI PEM
// file (RFC 8708 OID), an fwseal HSS/LMS private key file (the public key is derived from
// it), or the RFC 8554 bytes as 120 hex digits (in a file or given directly).
import * as fsp from "node:fs/promises";
import { inputError } from "../../errors.js";
import { HSS_PUB_LEN } from "./params.js";
import { isHssPrivateKeyPem, privateKeyFromPem } from "./private-key-file.js";
import { hssPublicKey } from "./hss-key.js";
import { hssPublicKeyFromSpki, isHssPublicKey } from "./public-key.js";

const HEX_RE = new RegExp(`^[0-9a-fA-F]{${2 * HSS_PUB_LEN}}$`);

/** The HSS public key in a key file's text, or null when the text holds another kind of key. */
export function hssPublicKeyFromText(text: string, what: string): Uint8Array | null {
  const trimmed = text.trim();
  if (HEX_RE.test(trimmed)) {
    const pk = new Uint8Array(Buffer.from(trimmed, "hex"));
    return isHssPublicKey(pk) ? pk : null;
  }
  if (isHssPrivateKeyPem(text)) return hssPublicKey(privateKeyFromPem(text, what));
  const m = /-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]*)-----END PUBLIC KEY-----/.exec(text);
  if (m === null) return null;
  return hssPublicKeyFromSpki(Buffer.from(m[1].replace(/\s+/g, ""), "base64"), what);
}

/** The HSS public key named by a path (or 120 hex digits), or null when it is not an HSS/LMS key. */
export async function loadHssPublicKey(pathOrHex: string): Promise<Uint8Array | null> {
  let text: string;
  try {
    text = await fsp.readFile(pathOrHex, "latin1");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" && HEX_RE.test(pathOrHex)) return hssPublicKeyFromText(pathOrHex, "public key");
    if ((e as NodeJS.ErrnoException).code === "ENOENT" && /^[0-9a-fA-F]+$/.test(pathOrHex)) return null;
    throw inputError(pathOrHex, e);
  }
  return hssPublicKeyFromText(text, pathOrHex);
}
