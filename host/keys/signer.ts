// A signing key as the packer sees it: a local PKCS#8 key, an HSM object (PKCS#11), or an
// offline ceremony. The private key never leaves the implementation.
/** What signs bundles and certificates: a public key, an optional delegation certificate, sign(message). */
export interface Signer {
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** Delegation certificate (tagged COSE_Sign1 bytes, formats/SPEC.md §5), if not a root key. */
  readonly certificate?: Uint8Array;
  /** Bytes of each signature (absent: 64, Ed25519; an HSS/LMS key's is fixed by its parameter sets). */
  readonly signatureLength?: number;
  /** Signature over message: Ed25519 (64 bytes) or HSS/LMS (signatureLength bytes). */
  sign(message: Uint8Array): Promise<Uint8Array>;
}
