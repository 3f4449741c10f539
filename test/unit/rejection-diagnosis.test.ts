// Why a bundle was rejected, as the library explains a verdict: the key or certificate
// concerned, expected versus actual. The device core's verdict is the reason; the
// explanation only adds words and data to it.
import { describe, expect, it } from "vitest";
import { verifyBytes, type VerifyPolicy } from "../../host/bundle/verify.js";
import { explainVerdict, verdictError } from "../../host/bundle/rejection-diagnosis.js";
import { errorObject } from "../../host/documents.js";
import { keyIdHex } from "../../host/keys/keys.js";
import { formatUuid } from "../../formats/host-only/uuid.js";
import { withCert } from "../helpers/keys.js";
import { patternImage } from "../helpers/images.js";
import { buildBundle, cert, opts, release, root0, root1, CLASS, OTHER_CLASS, VENDOR } from "../helpers/verifier-fixtures.js";

const id = (k: { publicKey: Uint8Array }): string => keyIdHex(k.publicKey);
const NOW = 1_800_000_000;

async function rejectionOf(bundle: Uint8Array, policy: Partial<VerifyPolicy> = {}) {
  const full: VerifyPolicy = { roots: [root0.publicKey], vendor: VENDOR, deviceClass: CLASS, now: NOW, ...policy };
  const r = await verifyBytes(bundle, full);
  expect(r.valid).toBe(false);
  return { r, d: explainVerdict(r, full), e: verdictError(r, full) };
}

describe("rejections explained", () => {
  it("THRESHOLD_NOT_MET: how many of how many, and which signers counted", async () => {
    const ok = withCert(release, await cert(root0, release, { vendorId: VENDOR, classIds: [CLASS] }));
    const b = await buildBundle(patternImage(1000), opts(), [ok]);
    const { r, d, e } = await rejectionOf(b, { threshold: 2 });
    expect(r.reasonName).toBe("THRESHOLD_NOT_MET");
    expect(d.summary).toBe(`1 of 2 required signers (counted: ${id(release)})`);
    expect(d.details).toMatchObject({ expected: 2, actual: 1, signers: [{ keyId: id(release), counted: true, rootSlot: 0, why: null }] });
    expect(e.message).toBe(`rejected: THRESHOLD_NOT_MET (envelope): ${d.summary}`);
    expect(errorObject(e)).toMatchObject({ code: "BUNDLE_REJECTED", exitCode: 11, reason: 15, reasonName: "THRESHOLD_NOT_MET", chunk: null, details: d.details });
  });

  it("KEY_NOT_AUTHORIZED: the classes the certificate allows and the class targeted", async () => {
    const b = await buildBundle(patternImage(1000), opts(), [withCert(release, await cert(root0, release, { vendorId: VENDOR, classIds: [OTHER_CLASS] }))]);
    const { d } = await rejectionOf(b);
    expect(d.reasonName).toBe("KEY_NOT_AUTHORIZED");
    expect(d.summary).toBe(`certificate ${id(release)} allows classes [${formatUuid(OTHER_CLASS)}], not class ${formatUuid(CLASS)}`);
    expect(d.details.cause).toBeNull();
  });

  it("BAD_CERTIFICATE: who issued it, and that it is not one of the given roots", async () => {
    const b = await buildBundle(patternImage(1000), opts(), [withCert(release, await cert(root1, release))]);
    const { d } = await rejectionOf(b);
    expect(d.reasonName).toBe("BAD_CERTIFICATE");
    expect(d.summary).toBe(`certificate of key ${id(release)} is issued by ${id(root1)}, which is not one of the given roots (${id(root0)})`);
  });

  it("a bundle for another vendor: WRONG_VENDOR is named, even when the device refuses its signer first", async () => {
    const b = await buildBundle(patternImage(1000), opts(), [withCert(release, await cert(root0, release, { vendorId: VENDOR }))]);
    const { d } = await rejectionOf(b, { vendor: "other.example", deviceClass: undefined });
    expect(d.reasonName).toBe("KEY_NOT_AUTHORIZED"); // the core's verdict stands
    expect(d.details.cause).toEqual({ reason: 12, reasonName: "WRONG_VENDOR" });
    expect(d.summary).toMatch(new RegExp(`^WRONG_VENDOR: bundle is for vendor ${formatUuid(VENDOR)}, the device is vendor [0-9a-f-]{36} \\(other\\.example\\)`));
    const rootSigned = await buildBundle(patternImage(1000), opts(), [root0]);
    const plain = await rejectionOf(rootSigned, { vendor: "other.example", deviceClass: undefined });
    expect(plain.d.reasonName).toBe("WRONG_VENDOR");
    expect(plain.d.details).toMatchObject({ expected: expect.stringMatching(/^[0-9a-f-]{36}$/), actual: formatUuid(VENDOR) });
  });

  it("ROLLBACK, EXPIRED_KEY, CHUNK_HASH_MISMATCH: expected versus actual, the chunk", async () => {
    const rollback = await rejectionOf(await buildBundle(patternImage(1000), opts({ sequence: 3 }), [root0]), { minSequence: 7 });
    expect(rollback.d.summary).toBe("bundle sequence 3 is below the device's minimum sequence 7");
    expect(rollback.d.details).toMatchObject({ expected: 7, actual: 3 });
    const expired = await rejectionOf(await buildBundle(patternImage(1000), opts(), [withCert(release, await cert(root0, release, { notAfter: NOW - 86400 }))]));
    expect(expired.d.summary).toBe(`certificate of key ${id(release)} expired at ${new Date((NOW - 86400) * 1000).toISOString().replace(".000Z", "Z")} (trusted time ${new Date(NOW * 1000).toISOString().replace(".000Z", "Z")})`);
    const good = await buildBundle(patternImage(1000), opts(), [root0]);
    const bad = good.slice();
    bad[bad.length - 10] ^= 1;
    const chunk = await rejectionOf(bad);
    expect(chunk.d).toMatchObject({ reasonName: "CHUNK_HASH_MISMATCH", chunk: 3 });
    expect(chunk.e.message).toMatch(/^rejected: CHUNK_HASH_MISMATCH at chunk 3: chunk 3 does not hash/);
  });
});
