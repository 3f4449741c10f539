// A signing key as the packer sees it: a local PKCS#8 key, an HSM object (PKCS#11), or an
// offline ceremony. The private key never leaves the implementation.
/** What signs bundles and certificates: a public key, an optional delegation certificate, sign(message). */
export interface Signer {
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** Delegation certificate (tagged COSE_Sign1 bytes, formats/SPEC.md §5), if not a root key. */
  readonly certificate?: Uint8Array;
  /** Ed25519 signature (64 bytes) over message. */
  sign(message: Uint8Array): Promise<Uint8Array>;
}
