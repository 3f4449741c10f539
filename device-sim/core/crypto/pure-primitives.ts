// Pure constrained-TS implementations of the device core's crypto primitives (no native
// code): SHA-256 from sha256.ts and strict Ed25519 verification (SPEC §6.1) from ed25519.ts.
// Used on engines without native crypto (Duktape, Espruino for Ed25519) and by the host, so
// that host and device make the same Ed25519 decisions.

import type { Primitives } from "./primitives.js";
import { sha256 } from "./sha256.js";
import { ed25519Verify } from "./ed25519.js";

export function createPurePrimitives(): Primitives {
  return {
    sha256: sha256,
    ed25519Verify: ed25519Verify,
  };
}
