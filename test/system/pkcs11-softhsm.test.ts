// PKCS#11 signing against a REAL token: SoftHSM2 initialised in a temporary directory.
// Keys are generated on the token (non-extractable), bundles are signed through it, and
// every failure (wrong PIN, missing token, wrong key type...) is one line, exit 4, and
// leaves no output file.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { fwseal, fwsealOk, errorLines, tempDir } from "../helpers/cli.js";
import { initSoftHsm, softhsmAvailable, opensslPem, type SoftHsm } from "../helpers/softhsm.js";
import { writeImage } from "../helpers/images.js";
import { parsePkcs11Uri, formatPkcs11Uri, pkcs11KeyProtection, openPkcs11Signer, parseEcPoint } from "../../host/keys/pkcs11.js";
import { verifyFile } from "../../host/bundle/verify.js";
import { loadPublicKey } from "../../host/keys/keys.js";
import { inspectBytes } from "../../host/bundle/inspect.js";
import { ExitCode } from "../../host/exit-codes.js";

const HAVE_HSM = softhsmAvailable();

describe("RFC 7512 URIs", () => {
  it("parses path and query attributes with percent-encoding", () => {
    const u = parsePkcs11Uri("pkcs11:token=My%20Token;object=rel-2026;id=%01%a2?module-path=/usr/lib/x.so&pin-source=file:/run/pin");
    expect(u.token).toBe("My Token");
    expect(u.object).toBe("rel-2026");
    expect(Array.from(u.id as Uint8Array)).toEqual([1, 0xa2]);
    expect(u.modulePath).toBe("/usr/lib/x.so");
    expect(u.pinSource).toBe("file:/run/pin");
    expect(parsePkcs11Uri(formatPkcs11Uri(u))).toEqual({ token: "My Token", object: "rel-2026", id: u.id, modulePath: "/usr/lib/x.so", pinSource: "file:/run/pin" });
  });

  it("refuses pin-value (the PIN would land in shell history) and unknown attributes", () => {
    expect(() => parsePkcs11Uri("pkcs11:token=t;object=o?pin-value=1234")).toThrow(/pin-value is refused/);
    expect(() => parsePkcs11Uri("pkcs11:token=t;colour=blue")).toThrow(/unknown path attribute/);
    expect(() => parsePkcs11Uri("pkcs11:token=t;token=u")).toThrow(/given twice/);
    expect(() => parsePkcs11Uri("pkcs11:token=%zz")).toThrow(/percent-encoding/);
  });

  it("reads CKA_EC_POINT as a DER OCTET STRING or raw 32 bytes", () => {
    const k = new Uint8Array(32).fill(7);
    expect(parseEcPoint(new Uint8Array([0x04, 0x20, ...k]))).toEqual(k);
    expect(parseEcPoint(k)).toEqual(k);
    expect(() => parseEcPoint(new Uint8Array(65))).toThrow(/not an Ed25519/);
  });
});

