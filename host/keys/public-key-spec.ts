// One entry point for "a public key named on the command line": a .pub or .key file, hex
// digits, or a `pkcs11:` URI (RFC 7512), for --root and every flag that names a key to check
// against. Apart from the signing side (signer-loader.ts), which commands that only check
// signatures (verify, inspect) then never load.
import { loadPublicKey } from "./keys.js";
import { isPkcs11Uri, readPkcs11PublicKey } from "./pkcs11.js";

/** Options of loadPublicKeySpec. */
export interface PublicKeySpecOptions {
  /** Passphrase file, when the spec is an encrypted private key file. */
  passphraseFile?: string;
  /** Allow terminal prompts for a passphrase or PIN (default true). */
  prompt?: boolean;
}

/** A public key (Ed25519 or HSS/LMS) from a .pub/.key file, hex digits, or a `pkcs11:` URI (reads CKA_EC_POINT). */
export async function loadPublicKeySpec(spec: string, opts: PublicKeySpecOptions = {}): Promise<Uint8Array> {
  if (isPkcs11Uri(spec)) return readPkcs11PublicKey(spec, { prompt: opts.prompt });
  return loadPublicKey(spec, { passphraseFile: opts.passphraseFile, prompt: opts.prompt });
}
