// One signature check on the host for either kind of key: Ed25519 (32-byte key, the device
// core's strict Ed25519) or HSS/LMS (60-byte key, the device core's HSS/LMS verifier), so
// host tools that check a single signature (drafts, finalize) follow the device's rules.
import { createNodePrimitives } from "../bundle/node-primitives.js";
import { verifyHss } from "./hss/hss-verify.js";
import { isHssKey } from "../../formats/host-only/keyid.js";

const prim = createNodePrimitives();

/** Does `signature` verify over `message` under `publicKey` (Ed25519 or HSS/LMS, by its length)? */
export function signatureMatches(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (isHssKey(publicKey)) return verifyHss(publicKey, message, signature);
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  return prim.ed25519Verify(publicKey, signature, message, 0, message.length);
}
