// loadSigner as the library exports it: an update server or build service must never block
// on a terminal prompt or pick up a passphrase or PIN from its environment by accident.
// Secrets come from the options; the environment and prompts only when asked for.
import { loadSigner as loadSignerFrom, type LoadedSigner } from "../keys/signer-loader.js";
import { loadPublicKey as loadPublicKeyFrom } from "../keys/keys.js";
import type { PassphraseCallback } from "../keys/passphrase.js";
import { checkOptions, checkString } from "./arguments.js";

/** Options of the library's loadSigner. */
export interface LoadSignerOptions {
  /** Passphrase of an encrypted key file, or a function called with the key's name only if the key is encrypted. */
  passphrase?: string | PassphraseCallback;
  /** File whose first line is the passphrase. */
  passphraseFile?: string;
  /** User PIN of a PKCS#11 token (else a pin-source in the URI). */
  pin?: string;
  /** Delegation certificate to attach (see also withCertificate, which checks it). */
  certificate?: Uint8Array;
  /** Read FWSEAL_PASSPHRASE / FWSEAL_PKCS11_PIN when no passphrase or PIN is given (default false). */
  useEnvironment?: boolean;
  /** Prompt on the terminal when stdin is one and nothing else gave the secret (default false). */
  prompt?: boolean;
  /**
   * HSS/LMS keys: the audit log that records the highest leaf used per key, so a key file
   * restored from an old backup is refused (without useEnvironment, only this one is read).
   */
  audit?: string;
}

/**
 * A signer from a key file (PKCS#8 PEM, optionally encrypted; or an HSS/LMS key file) or a `pkcs11:` URI. Never
 * prompts and never reads the environment unless `prompt` / `useEnvironment` ask for it;
 * an encrypted key without a passphrase throws FwsealError KEY_PASSPHRASE_REQUIRED.
 */
export async function loadSigner(spec: string, opts: LoadSignerOptions = {}): Promise<LoadedSigner> {
  checkString("loadSigner", "spec (a key file path or a pkcs11: URI)", spec);
  checkOptions("loadSigner", "options", opts);
  return loadSignerFrom(spec, {
    passphrase: opts.passphrase,
    passphraseFile: opts.passphraseFile,
    pin: opts.pin,
    certificate: opts.certificate,
    audit: opts.audit,
    env: opts.useEnvironment === true,
    prompt: opts.prompt === true
  });
}

/** Options of the library's loadPublicKey (a private key file's passphrase, when given one). */
export interface LoadPublicKeyOptions {
  /** Passphrase of an encrypted private key file, or a function called with its name only if it is encrypted. */
  passphrase?: string | PassphraseCallback;
  /** File whose first line is the passphrase. */
  passphraseFile?: string;
  /** Read FWSEAL_PASSPHRASE when no passphrase is given (default false). */
  useEnvironment?: boolean;
  /** Prompt on the terminal when stdin is one and nothing else gave the passphrase (default false). */
  prompt?: boolean;
}

/**
 * A public key from a .pub or .key file or hex: Ed25519 (32 bytes) or HSS/LMS (60 bytes).
 * Like loadSigner, it never prompts and never reads FWSEAL_PASSPHRASE unless asked; an
 * encrypted private key without a passphrase throws FwsealError KEY_PASSPHRASE_REQUIRED.
 */
export async function loadPublicKey(pathOrHex: string, opts: LoadPublicKeyOptions = {}): Promise<Uint8Array> {
  checkString("loadPublicKey", "pathOrHex (a key file path or hex digits)", pathOrHex);
  checkOptions("loadPublicKey", "options", opts);
  return loadPublicKeyFrom(pathOrHex, { passphrase: opts.passphrase, passphraseFile: opts.passphraseFile, env: opts.useEnvironment === true, prompt: opts.prompt === true });
}
