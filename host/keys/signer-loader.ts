// One entry point for "a signing key named on the command line": a PKCS#8 PEM file or a
// `pkcs11:` URI (RFC 7512). Commands call loadSigner(spec) wherever they accept --key, so a
// token key works everywhere a key file does. Token signers hold a session: call
// closeSigner(s) when done (process exit also releases it). Public keys (--root and the like)
// named the same ways: public-key-spec.ts.
import { loadPrivateKey, LocalSigner, keyIdHex } from "./keys.js";
import { isPkcs11Uri, openPkcs11Signer, Pkcs11Signer } from "./pkcs11.js";
import { HssLmsFileSigner } from "./hss/hss-signer.js";
import { isHssPrivateKeyPem } from "./hss/private-key-file.js";
import * as fsp from "node:fs/promises";
import { assertCertifies, checkCertificateBytes } from "./delegate.js";
import type { Signer } from "./signer.js";
import { FwsealError } from "../errors.js";
import type { PassphraseCallback } from "./passphrase.js";
import type { PublicKeySpecOptions } from "./public-key-spec.js";

/** Options of loadSigner: those of a public key spec (passphrase file, prompts), and more. */
export interface LoadSignerOptions extends PublicKeySpecOptions {
  /** Delegation certificate to attach (not checked here: pack/verify do that). */
  certificate?: Uint8Array;
  /** Passphrase of an encrypted key file, or a function asked for it only when needed. */
  passphrase?: string | PassphraseCallback;
  /** User PIN of a PKCS#11 token. */
  pin?: string;
  /** Read FWSEAL_PASSPHRASE / FWSEAL_PKCS11_PIN (default true). */
  env?: boolean;
  /** Audit log for an HSS/LMS key's leaf records and restored-backup check (default $FWSEAL_AUDIT_LOG). */
  audit?: string;
}

/** Where a loaded signer's key lives: a key file or a PKCS#11 token. */
export type KeySource = "file" | "pkcs11";

/** A signer from loadSigner: a Signer with its key ID, source and spec; close() releases a token session. */
export interface LoadedSigner extends Signer {
  readonly keyId: string;
  readonly source: KeySource;
  /** The spec as given (a file path or a URI: never secret). */
  readonly spec: string;
  close(): void;
}

// A key file's LocalSigner or HssLmsFileSigner, or a token's Pkcs11Signer, labelled with
// where it came from. Only the token holds something to release (its session).
class SourcedSigner implements LoadedSigner {
  readonly source: KeySource;
  readonly publicKey: Uint8Array;
  readonly certificate?: Uint8Array;
  readonly signatureLength: number;
  readonly spec: string;
  private readonly inner: LocalSigner | Pkcs11Signer | HssLmsFileSigner;

  constructor(source: KeySource, inner: LocalSigner | Pkcs11Signer | HssLmsFileSigner, spec: string, certificate?: Uint8Array) {
    this.source = source;
    this.inner = inner;
    this.spec = spec;
    this.publicKey = inner.publicKey;
    this.signatureLength = inner instanceof HssLmsFileSigner ? inner.signatureLength : 64;
    const cert = inner instanceof HssLmsFileSigner ? certificate : inner.certificate;
    if (cert !== undefined) this.certificate = cert;
  }
  get keyId(): string {
    return keyIdHex(this.publicKey);
  }
  sign(message: Uint8Array): Promise<Uint8Array> {
    return this.inner.sign(message);
  }
  close(): void {
    if (this.inner instanceof Pkcs11Signer) this.inner.close();
  }
  toJSON(): object {
    return { spec: this.spec, keyId: this.keyId };
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `${this.source === "pkcs11" ? "TokenSigner" : "FileSigner"}(${this.keyId})`;
  }
}

/** A signer from a key file path or a `pkcs11:` URI. */
export async function loadSigner(spec: string, opts: LoadSignerOptions = {}): Promise<LoadedSigner> {
  if (isPkcs11Uri(spec)) {
    const s = await openPkcs11Signer(spec, { certificate: opts.certificate, prompt: opts.prompt, pin: opts.pin, env: opts.env });
    return new SourcedSigner("pkcs11", s, spec);
  }
  if (await isHssKeyFile(spec)) {
    // Stateful: every sign() advances and persists the key file's leaf counter first.
    return new SourcedSigner("file", await HssLmsFileSigner.open(spec, { audit: opts.audit }), spec, opts.certificate);
  }
  const key = await loadPrivateKey(spec, { passphrase: opts.passphrase, passphraseFile: opts.passphraseFile, prompt: opts.prompt, env: opts.env });
  return new SourcedSigner("file", new LocalSigner(key, opts.certificate), spec);
}

// Does the file hold an fwseal HSS/LMS private key? (A missing or unreadable file: no; the
// Ed25519 loader then reports it.)
async function isHssKeyFile(path: string): Promise<boolean> {
  try {
    return isHssPrivateKeyPem(await fsp.readFile(path, "latin1"));
  } catch {
    return false;
  }
}

/** Release token sessions (safe for any Signer). */
export function closeSigners(signers: readonly Signer[]): void {
  for (const s of signers) {
    const c = (s as Partial<LoadedSigner>).close;
    if (typeof c === "function") {
      try {
        c.call(s);
      } catch {
        /* ignore */
      }
    }
  }
}

/** "file" / "pkcs11" / mixed, for audit records. */
export function keySourceOf(signers: readonly Signer[]): string {
  const kinds = new Set(signers.map((s) => (s as Partial<LoadedSigner>).source ?? (s instanceof Pkcs11Signer ? "pkcs11" : "file")));
  return [...kinds].sort().join("+");
}

/**
 * The same key with a delegation certificate attached (the session is shared). Throws
 * KEY_CORRUPT for bytes that are not a certificate and KEY_WRONG_TYPE (exit 4) for a
 * certificate of another key: signing with it would make a bundle no device accepts.
 */
export function withCertificate(s: LoadedSigner, certificate: Uint8Array | undefined): LoadedSigner {
  // Library callers: a file name where the bytes belong, or no signer, is a usage error, not a corrupt certificate.
  if (typeof s !== "object" || s === null || !(s.publicKey instanceof Uint8Array)) throw new FwsealError("USAGE", "withCertificate: the first argument must be a signer from loadSigner");
  if (certificate === undefined) return s;
  if (!(certificate instanceof Uint8Array)) {
    throw new FwsealError("USAGE", `withCertificate: certificate must be the certificate's bytes (read the file with readFile), not ${typeof certificate === "string" ? "a file name" : typeof certificate}`);
  }
  assertCertifies(checkCertificateBytes(certificate, "certificate").body.publicKey, s.publicKey, "certificate");
  return {
    source: s.source,
    spec: s.spec,
    publicKey: s.publicKey,
    certificate,
    signatureLength: s.signatureLength,
    keyId: s.keyId,
    sign: (m: Uint8Array) => s.sign(m),
    close: () => s.close()
  };
}
