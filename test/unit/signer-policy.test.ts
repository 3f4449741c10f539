// FORMAT: who counts towards a bundle's signature policy (SPEC §8.1) and how much signature
// work an envelope can demand (SPEC §9). Real bundles from the host builder, the core
// verifier with its real primitives; the Ed25519 calls are counted by a wrapper around the
// real primitive.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createBundleVerifier } from "../../device-sim/core/verify/bundle-verifier.js";
import { Limits } from "../../formats/device-safe/limits.js";
import {
  badSigner, buildBundle, cert, config, countingPrimitives, opts, release, release2, root0, root1, root2, run, stranger,
} from "../helpers/verifier-fixtures.js";
import { patternImage } from "../helpers/images.js";
import { seedSigner, withCert, type TestKey } from "../helpers/keys.js";
import { createNodePrimitives } from "../../host/bundle/node-primitives.js";

const IMG = patternImage(700);
const ROOTS = [root0, root1, root2];
// Eight release keys beyond release / release2.
const KEYS = [20, 21, 22, 23, 24, 25, 26, 27].map((b) => seedSigner(b));

async function delegated(issuer: TestKey, k: TestKey, body: Parameters<typeof cert>[2] = {}): Promise<TestKey> {
  return withCert(k, await cert(issuer, k, body));
}

/** Verdict and counters of the core verifier on `bundle`. */
function verdict(bundle: Uint8Array, over: Parameters<typeof config>[0] = {}) {
  const prim = countingPrimitives(createNodePrimitives());
  const cfg = config({ primitives: prim, ...over });
  const r = run(bundle, cfg);
  const v = createBundleVerifier(config({ ...over }));
  v.push(bundle, 0, bundle.length);
  return { reason: r.reason, calls: prim.ed25519Calls, keys: v.countedSigners, roots: v.countedRoots };
}

describe("root threshold: distinct roots, alongside distinct keys (SPEC §8.1)", () => {
  it("one root that certified three keys meets k = 3 but not r = 2", async () => {
    const three = await buildBundle(IMG, opts(), [await delegated(root0, release), await delegated(root0, release2), await delegated(root0, KEYS[0])]);
    expect(verdict(three, { threshold: 3 })).toMatchObject({ reason: "OK", keys: 3, roots: 1 });
    expect(verdict(three, { threshold: 3, rootThreshold: 2 })).toMatchObject({ reason: "THRESHOLD_NOT_MET", roots: 1 });
    expect(verdict(three, { threshold: 1, rootThreshold: 2 }).reason).toBe("THRESHOLD_NOT_MET");
  });

  it("the same three keys certified through two roots meet k = 3, r = 2", async () => {
    const b = await buildBundle(IMG, opts(), [await delegated(root0, release), await delegated(root1, release2), await delegated(root0, KEYS[0])]);
    expect(verdict(b, { threshold: 3, rootThreshold: 2 })).toMatchObject({ reason: "OK", keys: 3, roots: 2 });
    expect(verdict(b, { threshold: 3, rootThreshold: 3 }).reason).toBe("THRESHOLD_NOT_MET");
  });

  it("a root's own signature and a key it certified are one root", async () => {
    const b = await buildBundle(IMG, opts(), [root0, await delegated(root0, release)]);
    expect(verdict(b, { threshold: 2 })).toMatchObject({ reason: "OK", roots: 1 });
    expect(verdict(b, { threshold: 2, rootThreshold: 2 }).reason).toBe("THRESHOLD_NOT_MET");
    const two = await buildBundle(IMG, opts(), [root0, await delegated(root1, release)]);
    expect(verdict(two, { threshold: 2, rootThreshold: 2 })).toMatchObject({ reason: "OK", keys: 2, roots: 2 });
  });

  it("r above k: two root-signed signers meet k = 1, r = 2; a retired root's signer does not count", async () => {
    const b = await buildBundle(IMG, opts(), [root0, root2]);
    expect(verdict(b, { rootThreshold: 2 })).toMatchObject({ reason: "OK", keys: 2, roots: 2 });
    expect(verdict(b, { rootThreshold: 2, rootRetired: 0b100 }).reason).toBe("REVOKED_ROOT");
    expect(verdict(await buildBundle(IMG, opts(), [root0, stranger, root1]), { threshold: 2, rootThreshold: 2 }).reason).toBe("OK");
  });

  it("a signer through a counted root is passed over when only roots are missing", async () => {
    // k = 3, r = 2: three keys through root0, then one through root1. The third root0 key
    // would meet k but not r; it is skipped without a signature check and root1's counts.
    const b = await buildBundle(IMG, opts(), [
      await delegated(root0, release), await delegated(root0, release2), await delegated(root0, KEYS[0]), await delegated(root1, KEYS[1]),
    ]);
    const v = verdict(b, { threshold: 3, rootThreshold: 2 });
    expect(v).toMatchObject({ reason: "OK", keys: 3, roots: 2 });
    expect(v.calls).toBe(6); // three counted signers, certificate and signature each
  });

  it("the default (r absent or < 1) is the key count alone", async () => {
    const b = await buildBundle(IMG, opts(), [await delegated(root0, release), await delegated(root0, release2)]);
    expect(verdict(b, { threshold: 2 }).reason).toBe("OK");
    expect(verdict(b, { threshold: 2, rootThreshold: 0 }).reason).toBe("OK");
    expect(verdict(b, { threshold: 2, rootThreshold: 1 }).reason).toBe("OK");
  });
});

