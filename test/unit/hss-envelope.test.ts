// HSS/LMS keys in the bundle format, on the device core (formats/SPEC.md §3, §5, §6, §8.1,
// §8.5, §11): typed root slots, alg/key matching in signers, certificates and root
// statements, the hybrid policy and the boot check's algorithms. The golden vectors
// (test/unit/vectors.test.ts) cover the bundle verdicts on every engine; this suite covers
// what vectors do not: root-list parsing, statements, the boot check, the work done.
import { describe, it, expect } from "vitest";
import { parseRootList, rootKeyOffset } from "../../formats/device-safe/root-keys.js";
import { packRoots, rootListText } from "../../formats/host-only/root-slots.js";
import { AlgorithmBit, ALG_ED25519, ALG_HSS_LMS } from "../../formats/device-safe/limits.js";
import { Reason, reasonName } from "../../formats/device-safe/reasons.js";
import { buildCertificate, encodeCertBody } from "../../formats/host-only/certificate.js";
import { encodeProtectedHeader, encodeSign1, sigStructure1 } from "../../formats/host-only/cose.js";
import { keyId } from "../../formats/host-only/keyid.js";
import { encodeRootRetirementPayload, encodeRootStatement, rootStatementToBeSigned } from "../../formats/host-only/root-statement.js";
import { createRootStatementVerifier } from "../../device-sim/core/verify/root-statement.js";
import { createBootVerifier } from "../../device-sim/core/verify/boot-verifier.js";
import type { VerifierConfig } from "../../device-sim/core/verify/bundle-verifier.js";
import { SeededHssKey } from "../../dev/hss-vector-key.js";
import { buildBundle, countingPrimitives, opts, primitives, root0, run, VENDOR, CLASS } from "../helpers/verifier-fixtures.js";

const hssRoot = new SeededHssKey("unit hss root");
const hssRelease = new SeededHssKey("unit hss release");

function hybridConfig(over: Partial<VerifierConfig> = {}): VerifierConfig {
  const packed = packRoots([root0.publicKey, hssRoot.publicKey]);
  return {
    primitives, roots: packed.roots, rootCount: 2, rootHssMask: packed.rootHssMask, rootRetired: 0,
    vendorId: VENDOR, classId: CLASS, minSequence: 0, minEpoch: 0, threshold: 1, now: -1, maxChunkSize: 4096, ...over
  };
}

const image = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31) & 255);

describe("root slots of either key type", () => {
  it("parses the text forms: Ed25519 keys concatenated (as before), entries joined by + or ,", () => {
    const keys = [root0.publicKey, hssRoot.publicKey, root0.publicKey];
    const out = new Uint8Array(240);
    const n = parseRootList(rootListText(keys), out);
    expect(rootListText(keys)).toContain("+");
    expect(n).toBe(3 * 256 + 2);
    expect(Buffer.from(out.subarray(0, rootKeyOffset(2, 3)))).toEqual(Buffer.from(packRoots(keys).roots));
    expect(parseRootList(rootListText(keys).replace(/\+/g, ","), out)).toBe(3 * 256 + 2);
    const legacy = Buffer.concat([root0.publicKey, root0.publicKey]).toString("hex");
    expect(rootListText([root0.publicKey, root0.publicKey])).toBe(legacy);
    expect(parseRootList(legacy, out)).toBe(2 * 256);
    for (const bad of ["", "zz", "00", legacy + "+", legacy.slice(1), "00".repeat(33), [legacy, legacy, legacy].join("+")]) {
      expect(parseRootList(bad, out), bad.slice(0, 20)).toBe(-1);
    }
  });
});

describe("signers and certificates: the alg must be the key's", () => {
  it("an HSS/LMS root certifies an Ed25519 key, an Ed25519 root an HSS/LMS key; a certificate with the wrong alg is ALG_KEY_MISMATCH", async () => {
    const bundle = (signer: { publicKey: Uint8Array; certificate?: Uint8Array; sign(m: Uint8Array): Promise<Uint8Array> }) =>
      buildBundle(image(3000), opts(), [signer]);
    const viaHss = await buildCertificate(hssRoot, { publicKey: root0.publicKey, epoch: 1 });
    // root0 is also slot 0: signing with its certificate still resolves through the certificate.
    const root0With = (certificate: Uint8Array) => ({ publicKey: root0.publicKey, certificate, sign: (m: Uint8Array) => root0.sign(m) });
    expect(run(await bundle(root0With(viaHss)), hybridConfig()).reason).toBe("OK");
    const hssCert = await buildCertificate(root0, { publicKey: hssRelease.publicKey, epoch: 1 });
    expect(run(await bundle({ publicKey: hssRelease.publicKey, certificate: hssCert, sign: (m) => hssRelease.sign(m) }), hybridConfig()).reason).toBe("OK");
    // An HSS/LMS certificate (alg -46) under the Ed25519 root's kid: refused before any signature work.
    const prot = encodeProtectedHeader({ alg: ALG_HSS_LMS, kid: keyId(root0.publicKey) });
    const body = encodeCertBody({ publicKey: hssRelease.publicKey, epoch: 1 });
    const wrongAlg = encodeSign1(prot, new Map(), body, await hssRoot.sign(sigStructure1(prot, body)));
    const prims = countingPrimitives();
    const r = run(await bundle({ publicKey: hssRelease.publicKey, certificate: wrongAlg, sign: (m) => hssRelease.sign(m) }), hybridConfig({ primitives: prims }));
    expect(r.reason).toBe("ALG_KEY_MISMATCH");
    expect(prims.ed25519Calls).toBe(0);
  });
});

