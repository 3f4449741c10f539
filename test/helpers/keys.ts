// Ed25519 key pairs and signers for tests: deterministic ones from a one-byte seed (stable
// key IDs and signatures across runs and engines), fresh random ones, and the usual
// root + delegated release key set.
import { buildCertificate } from "../../formats/host-only/certificate.js";
import { generateKeyPair, keyPairFromSeed, LocalSigner, type KeyPair } from "../../host/keys/keys.js";
import type { Signer } from "../../host/keys/signer.js";

/** A signer as the bundle builder sees it (public key, optional certificate, sign()). */
export type TestKey = Signer;

/** The key pair whose 32-byte Ed25519 seed is `seedByte` repeated. */
export function seedKeyPair(seedByte: number): KeyPair {
  return keyPairFromSeed(new Uint8Array(32).fill(seedByte));
}

/** A deterministic signer: the seedKeyPair(seedByte) key, with an optional delegation certificate. */
export function seedSigner(seedByte: number, certificate?: Uint8Array): LocalSigner {
  return new LocalSigner(seedKeyPair(seedByte).privateKey, certificate);
}

/** The same key as `k`, now presenting `certificate` (a delegation by some root). */
export function withCert(k: TestKey, certificate: Uint8Array): TestKey {
  return { publicKey: k.publicKey, certificate, sign: (m: Uint8Array) => k.sign(m) };
}

/** A fresh random root signer, with its key pair. */
export function randomSigner(): { keyPair: KeyPair; signer: LocalSigner } {
  const keyPair = generateKeyPair();
  return { keyPair, signer: new LocalSigner(keyPair.privateKey) };
}

/** A fresh random release key, delegated by `root` at `epoch` (the signer presents the certificate). */
export async function delegatedSigner(root: Signer, epoch: number): Promise<LocalSigner> {
  const release = generateKeyPair();
  const cert = await buildCertificate(root, { publicKey: release.publicKey, epoch });
  return new LocalSigner(release.privateKey, cert);
}

/** A root key and a release key it delegated (releaseSigner carries the certificate). */
export interface TestKeys {
  root: KeyPair;
  release: KeyPair;
  /** Signs with the release key, presenting the root's certificate for it. */
  releaseSigner: LocalSigner;
  rootSigner: LocalSigner;
}

/** Fresh random root and release keys; the release key is delegated at `epoch`. */
export async function makeKeys(epoch = 1): Promise<TestKeys> {
  const root = generateKeyPair();
  const release = generateKeyPair();
  const rootSigner = new LocalSigner(root.privateKey);
  const cert = await buildCertificate(rootSigner, { publicKey: release.publicKey, epoch });
  return { root, release, rootSigner, releaseSigner: new LocalSigner(release.privateKey, cert) };
}
