// Where a key passphrase comes from, in this order: an explicit value (library callers),
// a --passphrase-file, the FWSEAL_PASSPHRASE environment variable, or a prompt when stdin
// is a terminal. Never a command-line value: that would land in shell history and `ps`.
import * as fsp from "node:fs/promises";
import { FwsealError, inputError } from "../errors.js";

/** Where a key passphrase comes from (see above); every field optional. */
export interface PassphraseSource {
  /** Passphrase given directly, or a function asked for it only when the key is encrypted (library use). */
  passphrase?: string | PassphraseCallback;
  /** File whose first line is the passphrase. */
  passphraseFile?: string;
  /** Allow an interactive prompt when stdin is a TTY (default true). */
  prompt?: boolean;
  /** Read FWSEAL_PASSPHRASE (default true: the CLI; the library's loadSigner passes false unless asked). */
  env?: boolean;
}

/** Asked for a key's passphrase, with the key's name (a file path), only when the key is encrypted. */
export type PassphraseCallback = (what: string) => string | Promise<string>;

async function givenPassphrase(p: string | PassphraseCallback, what: string): Promise<string> {
  const v = typeof p === "function" ? await p(what) : p;
  if (typeof v !== "string") throw new FwsealError("KEY_PASSPHRASE_REQUIRED", `${what} is encrypted: the passphrase callback returned no string`);
  return v;
}

export const PASSPHRASE_ENV = "FWSEAL_PASSPHRASE";

/** Read a passphrase without echo from the terminal; rejects on Ctrl-C / Ctrl-D. */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    if (!stdin.isTTY) {
      reject(new FwsealError("KEY_PASSPHRASE_REQUIRED", "a passphrase is required but stdin is not a terminal"));
      return;
    }
    process.stderr.write(question);
    let value = "";
    const wasRaw = stdin.isRaw;
    stdin.setRawMode(true);
    stdin.resume();
    const finish = (err: Error | null) => {
      stdin.removeListener("data", onData);
      stdin.setRawMode(wasRaw);
      stdin.pause();
      process.stderr.write("\n");
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return finish(null);
        if (ch === "\u0003" || ch === "\u0004") return finish(new FwsealError("KEY_PASSPHRASE_REQUIRED", "passphrase entry cancelled"));
        if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on("data", onData);
  });
}

/** Resolve a passphrase to decrypt a key (`what` names the key file in messages/prompts). */
export async function getPassphrase(src: PassphraseSource, what: string): Promise<string> {
  if (src.passphrase !== undefined) return givenPassphrase(src.passphrase, what);
  if (src.passphraseFile !== undefined) return readPassphraseFile(src.passphraseFile);
  const env = src.env !== false ? process.env[PASSPHRASE_ENV] : undefined;
  if (env !== undefined && env !== "") return env;
  if (src.prompt !== false && process.stdin.isTTY) return promptHidden(`Passphrase for ${what}: `);
  if (src.env === false) {
    // A library caller: name the options, not the CLI's flags and variables.
    throw new FwsealError("KEY_PASSPHRASE_REQUIRED", `${what} is encrypted: give its passphrase (option passphrase: a string or a function) or a passphraseFile`);
  }
  throw new FwsealError(
    "KEY_PASSPHRASE_REQUIRED",
    `${what} is encrypted: set ${PASSPHRASE_ENV}, use --passphrase-file, or run on a terminal to be prompted`
  );
}

/** Resolve a NEW passphrase (keygen --encrypt): asks twice on a terminal. */
export async function getNewPassphrase(src: PassphraseSource, what: string): Promise<string> {
  let p: string;
  if (src.passphrase !== undefined) p = await givenPassphrase(src.passphrase, what);
  else if (src.passphraseFile !== undefined) p = await readPassphraseFile(src.passphraseFile);
  else if (src.env !== false && process.env[PASSPHRASE_ENV]) p = process.env[PASSPHRASE_ENV] as string;
  else if (src.prompt !== false && process.stdin.isTTY) {
    p = await promptHidden(`New passphrase for ${what}: `);
    const again = await promptHidden("Repeat passphrase: ");
    if (again !== p) throw new FwsealError("KEY_PASSPHRASE", "passphrases do not match");
  } else if (src.env === false) {
    // A library caller: name the options, not the CLI's flags and variables.
    throw new FwsealError("KEY_PASSPHRASE_REQUIRED", `encrypting ${what} needs a passphrase: give it (option passphrase: a string or a function) or a passphraseFile`);
  } else {
    throw new FwsealError("KEY_PASSPHRASE_REQUIRED", `--encrypt needs a passphrase: set ${PASSPHRASE_ENV}, use --passphrase-file, or run on a terminal`);
  }
  if (p.length === 0) throw new FwsealError("KEY_PASSPHRASE", "empty passphrase");
  return p;
}

/** The first line of a secret file (passphrase file, PKCS#11 pin-source); may be "". */
export async function readSecretLine(file: string): Promise<string> {
  let text: string;
  try {
    text = await fsp.readFile(file, "utf8");
  } catch (e) {
    throw inputError(file, e);
  }
  return text.split(/\r?\n/)[0];
}

async function readPassphraseFile(file: string): Promise<string> {
  const line = await readSecretLine(file);
  if (line.length === 0) throw new FwsealError("KEY_PASSPHRASE", `${file}: passphrase file is empty`);
  return line;
}
