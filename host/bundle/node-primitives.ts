// Primitives for the device core when it runs inside Node (host verifier, simulator):
// SHA-256 from node:crypto (OpenSSL, uses the CPU's SHA instructions) and Ed25519 from
// the core itself, so the host makes exactly the device's Ed25519 decisions (SPEC §6.1:
// strict, cofactorless). Bundle verification uses host-ed25519.ts instead (node:crypto's
// Ed25519 behind the §6.1 encoding checks: the same decisions, natively).
import { createHash } from "node:crypto";
import type { Primitives } from "../../device-sim/core/crypto/primitives.js";
import { ed25519Verify } from "../../device-sim/core/crypto/ed25519.js";

export function sha256Node(buf: Uint8Array, off: number, len: number, out: Uint8Array): void {
  const d = createHash("sha256").update(buf.subarray(off, off + len)).digest();
  out.set(d, 0);
}

/** Primitives.copyBytes natively (one view per call, which a primitive may make). */
export function copyBytesNode(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, n: number): void {
  dst.set(src.subarray(srcOff, srcOff + n), dstOff);
}

export function createNodePrimitives(): Primitives {
  return { sha256: sha256Node, ed25519Verify, copyBytes: copyBytesNode };
}
