// Offline (air-gapped) signing and k-of-n: drafts, `fwseal sign` by several key holders in
// turn, a signature made by the real `openssl pkeyutl -sign -rawin` and attached, finalize
// against a policy; the verifier and the device core counting DISTINCT authorised signers.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import * as crypto from "node:crypto";
import { execFileSync } from "node:child_process";
import { fwseal, fwsealOk, errorLines, tempDir } from "../helpers/cli.js";
import { opensslPem } from "../helpers/softhsm.js";
import { writeImage } from "../helpers/images.js";
import { readDraft, draftToBeSigned } from "../../host/bundle/drafts.js";
import { loadPublicKey, loadPrivateKey, LocalSigner } from "../../host/keys/keys.js";
import { verifyFile } from "../../host/bundle/verify.js";
import { ExitCode } from "../../host/exit-codes.js";
import { createBundleVerifier, VerifyEvent } from "../../device-sim/core/verify/bundle-verifier.js";
import { createNodePrimitives } from "../../host/bundle/node-primitives.js";
import { buildBundle } from "../../formats/host-only/bundle-builder.js";
import { buildCertificate } from "../../formats/host-only/certificate.js";
import { vendorUuid, classUuid } from "../../formats/host-only/uuid.js";
import { Limits } from "../../formats/device-safe/limits.js";
import { Reason, reasonName } from "../../formats/device-safe/reasons.js";

const VENDOR = "acme.example";
const CLASS = "gateway";
let dir: string;
let image: string;
const f = (n: string): string => path.join(dir, n);
const meta = ["--seq", "9", "--vendor", VENDOR, "--class", CLASS, "--fw-version", "2.1.0"];

function sha(p: string): string {
  return crypto.createHash("sha256").update(fs.readFileSync(p)).digest("hex");
}

/** Run the device core's streaming verifier over a whole bundle (1 KiB pushes). */
function deviceVerdict(bundle: Uint8Array, roots: Uint8Array[], threshold: number): number {
  const rb = new Uint8Array(32 * roots.length);
  roots.forEach((r, i) => rb.set(r, 32 * i));
  const v = createBundleVerifier({
    primitives: createNodePrimitives(), roots: rb, rootCount: roots.length, rootRetired: 0,
    vendorId: vendorUuid(VENDOR), classId: classUuid(vendorUuid(VENDOR), CLASS), minSequence: 0, minEpoch: 0,
    threshold, now: -1, maxChunkSize: Limits.MAX_CHUNK_SIZE
  });
  let off = 0;
  while (off < bundle.length) {
    const ev = v.push(bundle, off, Math.min(1024, bundle.length - off));
    off += v.consumed;
    if (ev === VerifyEvent.REJECT) return v.reason;
  }
  return v.end() === VerifyEvent.DONE ? Reason.OK : v.reason;
}

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

beforeAll(async () => {
  dir = tempDir("offline");
  image = writeImage(dir, "fw.bin", 50000, 3);
  for (const k of ["root", "alice", "bob", "carol", "mallory"]) await fwsealOk(["keygen", "-o", f(k)]);
  for (const k of ["alice", "bob", "carol"]) {
    await fwsealOk(["delegate", "--root", f("root.key"), "--pub", f(`${k}.pub`), "--epoch", "1", "-o", f(`${k}.cert`)]);
  }
});