describe.skipIf(!HAVE_HSM)("SoftHSM2 token", () => {
  let hsm: SoftHsm;
  let dir: string;
  let image: string;
  let uri: string;
  const common = ["--seq", "3", "--vendor", "acme.example", "--class", "hub", "--fw-version", "1.0.0"];

  beforeAll(async () => {
    hsm = initSoftHsm();
    dir = tempDir("hsm");
    image = writeImage(dir, "fw.bin", 20000, 7);
    await fwsealOk(["keygen", "-o", path.join(dir, "root")]);
  });

  afterAll(() => {
    for (const d of [dir, hsm?.dir]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  it("keygen --pkcs11 creates a sensitive, non-extractable Ed25519 key and prints its ID", async () => {
    const r = await fwsealOk(["keygen", "--pkcs11", `pkcs11:token=${hsm.label};object=release-1`, "-o", path.join(dir, "release-1"), "--json"], hsm.env);
    const j = JSON.parse(r.stdout);
    expect(j.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(j.extractable).toBe(false);
    expect(j.sensitive).toBe(true);
    uri = j.uri;
    expect(uri).toContain(`token=${hsm.label}`);
    // The .pub written next to it is the token's public key.
    const pub = await loadPublicKey(path.join(dir, "release-1.pub"));
    expect(Buffer.from(pub).toString("hex")).toBe(j.publicKey);
    // Ask the token directly: the private value can never be read out.
    const prot = await pkcs11KeyProtection(uri, { pin: hsm.pin });
    expect(prot).toEqual({ extractable: false, sensitive: true, neverExtractable: true, valueReadable: false });
    // A second key under the same label is refused (URIs would become ambiguous).
    const again = await fwseal(["keygen", "--pkcs11", `pkcs11:token=${hsm.label};object=release-1`], hsm.env);
    expect(again.code).toBe(ExitCode.OUTPUT);
    expect(errorLines(again)).toHaveLength(1);
  });

  it("pack --key pkcs11:... makes a bundle that verifies like any other", async () => {
    await fwsealOk(["delegate", "--root", path.join(dir, "root.key"), "--pub", path.join(dir, "release-1.pub"), "--epoch", "1", "-o", path.join(dir, "release-1.cert")]);
    const out = path.join(dir, "hsm.fwb");
    await fwsealOk(["pack", image, "--key", uri, "--cert", path.join(dir, "release-1.cert"), ...common, "-o", out], hsm.env);
    const root = await loadPublicKey(path.join(dir, "root.pub"));
    const v = await verifyFile(out, { roots: [root], vendor: "acme.example", deviceClass: "hub" });
    expect(v.reasonName).toBe("OK");
    const cli = await fwseal(["verify", out, "--root", path.join(dir, "root.pub"), "--vendor", "acme.example", "--class", "hub"]);
    expect(cli.code).toBe(0);
    // Same structure as a file-key bundle: COSE_Sign1, one delegated signer, alg Ed25519.
    const info = inspectBytes(new Uint8Array(fs.readFileSync(out)).subarray(0, 8192), fs.statSync(out).size);
    expect(info.signers).toHaveLength(1);
    expect(info.signers[0].kind).toBe("delegated");
    expect(info.signers[0].alg).toBe("Ed25519");
  });

  it("the same key on the token and in a file gives byte-for-byte the same bundle", async () => {
    await fwsealOk(["keygen", "-o", path.join(dir, "twin")]);
    hsm.importKey(opensslPem(path.join(dir, "twin.key"), path.join(dir, "twin.pem")), "twin", "7e57");
    const fromFile = path.join(dir, "twin-file.fwb");
    const fromToken = path.join(dir, "twin-token.fwb");
    const asRoot = ["--root", path.join(dir, "twin.pub")]; // a key without a certificate signs as a root
    await fwsealOk(["pack", image, "--key", path.join(dir, "twin.key"), ...asRoot, ...common, "-o", fromFile]);
    await fwsealOk(["pack", image, "--key", `pkcs11:token=${hsm.label};object=twin`, ...asRoot, ...common, "-o", fromToken], hsm.env);
    expect(fs.readFileSync(fromToken).equals(fs.readFileSync(fromFile))).toBe(true);
  });

  it("delegate --root and sign --key accept token keys (root on the HSM, k-of-n draft)", async () => {
    await fwsealOk(["keygen", "--pkcs11", `pkcs11:token=${hsm.label};object=hsm-root`, "-o", path.join(dir, "hsm-root")], hsm.env);
    await fwsealOk(["keygen", "-o", path.join(dir, "offline")]);
    await fwsealOk(["delegate", "--root", `pkcs11:token=${hsm.label};object=hsm-root`, "--pub", path.join(dir, "offline.pub"), "--epoch", "1", "-o", path.join(dir, "offline.cert")], hsm.env);
    const draft = path.join(dir, "two.draft");
    await fwsealOk(["pack", image, "--unsigned", "--threshold", "2", ...common, "-o", draft]);
    await fwsealOk(["sign", draft, "--in-place", "--key", `pkcs11:token=${hsm.label};object=hsm-root`], hsm.env);
    await fwsealOk(["sign", draft, "--in-place", "--key", path.join(dir, "offline.key"), "--cert", path.join(dir, "offline.cert")]);
    const fin = path.join(dir, "two.fwb");
    await fwsealOk(["finalize", draft, "--threshold", "2", "--root", path.join(dir, "hsm-root.pub"), "-o", fin]);
    const v = await fwseal(["verify", fin, "--root", path.join(dir, "hsm-root.pub"), "--threshold", "2"]);
    expect(v.code).toBe(0);
  });

  it("the PIN comes from a pin-source file too", async () => {
    const pinFile = path.join(dir, "pin.txt");
    fs.writeFileSync(pinFile, hsm.pin + "\n", { mode: 0o600 });
    const s = await openPkcs11Signer(`pkcs11:token=${hsm.label};object=release-1?pin-source=file:${pinFile}`, { prompt: false });
    try {
      const sig = await s.sign(new Uint8Array([1, 2, 3]));
      expect(sig).toHaveLength(64);
    } finally {
      s.close();
    }
  });

  describe("failures: one line, exit 4 (key/token), no partial output", () => {
    async function failPack(key: string, env: Record<string, string | undefined>, name: string) {
      const out = path.join(dir, `${name}.fwb`);
      const r = await fwseal(["pack", image, "--key", key, ...common, "-o", out], env);
      expect(fs.existsSync(out)).toBe(false);
      expect(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
      expect(errorLines(r)).toHaveLength(1);
      return r;
    }

    it("wrong PIN", async () => {
      const r = await failPack(uri, { ...hsm.env, FWSEAL_PKCS11_PIN: "not-the-pin" }, "wrong-pin");
      expect(r.code).toBe(ExitCode.KEY);
      expect(r.stderr).toMatch(/^fwseal: error: PKCS#11: wrong PIN for token "fwseal-test"\n$/);
      expect(r.stderr).not.toContain("not-the-pin");
    });

    it("no PIN and no terminal", async () => {
      const r = await failPack(uri, { ...hsm.env, FWSEAL_PKCS11_PIN: undefined }, "no-pin");
      expect(r.code).toBe(ExitCode.KEY);
      expect(r.stderr).toMatch(/needs its user PIN: set FWSEAL_PKCS11_PIN/);
    });

    it("missing token", async () => {
      const r = await failPack("pkcs11:token=no-such-token;object=release-1", hsm.env, "no-token");
      expect(r.code).toBe(ExitCode.KEY);
      expect(r.stderr).toMatch(/no token matches token "no-such-token" \(available: "fwseal-test"\)/);
    });

    it("missing key object", async () => {
      const r = await failPack(`pkcs11:token=${hsm.label};object=nothing-here`, hsm.env, "no-object");
      expect(r.code).toBe(ExitCode.KEY);
      expect(r.stderr).toMatch(/no private key object "nothing-here"/);
    });

    it("wrong key type: an ECDSA P-256 key on the token", async () => {
      const pem = path.join(dir, "p256.pem");
      execFileSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", pem], { stdio: "pipe" });
      hsm.importKey(pem, "ecdsa-key", "ec01");
      const r = await failPack(`pkcs11:token=${hsm.label};object=ecdsa-key`, hsm.env, "wrong-type");
      expect(r.code).toBe(ExitCode.KEY);
      expect(r.stderr).toMatch(/is an ECDSA key \(P-256\); fwseal needs an Ed25519 key/);
      const json = await fwseal(["pack", image, "--key", `pkcs11:token=${hsm.label};object=ecdsa-key`, ...common, "-o", path.join(dir, "x.fwb"), "--json"], hsm.env);
      expect(JSON.parse(json.stdout).error.code).toBe("KEY_WRONG_TYPE");
    });

    it("missing PKCS#11 module", async () => {
      const r = await failPack(`pkcs11:token=${hsm.label};object=release-1?module-path=/nonexistent/libpkcs11.so`, hsm.env, "no-module");
      expect(r.code).toBe(ExitCode.KEY);
      expect(r.stderr).toMatch(/module \/nonexistent\/libpkcs11.so: no such file/);
    });

    it("a PIN in the URI is refused as a usage error", async () => {
      const r = await failPack(`pkcs11:token=${hsm.label};object=release-1?pin-value=${hsm.pin}`, hsm.env, "pin-value");
      expect(r.code).toBe(ExitCode.USAGE);
      expect(r.stderr).not.toContain(hsm.pin);
    });
  });
});
