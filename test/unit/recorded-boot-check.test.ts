// The recorded boot check (device-sim/core/verify/recorded-boot-check.ts): a full check
// once per envelope and trust state, then only the chain re-hash against the recorded head;
// anything that differs falls back to the full check.
import { describe, expect, it } from "vitest";
import { buildBundle } from "../../formats/host-only/bundle-builder.js";
import { Reason } from "../../formats/device-safe/reasons.js";
import { createBundleVerifier, VerifyEvent } from "../../device-sim/core/verify/bundle-verifier.js";
import { createRecordedBootCheck, BootCheckPath, BOOT_RECORD_LEN } from "../../device-sim/core/verify/recorded-boot-check.js";
import type { Primitives } from "../../device-sim/core/crypto/primitives.js";
import { config, opts, primitives, root0 } from "../helpers/verifier-fixtures.js";
import { patternImage } from "../helpers/images.js";

const IMG = patternImage(1000); // chunks of 256: 256, 256, 256, 232

/** Primitives that count signature verifications. */
function counting(): { prim: Primitives; sigs: () => number } {
  let n = 0;
  const prim: Primitives = {
    sha256: primitives.sha256,
    ed25519Verify: (pk, sig, msg, off, len) => {
      n++;
      return primitives.ed25519Verify(pk, sig, msg, off, len);
    }
  };
  return { prim, sigs: () => n };
}

/** A record store in memory, as a board keeps it in one small file. */
function memoryRecord(): { hal: { readBootRecord(d: Uint8Array): boolean; writeBootRecord(s: Uint8Array): void }; bytes: () => Uint8Array | null } {
  let rec: Uint8Array | null = null;
  return {
    hal: {
      readBootRecord: (d) => {
        if (!rec) return false;
        d.set(rec);
        return true;
      },
      writeBootRecord: (s) => {
        rec = s.slice();
      }
    },
    bytes: () => rec
  };
}

/** Feeds a whole bundle to a verifier; returns the last event. */
function feedAll(v: ReturnType<typeof createBundleVerifier>, b: Uint8Array): number {
  let p = 0;
  let ev: number = VerifyEvent.NEED_MORE;
  while (p < b.length) {
    ev = v.push(b, p, b.length - p);
    p += v.consumed;
    if (ev === VerifyEvent.REJECT) break;
  }
  if (ev !== VerifyEvent.REJECT) ev = v.end();
  return ev;
}

async function setup() {
  const bundle = await buildBundle(IMG, opts({ sequence: 3 }), [root0]);
  const c = counting();
  const vcfg = config({ primitives: c.prim });
  const bcfg = config({ primitives: c.prim });
  const shared = createBundleVerifier(vcfg);
  const rec = memoryRecord();
  const check = createRecordedBootCheck(bcfg, shared, vcfg, rec.hal);
  const flash = IMG.slice();
  const read = (o: number, dst: Uint8Array, dOff: number, n: number) => dst.set(flash.subarray(o, o + n), dOff);
  return { bundle, c, vcfg, bcfg, shared, rec, check, flash, read };
}