describe("2-of-3 offline ceremony", () => {
  let draft: string;

  it("pack --unsigned writes a draft (manifest + chunks, no signatures) and records the policy", async () => {
    draft = f("fw.draft");
    const r = await fwsealOk(["pack", image, "--unsigned", "--threshold", "2", "--allow-signer", f("alice.pub"), "--allow-signer", f("bob.pub"), "--allow-signer", f("carol.pub"), ...meta, "-o", draft, "--json"]);
    const j = JSON.parse(r.stdout);
    expect(j.kind).toBe("draft");
    const d = await readDraft(draft);
    expect(d.signatures).toEqual([]);
    expect(d.policy.threshold).toBe(2);
    expect(d.policy.signers).toHaveLength(3);
    expect(d.manifest).toMatchObject({ sequence: 9, version: "2.1.0", imageSize: 50000, chunkCount: 13 });
    // A draft is not a bundle: verify refuses it.
    expect((await fwseal(["verify", draft, "--root", f("root.pub")])).code).not.toBe(0);
  });

  it("finalize refuses an under-signed draft: one line, exit 11, no output", async () => {
    const r = await fwseal(["finalize", draft, "--root", f("root.pub"), "-o", f("early.fwb")]);
    expect(r.code).toBe(ExitCode.TRUST);
    expect(errorLines(r)).toHaveLength(1);
    expect(r.stderr).toMatch(/threshold not met: 0 signature\(s\), policy needs 2/);
    expect(fs.existsSync(f("early.fwb"))).toBe(false);
  });

  it("Alice signs with fwseal sign; a second signature by the same key is refused", async () => {
    const r = await fwsealOk(["sign", draft, "--in-place", "--key", f("alice.key"), "--cert", f("alice.cert")]);
    expect(r.stdout).toMatch(/1 signature\(s\) of 2 required/);
    const before = sha(draft);
    const dup = await fwseal(["sign", draft, "--in-place", "--key", f("alice.key"), "--cert", f("alice.cert")]);
    expect(dup.code).toBe(ExitCode.USAGE);
    expect(dup.stderr).toMatch(/already signed by key/);
    expect(sha(draft)).toBe(before);
  });

  it("a key the draft does not allow is refused before it signs", async () => {
    const before = sha(draft);
    const r = await fwseal(["sign", draft, "--in-place", "--key", f("mallory.key")]);
    expect(r.code).toBe(ExitCode.TRUST);
    expect(errorLines(r)).toHaveLength(1);
    expect(r.stderr).toMatch(/not one of the signers this draft allows/);
    expect(sha(draft)).toBe(before);
  });

  it("Carol signs with real openssl on the to-be-signed bytes; attach-signature checks and adds it", async () => {
    await fwsealOk(["tbs", draft, "--signer-key", f("carol.pub"), "-o", f("carol.tbs")]);
    const tbs = fs.readFileSync(f("carol.tbs"));
    const d = await readDraft(draft);
    expect(Buffer.from(draftToBeSigned(d.payload, await loadPublicKey(f("carol.pub")))).equals(tbs)).toBe(true);
    opensslPem(f("carol.key"), f("carol.pem"));
    execFileSync("openssl", ["pkeyutl", "-sign", "-rawin", "-inkey", f("carol.pem"), "-in", f("carol.tbs"), "-out", f("carol.sig")], { stdio: "pipe" });
    expect(fs.statSync(f("carol.sig")).size).toBe(64);

    // A signature over other bytes (Bob's tbs) does not match: one line, exit 11, draft untouched.
    await fwsealOk(["tbs", draft, "--signer-key", f("bob.pub"), "-o", f("bob.tbs")]);
    execFileSync("openssl", ["pkeyutl", "-sign", "-rawin", "-inkey", f("carol.pem"), "-in", f("bob.tbs"), "-out", f("carol-wrong.sig")], { stdio: "pipe" });
    const before = sha(draft);
    const bad = await fwseal(["attach-signature", draft, "--in-place", "--pub", f("carol.pub"), "--sig", f("carol-wrong.sig"), "--cert", f("carol.cert")]);
    expect(bad.code).toBe(ExitCode.TRUST);
    expect(errorLines(bad)).toHaveLength(1);
    expect(bad.stderr).toMatch(/signature does not match/);
    expect(sha(draft)).toBe(before);
    // Certificate of another key: refused.
    const wrongCert = await fwseal(["attach-signature", draft, "--in-place", "--pub", f("carol.pub"), "--sig", f("carol.sig"), "--cert", f("bob.cert")]);
    expect(wrongCert.code).toBe(ExitCode.KEY);
    expect(sha(draft)).toBe(before);

    const ok = await fwsealOk(["attach-signature", draft, "--in-place", "--pub", f("carol.pub"), "--sig", f("carol.sig"), "--cert", f("carol.cert")]);
    expect(ok.stdout).toMatch(/2 signature\(s\) of 2 required/);
  });

  it("finalize checks the policy with the device verifier and writes the bundle", async () => {
    const out = f("fw.fwb");
    const r = await fwsealOk(["finalize", draft, "--threshold", "2", "--root", f("root.pub"), "--vendor", VENDOR, "--class", CLASS, "-o", out, "--json"]);
    expect(JSON.parse(r.stdout).signers).toHaveLength(2);
    const root = await loadPublicKey(f("root.pub"));
    expect((await verifyFile(out, { roots: [root], threshold: 2, vendor: VENDOR, deviceClass: CLASS })).reasonName).toBe("OK");
    const three = await fwseal(["verify", out, "--root", f("root.pub"), "--threshold", "3"]);
    expect(three.code).toBe(ExitCode.TRUST);
    expect(three.stdout + three.stderr).toMatch(/THRESHOLD_NOT_MET/);
    // The device core itself enforces k.
    const bytes = new Uint8Array(fs.readFileSync(out));
    expect(reasonName(deviceVerdict(bytes, [root], 2))).toBe("OK");
    expect(reasonName(deviceVerdict(bytes, [root], 3))).toBe("THRESHOLD_NOT_MET");
    // The chunk stream is carried over unchanged, and finalize is deterministic.
    const again = f("fw-again.fwb");
    await fwsealOk(["finalize", draft, "--root", f("root.pub"), "-o", again]);
    expect(sha(again)).toBe(sha(out));
  });

  it("signing order does not matter: the same signatures in another order give the same bundle", async () => {
    const d2 = f("fw2.draft");
    await fwsealOk(["pack", image, "--unsigned", ...meta, "-o", d2]);
    await fwsealOk(["attach-signature", d2, "--in-place", "--pub", f("carol.pub"), "--sig", f("carol.sig"), "--cert", f("carol.cert")]);
    await fwsealOk(["sign", d2, "--in-place", "--key", f("alice.key"), "--cert", f("alice.cert")]);
    await fwsealOk(["finalize", d2, "--threshold", "2", "--root", f("root.pub"), "-o", f("fw2.fwb")]);
    expect(sha(f("fw2.fwb"))).toBe(sha(f("fw.fwb")));
  });

  it("a draft modified after signing is caught at finalize", async () => {
    const t = f("tampered.draft");
    const buf = fs.readFileSync(draft);
    const d = await readDraft(draft);
    buf[d.headerLength + 100] ^= 0xff; // a chunk byte: the chain no longer matches
    fs.writeFileSync(t, buf);
    const r = await fwseal(["finalize", t, "--threshold", "2", "--root", f("root.pub"), "-o", f("tampered.fwb")]);
    expect(r.code).toBe(ExitCode.INTEGRITY);
    expect(r.stderr).toMatch(/CHUNK_HASH_MISMATCH/);
    expect(fs.existsSync(f("tampered.fwb"))).toBe(false);
  });
});

