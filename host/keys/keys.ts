// Ed25519 keys on the host, in the formats OpenSSL uses: PKCS#8 PEM private keys
// (optionally encrypted, PBES2 + AES-256-CBC) and SPKI PEM public keys, so
// `openssl genpkey -algorithm ed25519` keys work as inputs and ours work in `openssl pkey`.
// Secret material stays inside node:crypto KeyObjects; error messages never quote it.
import { hssPublicKeyFromText } from "./hss/load-public-key.js";
import * as crypto from "node:crypto";
import * as fsp from "node:fs/promises";
import { FwsealError, inputError } from "../errors.js";
import { writeFileAtomic } from "../io/atomic-write.js";
import { getPassphrase, getNewPassphrase, type PassphraseSource } from "./passphrase.js";
import type { Signer } from "./signer.js";

export type { PassphraseSource } from "./passphrase.js";

// DER prefixes of the two fixed-size Ed25519 encodings (RFC 8410).
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_ED25519_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

export interface KeyPair {
  privateKey: crypto.KeyObject;
  /** Raw 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
}

/** Key ID per SPEC §6: first 8 bytes of SHA-256(public key), 16 lowercase hex digits. */
export function keyIdHex(publicKey: Uint8Array): string {
  return crypto.createHash("sha256").update(publicKey).digest().subarray(0, 8).toString("hex");
}

export function generateKeyPair(): KeyPair {
  const { privateKey } = crypto.generateKeyPairSync("ed25519");
  return { privateKey, publicKey: rawPublicKey(privateKey) };
}

/** Deterministic key pair from a 32-byte RFC 8032 seed (test vectors only). */
export function keyPairFromSeed(seed: Uint8Array): KeyPair {
  if (seed.length !== 32) throw new FwsealError("KEY_CORRUPT", "an Ed25519 seed is 32 bytes");
  const privateKey = crypto.createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: "der", type: "pkcs8" });
  return { privateKey, publicKey: rawPublicKey(privateKey) };
}

/** Raw 32-byte public key of an Ed25519 private or public KeyObject. */
export function rawPublicKey(key: crypto.KeyObject): Uint8Array {
  const pub = key.type === "private" ? crypto.createPublicKey(key) : key;
  const der = pub.export({ type: "spki", format: "der" });
  return new Uint8Array(der.subarray(der.length - 32));
}

export function publicKeyObject(publicKey: Uint8Array): crypto.KeyObject {
  if (publicKey.length !== 32) throw new FwsealError("KEY_CORRUPT", "an Ed25519 public key is 32 bytes");
  return crypto.createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]), format: "der", type: "spki" });
}

/** PKCS#8 PEM; encrypted (PBES2, AES-256-CBC) when a passphrase is given. */
export function privateKeyToPem(key: crypto.KeyObject, passphrase?: string): string {
  if (passphrase !== undefined) {
    return key.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase }) as string;
  }
  return key.export({ type: "pkcs8", format: "pem" }) as string;
}

export function publicKeyToPem(publicKey: Uint8Array): string {
  return publicKeyObject(publicKey).export({ type: "spki", format: "pem" }) as string;
}

function pemLabel(text: string): string | null {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text);
  return m ? m[1] : null;
}

function describeKeyType(k: crypto.KeyObject): string {
  const t = k.asymmetricKeyType;
  if (t === "rsa" || t === "rsa-pss") return "an RSA key";
  if (t === "ec") return `an ECDSA key (${k.asymmetricKeyDetails?.namedCurve ?? "unknown curve"})`;
  if (t === "dsa") return "a DSA key";
  return `a ${t ?? "unknown"} key`;
}

function requireEd25519(k: crypto.KeyObject, what: string): void {
  if (k.asymmetricKeyType !== "ed25519") {
    throw new FwsealError("KEY_WRONG_TYPE", `${what}: ${describeKeyType(k)}; fwseal needs an Ed25519 key (openssl genpkey -algorithm ed25519)`);
  }
}

/**
 * Parse a private key PEM. `what` names the source in messages. Encrypted PKCS#8 needs a
 * passphrase (from `src`, FWSEAL_PASSPHRASE, or a terminal prompt).
 */
export async function parsePrivateKeyPem(text: string, what: string, src: PassphraseSource = {}): Promise<crypto.KeyObject> {
  const label = pemLabel(text);
  if (label === null) throw new FwsealError("KEY_CORRUPT", `${what}: not a PEM key file`);
  if (label === "PUBLIC KEY") throw new FwsealError("KEY_WRONG_TYPE", `${what}: is a public key; a private key is needed here`);
  if (label === "OPENSSH PRIVATE KEY") {
    throw new FwsealError("KEY_WRONG_TYPE", `${what}: OpenSSH key format is not supported; use PKCS#8 PEM (openssl genpkey -algorithm ed25519)`);
  }
  if (!label.endsWith("PRIVATE KEY")) throw new FwsealError("KEY_CORRUPT", `${what}: PEM block "${label}" is not a private key`);
  let key: crypto.KeyObject;
  if (label === "ENCRYPTED PRIVATE KEY") {
    const passphrase = await getPassphrase(src, what);
    try {
      key = crypto.createPrivateKey({ key: text, format: "pem", passphrase });
    } catch {
      throw new FwsealError("KEY_PASSPHRASE", `${what}: wrong passphrase (or corrupt encrypted key)`);
    }
  } else {
    try {
      key = crypto.createPrivateKey({ key: text, format: "pem" });
    } catch {
      throw new FwsealError("KEY_CORRUPT", `${what}: corrupt or unsupported PEM private key`);
    }
  }
  requireEd25519(key, what);
  return key;
}