describe("boot check of a hybrid image (SPEC §8.5)", () => {
  it("with bootAlgorithms = HSS/LMS only the HSS/LMS signature is verified; without it both are", async () => {
    const b = await buildBundle(image(5000), opts({ chunkSize: 1024 }), [root0, { publicKey: hssRoot.publicKey, sign: (m) => hssRoot.sign(m) }]);
    const envLen = b.length - 5000 - 32 * 5;
    const readImage = (off: number, dst: Uint8Array, dOff: number, len: number): void => {
      for (let i = 0; i < len; i++) {
        const abs = off + i;
        const chunk = Math.floor(abs / 1024);
        dst[dOff + i] = b[envLen + chunk * (1024 + 32) + (abs % 1024)];
      }
    };
    const required = AlgorithmBit.ED25519 | AlgorithmBit.HSS_LMS;
    for (const [bootAlgorithms, edCalls] of [[AlgorithmBit.HSS_LMS, 0], [0, 1]] as const) {
      const prims = countingPrimitives();
      const boot = createBootVerifier(hybridConfig({ primitives: prims, requiredAlgorithms: required, bootAlgorithms }));
      expect(reasonName(boot.check(b, envLen, readImage))).toBe("OK");
      expect(prims.ed25519Calls).toBe(edCalls);
    }
    // The install check still demands both: the Ed25519 signature alone is not enough.
    const edOnly = await buildBundle(image(5000), opts({ chunkSize: 1024 }), [root0]);
    expect(run(edOnly, hybridConfig({ requiredAlgorithms: required, bootAlgorithms: AlgorithmBit.HSS_LMS })).reason).toBe("ALGORITHM_POLICY_NOT_MET");
    // At boot with bootAlgorithms = HSS/LMS, an image without an HSS/LMS signature does not pass.
    const boot = createBootVerifier(hybridConfig({ requiredAlgorithms: required, bootAlgorithms: AlgorithmBit.HSS_LMS }));
    expect(reasonName(boot.check(edOnly, edOnly.length - 5000 - 32 * 5, readImage))).toBe("ALGORITHM_POLICY_NOT_MET");
  });
});

describe("root statements signed by an HSS/LMS root (SPEC §11)", () => {
  it("a statement signed by the HSS/LMS root retires the Ed25519 slot; an HSS/LMS signature under an Ed25519 root's kid is ALG_KEY_MISMATCH", async () => {
    const packed = packRoots([root0.publicKey, hssRoot.publicKey, new Uint8Array(32).fill(9)]);
    const state = { roots: packed.roots, rootCount: 3, rootHssMask: packed.rootHssMask, rootRetired: 4, vendorId: VENDOR, classId: CLASS };
    const payload = encodeRootRetirementPayload({ slot: 0, counter: 5, vendorId: VENDOR, retiredKey: root0.publicKey });
    const sign1 = async (alg: number, kidOf = hssRoot.publicKey, body = payload): Promise<Uint8Array> => {
      const prot = encodeProtectedHeader({ alg, kid: keyId(kidOf) });
      return encodeRootStatement(prot, body, await hssRoot.sign(rootStatementToBeSigned(prot, body)));
    };
    const v = createRootStatementVerifier(primitives);
    const good = await sign1(ALG_HSS_LMS);
    expect(good.length).toBeGreaterThan(hssRoot.signatureLength);
    expect(reasonName(v.check(good, good.length, state, 0, 0))).toBe("OK");
    expect(v.retiredMask).toBe(5);
    // alg -19 says 64 bytes: an HSS/LMS-length signature is a structure fault.
    const shortAlg = await sign1(ALG_ED25519);
    expect(v.check(shortAlg, shortAlg.length, state, 0, 0)).toBe(Reason.MALFORMED);
    const retireHss = encodeRootRetirementPayload({ slot: 1, counter: 5, vendorId: VENDOR, retiredKey: hssRoot.publicKey });
    const mismatch = await sign1(ALG_HSS_LMS, root0.publicKey, retireHss);
    expect(v.check(mismatch, mismatch.length, state, 0, 0)).toBe(Reason.ALG_KEY_MISMATCH);
    const flipped = good.slice();
    flipped[flipped.length - 100] ^= 1;
    expect(v.check(flipped, flipped.length, state, 0, 0)).toBe(Reason.BAD_SIGNATURE);
  });
});