describe("recorded boot check", () => {
  it("checks signatures once, then re-hashes only; a changed image byte is still refused", async () => {
    const { bundle, c, check, flash, read, shared, rec } = await setup();
    expect(shared.push(bundle, 0, bundle.length)).toBe(VerifyEvent.ENVELOPE);
    const env = shared.envelope.slice(0, shared.envelopeLen);
    shared.reset();
    const before = c.sigs();
    expect(check.check(env, env.length, read)).toBe(Reason.OK);
    expect(check.lastPath).toBe(BootCheckPath.FULL);
    expect(c.sigs()).toBe(before + 1);
    expect(rec.bytes()?.length).toBe(BOOT_RECORD_LEN);
    const head = check.chainHead.slice();
    expect(check.check(env, env.length, read)).toBe(Reason.OK);
    expect(check.lastPath).toBe(BootCheckPath.RECORDED);
    expect(c.sigs()).toBe(before + 1);
    expect(check.chainHead).toEqual(head);
    // A flipped image bit: the re-hash differs, the full check decides (and refuses).
    flash[600] ^= 1;
    expect(check.check(env, env.length, read)).toBe(Reason.CHUNK_HASH_MISMATCH);
    expect(check.lastPath).toBe(BootCheckPath.FULL);
    flash[600] ^= 1;
    expect(check.check(env, env.length, read)).toBe(Reason.OK);
    expect(check.lastPath).toBe(BootCheckPath.RECORDED);
    // A changed envelope byte is another key: full check, which refuses it.
    const bad = env.slice();
    bad[bad.length - 1] ^= 1;
    expect(check.check(bad, bad.length, read)).toBe(Reason.BAD_SIGNATURE);
    expect(check.lastPath).toBe(BootCheckPath.FULL);
  });

  it("binds the verdict to the trust state: a retired root or a raised key epoch floor means a full check", async () => {
    const { bundle, check, read, shared, bcfg, c } = await setup();
    shared.push(bundle, 0, bundle.length);
    const env = shared.envelope.slice(0, shared.envelopeLen);
    shared.reset();
    expect(check.check(env, env.length, read)).toBe(Reason.OK);
    bcfg.rootRetired = 1;
    expect(check.check(env, env.length, read)).toBe(Reason.REVOKED_ROOT);
    expect(check.lastPath).toBe(BootCheckPath.FULL);
    bcfg.rootRetired = 0;
    const n = c.sigs();
    bcfg.minEpoch = 1;
    expect(check.check(env, env.length, read)).toBe(Reason.OK);
    expect(check.lastPath).toBe(BootCheckPath.FULL);
    expect(c.sigs()).toBe(n + 1);
    expect(check.check(env, env.length, read)).toBe(Reason.OK);
    expect(check.lastPath).toBe(BootCheckPath.RECORDED);
  });

  it("records an install from the install verifier, keeps the A and B entries, and leaves the install verifier's configuration as it was", async () => {
    const { bundle, check, read, shared, vcfg, c } = await setup();
    vcfg.minSequence = 2;
    expect(feedAll(shared, bundle)).toBe(VerifyEvent.DONE);
    const env = shared.envelope.slice(0, shared.envelopeLen);
    check.recordInstalled(IMG.length);
    shared.reset();
    const n = c.sigs();
    expect(check.check(env, env.length, read)).toBe(Reason.OK);
    expect(check.lastPath).toBe(BootCheckPath.RECORDED);
    expect(c.sigs()).toBe(n);
    // A second image (the other slot) gets the other entry; both stay recorded.
    const img2 = patternImage(3000);
    const b2 = await buildBundle(img2, opts({ sequence: 4 }), [root0]);
    expect(feedAll(shared, b2)).toBe(VerifyEvent.DONE);
    const env2 = shared.envelope.slice(0, shared.envelopeLen);
    check.recordInstalled(img2.length);
    shared.reset();
    const read2 = (o: number, dst: Uint8Array, dOff: number, k: number) => dst.set(img2.subarray(o, o + k), dOff);
    expect(check.check(env2, env2.length, read2)).toBe(Reason.OK);
    expect(check.lastPath).toBe(BootCheckPath.RECORDED);
    expect(check.check(env, env.length, read)).toBe(Reason.OK);
    expect(check.lastPath).toBe(BootCheckPath.RECORDED);
    // The full check ran with the boot configuration (no rollback) and restored the install's.
    vcfg.minSequence = 10;
    const env3 = env.slice();
    expect(check.check(env3, env3.length - 1, read)).toBe(Reason.TRUNCATED);
    expect(vcfg.minSequence).toBe(10);
    expect(feedAll(shared, bundle)).toBe(VerifyEvent.REJECT);
  });
});
