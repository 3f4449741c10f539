// The host's HSS/LMS verification is the device core's verifier (device-sim/core/crypto/
// hss-lms.ts) with node:crypto SHA-256, so the host and a device reach the same verdict by
// construction, as for Ed25519. Signing checks every signature with it before returning one
// (a fault in key material or in the tree cache must not produce a bad, or worse, a
// revealing signature); the tests compare it with an independent implementation.
import { createHssVerifier, type HssVerifier } from "../../../device-sim/core/crypto/hss-lms.js";
import { createNodePrimitives } from "../../bundle/node-primitives.js";
import { Reason } from "../../../formats/device-safe/reasons.js";

// The core's verifier copies the message into scratch sized at creation: keep one, and make
// a larger one when a longer message comes.
let verifier: HssVerifier | null = null;
let capacity = 0;

function verifierFor(messageLen: number): HssVerifier {
  if (verifier === null || messageLen > capacity) {
    capacity = Math.max(messageLen, 4096);
    verifier = createHssVerifier(createNodePrimitives(), capacity);
  }
  return verifier;
}

/** Verify an HSS signature (RFC 8554 §6.3) against an HSS public key (u32 L || LMS public key). */
export function verifyHss(pub: Uint8Array, message: Uint8Array, sig: Uint8Array): boolean {
  return verifierFor(message.length).verify(pub, 0, pub.length, sig, 0, sig.length, message, 0, message.length) === Reason.OK;
}

/** Verify one LMS signature against a 56-byte LMS public key: an HSS signature with one level. */
export function verifyLms(pub: Uint8Array, message: Uint8Array, sig: Uint8Array): boolean {
  const hssPub = new Uint8Array(4 + pub.length);
  hssPub[3] = 1; // L = 1
  hssPub.set(pub, 4);
  const hssSig = new Uint8Array(4 + sig.length); // Nspk = 0
  hssSig.set(sig, 4);
  return verifyHss(hssPub, message, hssSig);
}