async function readText(path: string): Promise<string> {
  try {
    const buf = await fsp.readFile(path);
    return buf.toString("latin1");
  } catch (e) {
    throw inputError(path, e);
  }
}

/** Load an Ed25519 private key (PKCS#8 PEM, optionally encrypted) from a file. */
export async function loadPrivateKey(path: string, src: PassphraseSource = {}): Promise<crypto.KeyObject> {
  return parsePrivateKeyPem(await readText(path), path, src);
}

const HEX64 = /^[0-9a-fA-F]{64}$/;

/**
 * Load a public key: Ed25519 as raw 32 bytes, HSS/LMS as its 60-byte RFC 8554 string.
 * Accepts an SPKI PEM file (`.pub`; Ed25519 or the HSS/LMS OID), a private key PEM file
 * (the public half is derived), a file holding 64 (Ed25519) or 120 (HSS/LMS) hex digits,
 * or those hex digits given directly in place of a path.
 */
export async function loadPublicKey(pathOrHex: string, src: PassphraseSource = {}): Promise<Uint8Array> {
  let text: string;
  try {
    text = (await fsp.readFile(pathOrHex)).toString("latin1");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      // Not a file: the key itself, as an HSS/LMS key's 120 hex digits or an Ed25519 key's 64.
      const hss = hssPublicKeyFromText(pathOrHex, "public key");
      if (hss !== null) return hss;
      if (HEX64.test(pathOrHex)) return new Uint8Array(Buffer.from(pathOrHex, "hex"));
    }
    throw inputError(pathOrHex, e);
  }
  const hss = hssPublicKeyFromText(text, pathOrHex);
  if (hss !== null) return hss;
  const trimmed = text.trim();
  if (HEX64.test(trimmed)) return new Uint8Array(Buffer.from(trimmed, "hex"));
  const label = pemLabel(text);
  if (label === null) throw new FwsealError("KEY_CORRUPT", `${pathOrHex}: not a PEM key file (nor 64 hex digits)`);
  if (label.endsWith("PRIVATE KEY")) return rawPublicKey(await parsePrivateKeyPem(text, pathOrHex, src));
  if (label !== "PUBLIC KEY") throw new FwsealError("KEY_CORRUPT", `${pathOrHex}: PEM block "${label}" is not a key`);
  let key: crypto.KeyObject;
  try {
    key = crypto.createPublicKey({ key: text, format: "pem" });
  } catch {
    throw new FwsealError("KEY_CORRUPT", `${pathOrHex}: corrupt PEM public key`);
  }
  requireEd25519(key, pathOrHex);
  return rawPublicKey(key);
}

/** A Signer backed by a local private key (node:crypto; deterministic Ed25519). */
export class LocalSigner implements Signer {
  readonly publicKey: Uint8Array;
  readonly certificate?: Uint8Array;
  private readonly key: crypto.KeyObject;

  constructor(key: crypto.KeyObject, certificate?: Uint8Array) {
    if (key.type !== "private") throw new FwsealError("KEY_WRONG_TYPE", "a private key is needed to sign");
    requireEd25519(key, "signing key");
    this.key = key;
    this.publicKey = rawPublicKey(key);
    if (certificate !== undefined) this.certificate = certificate;
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array(crypto.sign(null, message, this.key));
  }

  get keyId(): string {
    return keyIdHex(this.publicKey);
  }

  // Keep the key out of console.log / util.inspect / JSON.
  toJSON(): object {
    return { publicKey: Buffer.from(this.publicKey).toString("hex"), keyId: this.keyId };
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `LocalSigner(${this.keyId})`;
  }
}

/** Options of keygen: the output prefix, encryption, overwrite. */
export interface KeygenOptions extends PassphraseSource {
  /** Output prefix: writes <out>.key and <out>.pub. */
  out: string;
  /** Encrypt the private key with a passphrase. */
  encrypt?: boolean;
  /** Overwrite existing files. */
  force?: boolean;
}

/** What keygen wrote: the key ID, the public key and both paths. */
export interface KeygenResult {
  keyId: string;
  publicKey: Uint8Array;
  keyPath: string;
  pubPath: string;
  encrypted: boolean;
}

/** OUTPUT_EXISTS for the first of `paths` that exists: keygen never overwrites a key without --force. */
export async function refuseExistingFiles(paths: string[]): Promise<void> {
  for (const p of paths) {
    const there = await fsp.lstat(p).then(() => true, () => false);
    if (there) throw new FwsealError("OUTPUT_EXISTS", `${p}: already exists (use --force to overwrite)`);
  }
}

/** Generate a key pair and write <out>.key (mode 0600) and <out>.pub atomically. */
export async function keygen(opts: KeygenOptions): Promise<KeygenResult> {
  const keyPath = `${opts.out}.key`;
  const pubPath = `${opts.out}.pub`;
  if (!opts.force) await refuseExistingFiles([keyPath, pubPath]);
  const passphrase = opts.encrypt ? await getNewPassphrase(opts, keyPath) : undefined;
  const kp = generateKeyPair();
  await writeFileAtomic(keyPath, privateKeyToPem(kp.privateKey, passphrase), { mode: 0o600, overwrite: !!opts.force });
  try {
    await writeFileAtomic(pubPath, publicKeyToPem(kp.publicKey), { mode: 0o644, overwrite: !!opts.force });
  } catch (e) {
    await fsp.unlink(keyPath).catch(() => undefined); // no half key pair left behind
    throw e;
  }
  return { keyId: keyIdHex(kp.publicKey), publicKey: kp.publicKey, keyPath, pubPath, encrypted: passphrase !== undefined };
}
