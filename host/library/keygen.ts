// keygen as the library exports it: like loadSigner, a service making keys must never block on
// a terminal prompt or encrypt a key with a FWSEAL_PASSPHRASE it did not mean to pass. The
// passphrase comes from the options; the environment and a prompt only when asked for.
import { keygen as keygenWith, type KeygenResult } from "../keys/keys.js";
import { keygenHssLms as keygenHssLmsWith, type HssKeygenOptions as HssKeygenFields, type HssKeygenResult } from "../keys/hss-lms.js";
import type { PassphraseCallback } from "../keys/passphrase.js";
import { withLibraryWords } from "./wording.js";
import { checkOptions, checkString } from "./arguments.js";

/** Options of the library's keygen. */
export interface KeygenOptions {
  /** Output prefix: writes <out>.key (mode 0600) and <out>.pub. */
  out: string;
  /** Encrypt the private key (PKCS#8, PBES2) with the passphrase given below. */
  encrypt?: boolean;
  /** The new key's passphrase, or a function called with the key file's name (only with encrypt). */
  passphrase?: string | PassphraseCallback;
  /** File whose first line is the passphrase. */
  passphraseFile?: string;
  /** Read FWSEAL_PASSPHRASE when no passphrase is given (default false). */
  useEnvironment?: boolean;
  /** Prompt twice on the terminal when stdin is one and nothing else gave the passphrase (default false). */
  prompt?: boolean;
  /** Replace existing key files (default false: FwsealError OUTPUT_EXISTS). */
  overwrite?: boolean;
  /** The same as overwrite (its earlier name). */
  force?: boolean;
}

/**
 * Creates an Ed25519 key pair, written atomically; never prompts and never reads the
 * environment unless `prompt` / `useEnvironment` ask for it (encrypt without a passphrase
 * throws FwsealError KEY_PASSPHRASE_REQUIRED); existing files are refused unless `overwrite`.
 */
export async function keygen(opts: KeygenOptions): Promise<KeygenResult> {
  checkOptions("keygen", "options", opts);
  checkString("keygen", "out (the key files' path prefix)", opts.out);
  return withLibraryWords(() =>
    keygenWith({
      out: opts.out,
      encrypt: opts.encrypt,
      passphrase: opts.passphrase,
      passphraseFile: opts.passphraseFile,
      env: opts.useEnvironment === true,
      prompt: opts.prompt === true,
      force: opts.overwrite === true || opts.force === true
    })
  );
}

/** Options of the library's keygenHssLms. */
export interface HssKeygenOptions extends HssKeygenFields {
  /** Replace existing key files (default false: FwsealError OUTPUT_EXISTS); force is its earlier name. */
  overwrite?: boolean;
}

/** Generates a stateful HSS/LMS key pair; existing files are refused unless `overwrite`; errors name the options (heights, w). */
export async function keygenHssLms(opts: HssKeygenOptions): Promise<HssKeygenResult> {
  checkOptions("keygenHssLms", "options", opts);
  checkString("keygenHssLms", "out (the key files' path prefix)", opts.out);
  return withLibraryWords(() => keygenHssLmsWith({ ...opts, force: opts.overwrite === true || opts.force === true }));
}
