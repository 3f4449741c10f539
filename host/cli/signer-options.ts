// CLI helper for commands that sign: the signers named by repeated --key and --cert.
import { keyIdHex } from "../keys/keys.js";
import { loadSigner, closeSigners, withCertificate, type LoadedSigner } from "../keys/signer-loader.js";
import { checkCertificateBytes } from "../keys/delegate.js";
import { FwsealError } from "../errors.js";
import { readInput } from "../io/input-file.js";

/**
 * Signers from repeated --key and --cert: each certificate goes to the key that is its
 * subject (so the order of flags does not matter); a key without one is root-signed.
 */
export async function loadSigners(keys: string[], certs: string[], passphraseFile?: string, audit?: string): Promise<LoadedSigner[]> {
  if (keys.length === 0) throw new FwsealError("USAGE", "--key is required");
  // A --key is a key file or a pkcs11: URI (see host/keys/signer-loader.ts).
  const signers: LoadedSigner[] = [];
  try {
    for (const k of keys) signers.push(await loadSigner(k, { passphraseFile, audit }));
  } catch (e) {
    closeSigners(signers);
    throw e;
  }
  const certFor = new Map<string, Uint8Array>();
  for (const c of certs) {
    const bytes = await readInput(c);
    const parsed = checkCertificateBytes(bytes, c);
    const subject = keyIdHex(parsed.body.publicKey);
    const idx = signers.findIndex((s) => keyIdHex(s.publicKey) === subject);
    if (idx < 0) throw new FwsealError("KEY_WRONG_TYPE", `${c}: certifies key ${subject}, which is not one of the --key keys`);
    if (certFor.has(subject)) throw new FwsealError("USAGE", `two certificates for key ${subject}`);
    certFor.set(subject, bytes);
  }
  return signers.map((s) => withCertificate(s, certFor.get(keyIdHex(s.publicKey))));
}