describe("policies that can never be met", () => {
  it("threshold above the allowed signers, or above MAX_SIGNERS: one line, exit 2, no output", async () => {
    const out = f("never.draft");
    const a = await fwseal(["pack", image, "--unsigned", "--threshold", "3", "--allow-signer", f("alice.pub"), "--allow-signer", f("bob.pub"), ...meta, "-o", out]);
    expect(a.code).toBe(ExitCode.USAGE);
    expect(errorLines(a)).toEqual(["fwseal: error: policy can never be met: threshold 3 but only 2 signer(s) are allowed"]);
    expect(fs.existsSync(out)).toBe(false);
    const b = await fwseal(["pack", image, "--unsigned", "--threshold", "9", ...meta, "-o", out]);
    expect(b.code).toBe(ExitCode.USAGE);
    expect(b.stderr).toMatch(/threshold 9 exceeds the 8 signatures a bundle can carry/);
    await fwsealOk(["pack", image, "--unsigned", ...meta, "-o", out]);
    const c = await fwseal(["finalize", out, "--threshold", "9", "--root", f("root.pub"), "-o", f("never.fwb")]);
    expect(c.code).toBe(ExitCode.USAGE);
    expect(fs.existsSync(f("never.fwb"))).toBe(false);
  });
});

describe("distinct signers", () => {
  it("duplicate signatures by one key count once, in the host verifier and the device core", async () => {
    const root = new LocalSigner(await loadPrivateKey(f("root.key")));
    const alice = await loadPrivateKey(f("alice.key"));
    const cert = await buildCertificate(root, { publicKey: (await loadPublicKey(f("alice.pub"))), epoch: 1 });
    const a1 = new LocalSigner(alice, cert);
    const vid = vendorUuid(VENDOR);
    const opts = { vendorId: vid, classId: classUuid(vid, CLASS), sequence: 1, version: "1", chunkSize: 1024 };
    const img = new Uint8Array(fs.readFileSync(image)).subarray(0, 5000);
    const twice = await buildBundle(img, opts, [a1, a1]);
    const p = f("twice.fwb");
    fs.writeFileSync(p, twice);
    const rootPub = await loadPublicKey(f("root.pub"));
    expect((await verifyFile(p, { roots: [rootPub], threshold: 1 })).reasonName).toBe("OK");
    expect((await verifyFile(p, { roots: [rootPub], threshold: 2 })).reasonName).toBe("THRESHOLD_NOT_MET");
    expect(reasonName(deviceVerdict(twice, [rootPub], 2))).toBe("THRESHOLD_NOT_MET");
    // Two different authorised keys do reach 2.
    const bob = new LocalSigner(await loadPrivateKey(f("bob.key")), new Uint8Array(fs.readFileSync(f("bob.cert"))));
    const two = await buildBundle(img, opts, [a1, bob]);
    expect(reasonName(deviceVerdict(two, [rootPub], 2))).toBe("OK");
    // An unauthorised key does not count towards k.
    const mallory = new LocalSigner(await loadPrivateKey(f("mallory.key")));
    const withStranger = await buildBundle(img, opts, [a1, mallory]);
    expect(deviceVerdict(withStranger, [rootPub], 2)).not.toBe(Reason.OK);
    expect(reasonName(deviceVerdict(withStranger, [rootPub], 1))).toBe("OK");
  });
});
