// The host's HSS/LMS verifier (RFC 8554 §5.4.2 and §6.3). Signing checks every signature
// with it before returning one (a fault in key material or in the tree cache must not
// produce a bad or, worse, a revealing signature), and the tests compare it with an
// independent implementation. Devices use their own verifier in the constrained core.
import { HASH_LEN, I_LEN, LMS_PUB_LEN, MAX_LEVELS, lmotsByType, lmsByType, lmsSigLen } from "./params.js";
import { lmotsCandidate } from "./lm-ots.js";
import { interiorNode, leafNode } from "./lms-tree.js";

function u32(b: Uint8Array, off: number): number {
  return Buffer.from(b.buffer, b.byteOffset, b.length).readUInt32BE(off);
}

/** Verify one LMS signature against a 56-byte LMS public key. Every length is checked before hashing. */
export function verifyLms(pub: Uint8Array, message: Uint8Array, sig: Uint8Array): boolean {
  if (pub.length !== LMS_PUB_LEN || sig.length < 8) return false;
  const lms = lmsByType(u32(pub, 0));
  const ots = lmotsByType(u32(pub, 4));
  if (lms === undefined || ots === undefined) return false;
  if (sig.length !== lmsSigLen(lms, ots)) return false;
  if (u32(sig, 4) !== ots.type || u32(sig, 4 + ots.sigLen) !== lms.type) return false;
  const q = u32(sig, 0);
  if (q >= 2 ** lms.h) return false;
  const I = pub.subarray(8, 8 + I_LEN);
  const Kc = lmotsCandidate(ots, I, q, sig.subarray(4, 4 + ots.sigLen), message);
  if (Kc === null) return false;
  let nodeNum = 2 ** lms.h + q;
  let tmp: Uint8Array = leafNode(I, nodeNum, Kc);
  const path = sig.subarray(8 + ots.sigLen);
  for (let i = 0; nodeNum > 1; i++) {
    const sibling = path.subarray(i * HASH_LEN, (i + 1) * HASH_LEN);
    const parent = Math.floor(nodeNum / 2);
    tmp = nodeNum % 2 === 1 ? interiorNode(I, parent, sibling, tmp) : interiorNode(I, parent, tmp, sibling);
    nodeNum = parent;
  }
  return Buffer.from(tmp).equals(Buffer.from(pub.subarray(8 + I_LEN)));
}

/** Length of the LMS signature at the start of `b`, from its own type fields; -1 if unknown or short. */
function lmsSigLenAt(b: Uint8Array): number {
  if (b.length < 8) return -1;
  const ots = lmotsByType(u32(b, 4));
  if (ots === undefined || b.length < 8 + ots.sigLen) return -1;
  const lms = lmsByType(u32(b, 4 + ots.sigLen));
  if (lms === undefined) return -1;
  return lmsSigLen(lms, ots);
}

/** Verify an HSS signature (1 or 2 levels) against an HSS public key (u32str(L) || LMS public key). */
export function verifyHss(pub: Uint8Array, message: Uint8Array, sig: Uint8Array): boolean {
  if (pub.length !== 4 + LMS_PUB_LEN || sig.length < 4) return false;
  const L = u32(pub, 0);
  if (L < 1 || L > MAX_LEVELS) return false;
  if (u32(sig, 0) !== L - 1) return false;
  let key = pub.subarray(4);
  let rest = sig.subarray(4);
  for (let i = 0; i < L - 1; i++) {
    const n = lmsSigLenAt(rest);
    if (n < 0 || rest.length < n + LMS_PUB_LEN) return false;
    const childPub = rest.subarray(n, n + LMS_PUB_LEN);
    if (!verifyLms(key, childPub, rest.subarray(0, n))) return false;
    key = childPub;
    rest = rest.subarray(n + LMS_PUB_LEN);
  }
  return verifyLms(key, message, rest);
}
