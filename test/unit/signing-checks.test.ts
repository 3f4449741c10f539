// The library's signing-side checks (what the CLI's pack, sign, finalize and delegate call):
// a certificate must certify its key, cover the bundle's vendor and class and be valid now;
// given the device roots, pack verifies the finished bundle before it is written; `force`
// writes anyway and reports a warning; delegate refuses past windows and self-delegation.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { pack } from "../../host/bundle/pack.js";
import { createDraft, signDraft, finalizeDraft } from "../../host/bundle/drafts.js";
import { verifyFile } from "../../host/bundle/verify.js";
import { delegate } from "../../host/keys/delegate.js";
import { withCertificate, loadSigner } from "../../host/keys/signer-loader.js";
import { buildCertificate } from "../../formats/host-only/certificate.js";
import { vendorUuid, classUuid } from "../../formats/host-only/uuid.js";
import { keygen, LocalSigner } from "../../host/keys/keys.js";
import { Reason } from "../../formats/device-safe/reasons.js";
import { ExitCode } from "../../host/exit-codes.js";
import { tempDir } from "../helpers/cli.js";
import { writeImage } from "../helpers/images.js";
import { makeKeys, seedSigner, type TestKeys } from "../helpers/keys.js";
import { fwsealRejection } from "../helpers/errors.js";

const VENDOR = "acme.example";
const CLASS = "sensor-v3";
const VID = vendorUuid(VENDOR);
let dir: string;
let image: string;
let keys: TestKeys;
const f = (n: string): string => path.join(dir, n);
const now = (): number => Math.floor(Date.now() / 1000);
const manifest = { vendor: VENDOR, deviceClass: CLASS, sequence: 3, version: "1.0.3", chunkSize: 1024 };

/** The release key of `keys`, presenting a certificate with the given scope and window. */
async function releaseWith(body: { notBefore?: number; notAfter?: number; classes?: string[] }): Promise<LocalSigner> {
  const cert = await buildCertificate(keys.rootSigner, {
    publicKey: keys.release.publicKey, epoch: 1, notBefore: body.notBefore, notAfter: body.notAfter,
    vendorId: VID, classIds: body.classes?.map((c) => classUuid(VID, c))
  });
  return new LocalSigner(keys.release.privateKey, cert);
}

function leftovers(): string[] {
  return fs.readdirSync(dir).filter((n) => n.endsWith(".tmp"));
}

