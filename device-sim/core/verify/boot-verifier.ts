// Boot-time re-verification (formats/SPEC.md §7 "Boot-time re-verification"). CONSTRAINED TS.
// Re-checks the stored envelope (signatures, trust, retired roots, key epochs, vendor/class;
// not rollback: the stored bundle is the running one; not certificate validity windows:
// they were checked against trusted time at install, and a confirmed image must not stop
// booting because the clock moved on, SPEC §8.5; with bootAlgorithms configured, only the
// signatures of those algorithms), then recomputes the chain back to front
// from flash with one chunk buffer and 32 bytes, and compares with the signed chain head.
import { Reason } from "../../../formats/device-safe/reasons.js";
import { Limits } from "../../../formats/device-safe/limits.js";
import { BundleVerifier, VerifierConfig, VerifyEvent, createBundleVerifier } from "./bundle-verifier.js";
import type { ImageRead } from "./bundle-verifier.js";

export type { ImageRead };

export class BootVerifier {
  // chain head of the last image that passed check() (the release identity, SPEC §8.2)
  chainHead: Uint8Array;
  private v: BundleVerifier;
  private next: Uint8Array;

  // `shared`: an existing bundle verifier (same roots and identity) whose buffers the boot
  // check borrows, so a device needs only one set (SPEC §9). It is reset() after each check.
  constructor(cfg: VerifierConfig, shared?: BundleVerifier) {
    this.v = shared ? shared : createBundleVerifier(cfg);
    this.next = new Uint8Array(Limits.HASH_LEN);
    this.chainHead = new Uint8Array(Limits.HASH_LEN);
  }

  // The verifier's own envelope buffer (MAX_ENVELOPE bytes): a boot loader reads the stored
  // envelope into it and passes it to check(), which then copies nothing, so the device needs
  // no second envelope-sized buffer.
  envelopeBuffer(): Uint8Array {
    return this.v.envelope;
  }

  // Returns Reason.OK (0) or the reason the installed image must not boot.
  check(envelope: Uint8Array, envLen: number, readImage: ImageRead): number {
    const v = this.v;
    v.reset();
    v.checkRollback = false;
    v.checkValidity = false;
    v.atBoot = true;
    const rc = this.run(envelope, envLen, readImage);
    v.checkRollback = true;
    v.checkValidity = true;
    v.atBoot = false;
    v.reset();
    return rc;
  }

  private run(envelope: Uint8Array, envLen: number, readImage: ImageRead): number {
    const v = this.v;
    if (envLen < 1 || envLen > envelope.length) return Reason.MALFORMED;
    const ev = v.push(envelope, 0, envLen);
    if (ev === VerifyEvent.REJECT) return v.reason;
    if (ev !== VerifyEvent.ENVELOPE) return Reason.TRUNCATED;
    if (v.consumed !== envLen) return Reason.TRAILING_DATA;
    const next = this.next;
    v.imageChainHead(readImage, next);
    let d = 0;
    for (let k = 0; k < Limits.HASH_LEN; k++) d |= next[k] ^ v.chainHead[k];
    if (d !== 0) return Reason.CHUNK_HASH_MISMATCH;
    for (let k = 0; k < Limits.HASH_LEN; k++) this.chainHead[k] = next[k];
    return Reason.OK;
  }
}

export function createBootVerifier(cfg: VerifierConfig, shared?: BundleVerifier): BootVerifier {
  return new BootVerifier(cfg, shared);
}
