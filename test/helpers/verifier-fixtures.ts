// Shared fixtures for the bundle-format and streaming-verifier suites: deterministic root,
// release and stranger keys, bundle options, a verifier configuration trusting three roots,
// and run(), which feeds a bundle to the core verifier in pieces and records what it released.
import * as ed from "@noble/ed25519";
import { sha512 } from "@noble/hashes/sha2.js";
import { buildBundle, type BundleOptions } from "../../formats/host-only/bundle-builder.js";
import { buildCertificate, type CertBody } from "../../formats/host-only/certificate.js";
import { vendorUuid, classUuid } from "../../formats/host-only/uuid.js";
import { concatBytes } from "../../formats/host-only/cbor-encode.js";
import { createPurePrimitives } from "../../device-sim/core/crypto/pure-primitives.js";
import { createBundleVerifier, VerifyEvent, type VerifierConfig } from "../../device-sim/core/verify/bundle-verifier.js";
import { reasonName } from "../../formats/device-safe/reasons.js";
import type { Primitives } from "../../device-sim/core/crypto/primitives.js";
import { seedSigner, type TestKey } from "./keys.js";

ed.hashes.sha512 = sha512;

export const primitives = createPurePrimitives();

export const VENDOR = vendorUuid("acme.example");
export const CLASS = classUuid(VENDOR, "sensor-v3");
export const OTHER_VENDOR = vendorUuid("other.example");
export const OTHER_CLASS = classUuid(VENDOR, "sensor-v4");

export const root0 = seedSigner(1);
export const root1 = seedSigner(2);
export const root2 = seedSigner(3);
export const release = seedSigner(10);
export const release2 = seedSigner(11);
export const stranger = seedSigner(99);

export function opts(over: Partial<BundleOptions> = {}): BundleOptions {
  return { vendorId: VENDOR, classId: CLASS, sequence: 5, version: "1.2.3", chunkSize: 256, ...over };
}

export function config(over: Partial<VerifierConfig> = {}): VerifierConfig {
  const roots = new Uint8Array(96);
  roots.set(root0.publicKey, 0);
  roots.set(root1.publicKey, 32);
  roots.set(root2.publicKey, 64);
  return {
    primitives,
    roots,
    rootCount: 3,
    rootRetired: 0,
    vendorId: VENDOR,
    classId: CLASS,
    minSequence: 0,
    minEpoch: 0,
    threshold: 1,
    now: 1_800_000_000,
    maxChunkSize: 4096,
    ...over,
  };
}

export async function cert(issuer: TestKey, subject: TestKey, body: Partial<CertBody> = {}): Promise<Uint8Array> {
  return buildCertificate(issuer, { publicKey: subject.publicKey, epoch: 1, ...body });
}

export interface RunResult {
  events: number[];
  reason: string;
  rejectChunk: number;
  data: Uint8Array; // concatenated released chunk data
  chunks: number[];
}

/** Feeds `bundle` in pieces of the given sizes (cycled), then end(). */
export function run(bundle: Uint8Array, cfg: VerifierConfig = config(), sizes: number[] = [bundle.length || 1]): RunResult {
  const v = createBundleVerifier(cfg);
  const events: number[] = [];
  const parts: Uint8Array[] = [];
  const chunks: number[] = [];
  let off = 0;
  let si = 0;
  let ev = VerifyEvent.NEED_MORE;
  outer: while (off < bundle.length) {
    const n = Math.min(sizes[si++ % sizes.length], bundle.length - off);
    let p = off;
    const end = off + n;
    while (p < end) {
      ev = v.push(bundle, p, end - p);
      if (v.consumed < 0 || v.consumed > end - p) throw new Error("bad consumed");
      p += v.consumed;
      if (ev !== VerifyEvent.NEED_MORE) events.push(ev);
      if (ev === VerifyEvent.CHUNK) {
        parts.push(v.chunkData.slice(0, v.chunkLen));
        chunks.push(v.chunkIndex);
      }
      if (ev === VerifyEvent.REJECT) break outer;
      if (ev === VerifyEvent.NEED_MORE && p !== end) throw new Error("NEED_MORE with input left");
    }
    off = end;
  }
  if (ev !== VerifyEvent.REJECT) events.push(v.end());
  const data = concatBytes(...parts);
  return { events, reason: reasonName(v.reason), rejectChunk: v.rejectChunk, data, chunks };
}

export { buildBundle, ed };

/** Primitives that count the Ed25519 verifications they pass on to `base` (the real ones). */
export interface CountingPrimitives extends Primitives {
  ed25519Calls: number;
}

/** Wraps real primitives so a test can count the signature checks a verifier asks for. */
export function countingPrimitives(base: Primitives = primitives): CountingPrimitives {
  const p: CountingPrimitives = {
    ed25519Calls: 0,
    sha256: (buf, off, len, out) => base.sha256(buf, off, len, out),
    ed25519Verify: (pk, sig, msg, off, len) => {
      p.ed25519Calls++;
      return base.ed25519Verify(pk, sig, msg, off, len);
    },
  };
  return p;
}

/** The same key and certificate as `k`, producing signatures with one bit flipped. */
export function badSigner(k: TestKey): TestKey {
  return {
    publicKey: k.publicKey,
    certificate: k.certificate,
    sign: async (m: Uint8Array) => {
      const s = (await k.sign(m)).slice();
      s[0] ^= 1;
      return s;
    },
  };
}