describe("signature work per envelope is bounded (SPEC §9)", () => {
  it("eight signers with valid certificates and bad signatures cost 2 checks, not 16", async () => {
    const signers = await Promise.all(KEYS.map(async (k) => badSigner(await delegated(root0, k))));
    const b = await buildBundle(IMG, opts(), signers);
    expect(verdict(b)).toMatchObject({ reason: "BAD_SIGNATURE", calls: 2 });
    expect(verdict(b, { threshold: 8 })).toMatchObject({ reason: "BAD_SIGNATURE", calls: 2 });
  });

  it("eight replayed certificates that fail their policy cost one check", async () => {
    const signers = await Promise.all(KEYS.map((k) => delegated(root0, k, { notAfter: 1000 })));
    expect(verdict(await buildBundle(IMG, opts(), signers))).toMatchObject({ reason: "EXPIRED_KEY", calls: 1 });
    const scoped = await Promise.all(KEYS.map((k) => delegated(root1, k, { epoch: 0 })));
    expect(verdict(await buildBundle(IMG, opts(), scoped), { minEpoch: 1 })).toMatchObject({ reason: "REVOKED_KEY", calls: 1 });
  });

  it("a bad signature ends the signer step, keeping the first failing signer's reason", async () => {
    const good = await delegated(root1, release2);
    const b = await buildBundle(IMG, opts(), [stranger, badSigner(root0), good, root2]);
    expect(verdict(b, { threshold: 2 })).toMatchObject({ reason: "UNKNOWN_KEY", calls: 1 });
    expect(verdict(await buildBundle(IMG, opts(), [badSigner(root0), good, root2]), { threshold: 2 })).toMatchObject({ reason: "BAD_SIGNATURE", calls: 1 });
  });

  it("a duplicate key costs nothing, whatever certificate it carries", async () => {
    const a = await delegated(root0, release);
    const again = badSigner(await delegated(root1, release));
    expect(verdict(await buildBundle(IMG, opts(), [a, again, again, again]), { threshold: 2 })).toMatchObject({ reason: "THRESHOLD_NOT_MET", calls: 2 });
  });

  it("any signer mix under any policy: at most 2 * max(k, r) + 1 checks, never more than 2 per signer", async () => {
    const roots = ROOTS;
    const kinds = ["root", "delegated", "badSig", "badCertSig", "expired", "unknown", "dupPrev"] as const;
    const cache = new Map<string, TestKey>();
    async function signer(kind: (typeof kinds)[number], i: number, r: number): Promise<TestKey> {
      const key = `${kind}/${i}/${r}`;
      const hit = cache.get(key);
      if (hit) return hit;
      const k = KEYS[i % KEYS.length];
      let s: TestKey;
      if (kind === "root") s = roots[r];
      else if (kind === "delegated" || kind === "dupPrev") s = await delegated(roots[r], k);
      else if (kind === "badSig") s = badSigner(await delegated(roots[r], k));
      else if (kind === "expired") s = await delegated(roots[r], k, { notAfter: 1000 });
      else if (kind === "unknown") s = stranger;
      else {
        const c = (await cert(roots[r], k)).slice();
        c[c.length - 3] ^= 1; // the root's signature over the certificate
        s = withCert(k, c);
      }
      cache.set(key, s);
      return s;
    }
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ kind: fc.constantFrom(...kinds), key: fc.nat(7), root: fc.nat(2) }), { minLength: 1, maxLength: Limits.MAX_SIGNERS }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 3 }),
        async (spec, k, r) => {
          const signers = await Promise.all(spec.map((s, i) => signer(s.kind, s.kind === "dupPrev" && i > 0 ? spec[i - 1].key : s.key, s.root)));
          const b = await buildBundle(IMG, opts(), signers);
          const v = verdict(b, { threshold: k, rootThreshold: r });
          expect(v.calls).toBeLessThanOrEqual(2 * Math.max(k, r, 1) + 1);
          expect(v.calls).toBeLessThanOrEqual(2 * signers.length);
        }
      ),
      { numRuns: 60, seed: 20261201 }
    );
  }, 120_000);
});