beforeAll(async () => {
  dir = tempDir("signing-checks-lib");
  image = writeImage(dir, "fw.bin", 4000, 5);
  keys = await makeKeys(1);
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("withCertificate", () => {
  it("refuses a certificate of another key (KEY_WRONG_TYPE, exit 4) and attaches a matching one", async () => {
    await keygen({ out: f("rel") });
    const signer = await loadSigner(f("rel.key"));
    const e = await fwsealRejection((async () => withCertificate(signer, keys.releaseSigner.certificate))());
    expect(e).toMatchObject({ code: "KEY_WRONG_TYPE", exitCode: ExitCode.KEY });
    expect(e.message).toMatch(/certifies key [0-9a-f]{16}, not the signing key [0-9a-f]{16}/);
    const own = await buildCertificate(keys.rootSigner, { publicKey: signer.publicKey, epoch: 1 });
    expect(withCertificate(signer, own).certificate).toEqual(own);
  });
});

describe("pack", () => {
  it("refuses an expired, a not yet valid and a wrong-class certificate with the device's reason; nothing written", async () => {
    const cases: [LocalSigner, number][] = [
      [await releaseWith({ notAfter: now() - 60 }), Reason.EXPIRED_KEY],
      [await releaseWith({ notBefore: now() + 3600 }), Reason.EXPIRED_KEY],
      [await releaseWith({ classes: ["hub"] }), Reason.KEY_NOT_AUTHORIZED]
    ];
    for (const [signer, reason] of cases) {
      const e = await fwsealRejection(pack({ image, output: f("bad.fwb"), signers: [signer], ...manifest }));
      expect(e).toMatchObject({ reason, exitCode: ExitCode.TRUST });
      expect(fs.existsSync(f("bad.fwb"))).toBe(false);
    }
  });

  it("force writes it anyway and returns the refusal as a warning", async () => {
    const r = await pack({ image, output: f("forced.fwb"), signers: [await releaseWith({ notAfter: now() - 60 })], ...manifest, force: true });
    expect(r.warnings).toEqual([expect.stringMatching(/expired at .*EXPIRED_KEY.*--force/)]);
    expect((await verifyFile(f("forced.fwb"), { roots: [keys.root.publicKey] })).reasonName).toBe("EXPIRED_KEY");
  });

  it("with roots: a key without a certificate must be one of them", async () => {
    const stranger = seedSigner(7);
    const e = await fwsealRejection(pack({ image, output: f("s.fwb"), signers: [stranger], ...manifest, roots: [keys.root.publicKey] }));
    expect(e).toMatchObject({ reason: Reason.UNKNOWN_KEY, exitCode: ExitCode.TRUST });
    const r = await pack({ image, output: f("root.fwb"), signers: [keys.rootSigner], ...manifest, roots: [keys.root.publicKey] });
    expect(r.warnings).toEqual([]);
    // Without roots a key without a certificate is taken for a root, as before.
    await pack({ image, output: f("stranger.fwb"), signers: [stranger], ...manifest });
  });

  it("with roots: the finished bundle goes through the device verifier before it is written", async () => {
    const good = await releaseWith({});
    const cert = new Uint8Array(good.certificate as Uint8Array);
    cert[cert.length - 1] ^= 1; // the root's signature on the certificate broken
    const broken = new LocalSigner(keys.release.privateKey, cert);
    const e = await fwsealRejection(pack({ image, output: f("v.fwb"), signers: [broken], ...manifest, roots: [keys.root.publicKey] }));
    expect(e.exitCode).toBe(ExitCode.TRUST);
    expect(e.message).toMatch(/^no device with the given roots would accept this bundle: BAD_/);
    expect(fs.existsSync(f("v.fwb"))).toBe(false);
    expect(leftovers()).toEqual([]);
    const r = await pack({ image, output: f("v.fwb"), signers: [good], ...manifest, roots: [keys.root.publicKey] });
    expect(r.warnings).toEqual([]);
  });
});

describe("signDraft and finalizeDraft", () => {
  it("signDraft refuses a certificate for another class; force signs and warns; finalize refuses unless forced", async () => {
    const draft = f("d.draft");
    await createDraft({ image, output: draft, ...manifest });
    const hub = await releaseWith({ classes: ["hub"] });
    const e = await fwsealRejection(signDraft(draft, hub));
    expect(e).toMatchObject({ reason: Reason.KEY_NOT_AUTHORIZED, exitCode: ExitCode.TRUST });
    const s = await signDraft(draft, hub, { force: true });
    expect(s.warnings).toEqual([expect.stringMatching(/KEY_NOT_AUTHORIZED/)]);
    const policy = { roots: [keys.root.publicKey] };
    const refused = await fwsealRejection(finalizeDraft(draft, { output: f("d.fwb"), policy }));
    expect(refused.reason).toBe(Reason.KEY_NOT_AUTHORIZED);
    expect(fs.existsSync(f("d.fwb"))).toBe(false);
    const forced = await finalizeDraft(draft, { output: f("d.fwb"), policy, force: true });
    expect(forced.warnings).toEqual([expect.stringMatching(/KEY_NOT_AUTHORIZED.*--force/)]);
    expect(fs.existsSync(f("d.fwb"))).toBe(true);
  });
});

describe("delegate", () => {
  it("refuses a not-after in the past and a root certifying itself (USAGE)", async () => {
    const past = await fwsealRejection(delegate({ root: keys.rootSigner, subject: keys.release.publicKey, notAfter: now() - 1 }));
    expect(past).toMatchObject({ code: "USAGE", exitCode: ExitCode.USAGE });
    expect(past.message).toMatch(/in the past/);
    const self = await fwsealRejection(delegate({ root: keys.rootSigner, subject: keys.root.publicKey, notAfter: now() + 3600 }));
    expect(self.message).toMatch(/a root does not delegate to itself/);
  });

  it("reports what leaves a certificate unbounded, nothing for a bounded one", async () => {
    const open = await delegate({ root: keys.rootSigner, subject: keys.release.publicKey });
    expect(open.warnings).toEqual([expect.stringMatching(/never expires .* every vendor .*: if the release key leaks, it signs for every vendor with no end date, until its epoch is revoked$/)]);
    const noClass = await delegate({ root: keys.rootSigner, subject: keys.release.publicKey, vendor: VENDOR, notAfter: now() + 3600 });
    expect(noClass.warnings).toEqual([expect.stringMatching(/every device class of the vendor \(no --class\): if the release key leaks, it signs for every device class of the vendor until the certificate expires or its epoch is revoked$/)]);
    // Scoped but without expiry: the consequence is the time, not a scope ("for all of them" named nothing).
    const noExpiry = await delegate({ root: keys.rootSigner, subject: keys.release.publicKey, vendor: VENDOR, classes: [CLASS] });
    expect(noExpiry.warnings).toEqual(["the certificate never expires (no --not-after): if the release key leaks, it signs with no end date, until its epoch is revoked"]);
    const bounded = await delegate({ root: keys.rootSigner, subject: keys.release.publicKey, vendor: VENDOR, classes: [CLASS], notAfter: now() + 3600 });
    expect(bounded.warnings).toEqual([]);
  });

  it("overwrite: false refuses an existing output (OUTPUT_EXISTS, exit 5), leaving it as it was", async () => {
    fs.writeFileSync(f("c.cert"), "keep");
    const e = await fwsealRejection(delegate({ root: keys.rootSigner, subject: keys.release.publicKey, vendor: VENDOR, output: f("c.cert"), overwrite: false }));
    expect(e).toMatchObject({ code: "OUTPUT_EXISTS", exitCode: ExitCode.OUTPUT });
    expect(fs.readFileSync(f("c.cert"), "utf8")).toBe("keep");
  });
});
