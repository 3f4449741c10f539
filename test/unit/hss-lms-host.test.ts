// HSS/LMS on the host (RFC 8554): the verifier against the published vectors, key generation
// and signing against the reference data (RFC 8554 Appendix F Test Case 2 and the cisco
// hash-sigs cases Botan publishes), round trips at every Winternitz width and with two
// levels, the public key encodings, and the state rules of a key file: exhaustion, the
// lock, a restored backup refused through the audit log, the low-count warning.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { decode as cborDecode } from "cbor-x";
import { fwseal, fwsealOk, errorLines, tempDir } from "../helpers/cli.js";
import { readHssLmsVectorBytes as readHssLmsVectors } from "../helpers/hss-lms-vectors.js";
import { verifyHss, verifyLms } from "../../host/keys/hss/hss-verify.js";
import { LmsTree } from "../../host/keys/hss/lms-tree.js";
import { lmotsPublicKey, lmotsSign, prf } from "../../host/keys/hss/lm-ots.js";
import { lmotsByType, lmsByType, lmsSigLen } from "../../host/keys/hss/params.js";
import { HssLmsFileSigner, keygenHssLms, readHssPrivateKey, hssKeyInfo } from "../../host/keys/hss-lms.js";
import { withKeyLock } from "../../host/keys/hss/key-state.js";
import { privateKeyFromPem, type HssPrivateKey } from "../../host/keys/hss/private-key-file.js";
import { hssPublicKeyFromText } from "../../host/keys/hss/load-public-key.js";
import { keyIdHex } from "../../host/keys/keys.js";
import { listAuditLog } from "../../host/audit/audit-log.js";

let dir: string;
const f = (n: string): string => path.join(dir, n);
const sha256 = (b: Uint8Array): Buffer => createHash("sha256").update(b).digest();
// The randomizer hash-sigs (and Botan) derive: H(I || u32str(q) || u16str(0xfffd) || u8str(0xff) || SEED).
/** The leaf q of a one-level HSS signature (after u32str(Nspk)). */
const leafOf = (sig: Uint8Array): number => Buffer.from(sig).readUInt32BE(4);
const referenceC = (I: Uint8Array, q: number, seed: Uint8Array): Buffer => prf(I, q, 0xfffd, 0xff, seed);

beforeAll(() => {
  dir = tempDir("hss");
});
afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("HSS/LMS verifier against the published vectors", () => {
  const supported = readHssLmsVectors("hss_lms_verify.vec").filter((v) => v.name.startsWith("RFC 8554"));

  it("accepts RFC 8554 Appendix F test cases 1 and 2 and rejects them altered", () => {
    expect(supported.map((v) => v.name)).toEqual(["RFC 8554 - Test Case 1", "RFC 8554 - Test Case 2"]);
    for (const { fields: v } of supported) {
      expect(verifyHss(v.PublicKey, v.Msg, v.Signature)).toBe(true);
      const msg = Buffer.from(v.Msg);
      msg[msg.length - 1] ^= 1;
      expect(verifyHss(v.PublicKey, msg, v.Signature)).toBe(false);
      for (const at of [0, 7, 100, v.Signature.length - 1]) {
        const sig = Buffer.from(v.Signature);
        sig[at] ^= 0x40;
        expect(verifyHss(v.PublicKey, v.Msg, sig)).toBe(false);
      }
      expect(verifyHss(v.PublicKey, v.Msg, Buffer.concat([v.Signature, Buffer.alloc(1)]))).toBe(false);
      expect(verifyHss(v.PublicKey, v.Msg, v.Signature.subarray(0, v.Signature.length - 1))).toBe(false);
    }
  });

  it("rejects the parameter sets it does not support (SHA-256/192, SHAKE)", () => {
    const others = readHssLmsVectors("hss_lms_verify.vec").filter((v) => !v.name.startsWith("RFC 8554"));
    expect(others.length).toBe(3);
    for (const { fields: v } of others) expect(verifyHss(v.PublicKey, v.Msg, v.Signature)).toBe(false);
  });

  it("rejects every invalid case", () => {
    const invalid = readHssLmsVectors("hss_lms_invalid.vec");
    expect(invalid.length).toBe(4);
    for (const { fields: v } of invalid) expect(verifyHss(v.PublicKey, v.Msg, v.InvalidSignature)).toBe(false);
  });
});

describe("HSS/LMS key generation and signing against the reference data", () => {
  it("LM-OTS: public keys from SEED and signatures match hash-sigs for W1, W2, W4, W8", () => {
    const cases = readHssLmsVectors("lmots.vec");
    expect(cases.length).toBe(4);
    for (const { fields: v } of cases) {
      const ots = lmotsByType(v.TypeId.readUInt32BE(0))!;
      const q = v.q.readUInt32BE(0);
      expect(lmotsPublicKey(ots, v.I, v.Seed, q).equals(v.PublicKey)).toBe(true);
      expect(sha256(lmotsSign(ots, v.I, v.Seed, q, referenceC(v.I, q, v.Seed), v.Msg)).equals(v.HashSig)).toBe(true);
    }
  });

  it("LMS: trees from SEED and signatures match the reference (RFC 8554 TC2 second level, hash-sigs H5/W1, H10/W2)", () => {
    const cases = readHssLmsVectors("lms.vec");
    expect(cases.length).toBe(3);
    for (const { fields: v } of cases) {
      const I = v.PublicKey.subarray(8, 24);
      const q = v.q.readUInt32BE(0);
      const tree = LmsTree.generate({ lms: lmsByType(v.PublicKey.readUInt32BE(0))!, ots: lmotsByType(v.PublicKey.readUInt32BE(4))!, I, seed: v.Seed });
      expect(Buffer.from(tree.publicKey()).equals(v.PublicKey)).toBe(true);
      const sig = tree.sign(q, referenceC(I, q, v.Seed), v.Msg);
      expect(sha256(sig).equals(v.HashSig)).toBe(true);
      expect(verifyLms(tree.publicKey(), v.Msg, sig)).toBe(true);
    }
  });

  it("RFC 8554 test case 2: both trees regenerate from their SEEDs and both LMS signatures come out byte for byte", () => {
    // Private key of Appendix F Test Case 2 (top level LMS_SHA256_M32_H10 / LMOTS_SHA256_N32_W4);
    // the second level's SEED is the first case of lms.vec.
    const topSeed = Buffer.from("558b8966c48ae9cb898b423c83443aae014a72f1b1ab5cc85cf1d892903b5439", "hex");
    const topI = Buffer.from("d08fabd4a2091ff0a8cb4ed834e74534", "hex");
    const v = readHssLmsVectors("hss_lms_verify.vec")[1].fields;
    const second = readHssLmsVectors("lms.vec")[0].fields;
    const top = LmsTree.generate({ lms: lmsByType(6)!, ots: lmotsByType(3)!, I: topI, seed: topSeed });
    expect(Buffer.concat([Buffer.from([0, 0, 0, 2]), top.publicKey()]).equals(v.PublicKey)).toBe(true);
    const topSigLen = lmsSigLen(lmsByType(6)!, lmotsByType(3)!);
    const topSig = v.Signature.subarray(4, 4 + topSigLen);
    const childPub = v.Signature.subarray(4 + topSigLen, 4 + topSigLen + 56);
    expect(childPub.equals(second.PublicKey)).toBe(true);
    const q = topSig.readUInt32BE(0);
    const C = topSig.subarray(8, 40);
    expect(Buffer.from(top.sign(q, C, childPub)).equals(topSig)).toBe(true);
    const bottom = LmsTree.generate({ lms: lmsByType(5)!, ots: lmotsByType(4)!, I: childPub.subarray(8, 24), seed: second.Seed });
    const bottomSig = v.Signature.subarray(4 + topSigLen + 56);
    const q2 = bottomSig.readUInt32BE(0);
    expect(Buffer.from(bottom.sign(q2, bottomSig.subarray(8, 40), v.Msg)).equals(bottomSig)).toBe(true);
  });
});

describe("HSS/LMS key files", () => {
  it("signs and self-verifies at every Winternitz width, one and two levels, across a second-level rollover", async () => {
    const msg = Buffer.from("firmware manifest");
    for (const [heights, w] of [[[5], 1], [[5], 2], [[5], 4], [[5], 8], [[5, 5], 4]] as const) {
      const r = await keygenHssLms({ out: f(`rt-${heights.join("-")}-w${w}`), heights: [...heights], w });
      const signer = await HssLmsFileSigner.open(r.keyPath);
      const n = heights.length === 2 ? 34 : 3; // 34 > 32: the second level is replaced once
      for (let i = 0; i < n; i++) {
        const sig = await signer.sign(msg);
        expect(verifyHss(r.publicKey, msg, sig)).toBe(true);
        expect(verifyHss(r.publicKey, Buffer.from("other"), sig)).toBe(false);
      }
      expect(signer.counts.next).toBe(n);
      expect(hssKeyInfo(await readHssPrivateKey(r.keyPath)).remaining).toBe(r.total - n);
    }
  });

  it("writes the private key 0600 and the public key as SPKI with the RFC 8708 OID", async () => {
    const r = await keygenHssLms({ out: f("files"), heights: [5], w: 4 });
    expect(fs.statSync(r.keyPath).mode & 0o777).toBe(0o600);
    const pem = fs.readFileSync(r.pubPath, "utf8");
    const der = Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ""), "base64");
    expect(der.subarray(0, 20).toString("hex")).toBe("304e300d060b2a864886f70d0109100311033d00");
    expect(der.subarray(20).equals(Buffer.from(r.publicKey))).toBe(true);
    expect(hssPublicKeyFromText(pem, "pub")).toEqual(r.publicKey);
    // The older RFC 8708 form with the key wrapped in an OCTET STRING reads the same.
    const wrapped = Buffer.concat([Buffer.from("3050300d060b2a864886f70d0109100311033f00043c", "hex"), r.publicKey]);
    expect(hssPublicKeyFromText(`-----BEGIN PUBLIC KEY-----\n${wrapped.toString("base64")}\n-----END PUBLIC KEY-----\n`, "pub")).toEqual(r.publicKey);
    expect(hssPublicKeyFromText(fs.readFileSync(r.keyPath, "latin1"), "key")).toEqual(r.publicKey);
  });

  it("refuses a damaged key file", async () => {
    const r = await keygenHssLms({ out: f("damaged"), heights: [5], w: 4 });
    const text = fs.readFileSync(r.keyPath, "latin1");
    const body = Buffer.from(text.replace(/-----[A-Z -]+-----|\s/g, ""), "base64");
    body[40] ^= 1;
    fs.writeFileSync(r.keyPath, `-----BEGIN FWSEAL HSS-LMS PRIVATE KEY-----\n${body.toString("base64")}\n-----END FWSEAL HSS-LMS PRIVATE KEY-----\n`);
    await expect(HssLmsFileSigner.open(r.keyPath)).rejects.toThrow(/checksum mismatch/);
  });

  it("an H5 key makes exactly 32 signatures, then refuses", async () => {
    const r = await keygenHssLms({ out: f("h5"), heights: [5], w: 8 });
    const signer = await HssLmsFileSigner.open(r.keyPath);
    const leaves = new Set<number>();
    for (let i = 0; i < 32; i++) leaves.add(leafOf(await signer.sign(Buffer.from([i]))));
    expect(leaves.size).toBe(32);
    await expect(signer.sign(Buffer.from("one more"))).rejects.toMatchObject({ code: "KEY_STATE", message: expect.stringMatching(/exhausted: all 32 one-time signatures are used/) });
    expect(hssKeyInfo(await readHssPrivateKey(r.keyPath)).remaining).toBe(0);
  });

  it("the counter is on disk before the signature exists", async () => {
    const r = await keygenHssLms({ out: f("persist"), heights: [5], w: 4 });
    let seenOnDisk = -1;
    const signer = await HssLmsFileSigner.open(r.keyPath, {
      afterPersist: () => {
        seenOnDisk = hssKeyInfo(hssKeyFromDisk(r.keyPath)).next;
      }
    });
    const sig = await signer.sign(Buffer.from("m"));
    expect(leafOf(sig)).toBe(0);
    expect(seenOnDisk).toBe(1);
  });

  it("one signer at a time: a held lock makes another signer wait, then refuse", async () => {
    const r = await keygenHssLms({ out: f("locked"), heights: [5], w: 4 });
    const signer = await HssLmsFileSigner.open(r.keyPath, { lockWaitMs: 150 });
    await withKeyLock(r.keyPath, 0, async () => {
      await expect(signer.sign(Buffer.from("m"))).rejects.toMatchObject({ code: "KEY_STATE", message: expect.stringMatching(new RegExp(`key is in use by process ${process.pid} `)) });
    });
    expect(fs.existsSync(`${r.keyPath}.lock`)).toBe(false);
    await signer.sign(Buffer.from("m")); // released: signs again
    expect(signer.counts.next).toBe(1);
  });

  it("refuses a key file restored from an old backup: the audit log knows the highest leaf used", async () => {
    const log = f("restore-audit.log");
    const r = await keygenHssLms({ out: f("restore"), heights: [5], w: 4 });
    const backup = fs.readFileSync(r.keyPath);
    const signer = await HssLmsFileSigner.open(r.keyPath, { audit: log });
    for (let i = 0; i < 3; i++) await signer.sign(Buffer.from([i]));
    const recs = (await listAuditLog(log)).filter((x) => x.op === "hss-sign");
    expect(recs.map((x) => x.summary?.hssLeaf)).toEqual([0, 1, 2]);
    expect(recs[0].keyIds).toEqual([keyIdHex(r.publicKey)]);
    fs.writeFileSync(r.keyPath, backup, { mode: 0o600 });
    const restored = await HssLmsFileSigner.open(r.keyPath, { audit: log });
    const err = await restored.sign(Buffer.from("again")).catch((e: Error) => e);
    expect(err).toMatchObject({ code: "KEY_STATE" });
    expect((err as Error).message).toMatch(/refusing to sign: leaf 0 of HSS\/LMS key [0-9a-f]{16} was already used \(the audit log .* records leaf 2\)/);
    expect((err as Error).message).not.toContain("\n");
    expect(hssKeyInfo(await readHssPrivateKey(r.keyPath)).next).toBe(0); // nothing was reserved
  });

  it("counts leaves across the levels of a two-level key: a backup from before a bottom-tree change is refused too", async () => {
    const log = f("restore2-audit.log");
    const r = await keygenHssLms({ out: f("restore2"), heights: [5, 5], w: 4 });
    const signer = await HssLmsFileSigner.open(r.keyPath, { audit: log });
    await signer.sign(Buffer.from("first"));
    const backup = fs.readFileSync(r.keyPath);
    for (let i = 0; i < 33; i++) await signer.sign(Buffer.from([i]));
    const leaves = (await listAuditLog(log)).map((x) => x.summary?.hssLeaf);
    expect(leaves).toEqual(Array.from({ length: 34 }, (_, i) => i)); // 0..31 under top leaf 0, then 32.. under top leaf 1
    fs.writeFileSync(r.keyPath, backup, { mode: 0o600 });
    const restored = await HssLmsFileSigner.open(r.keyPath, { audit: log });
    await expect(restored.sign(Buffer.from("again"))).rejects.toThrow(/leaf 1 of HSS\/LMS key [0-9a-f]{16} was already used \(the audit log .* records leaf 33\)/);
  });
});

describe("fwseal keygen --alg hss-lms, inspect and pubkey", () => {
  it("keygen reports the signatures left, inspect follows the counter, both warn when low", async () => {
    const k = await fwsealOk(["keygen", "--alg", "hss-lms", "--lms-height", "5", "--lmots-w", "4", "--warn-below", "31", "-o", f("cli")]);
    expect(k.stdout).toMatch(/signatures: {2}32 of 32 left \(0 used; warning below 31\)/);
    expect(k.stderr).toBe("");
    const signer = await HssLmsFileSigner.open(f("cli.key"));
    await signer.sign(Buffer.from("a"));
    await signer.sign(Buffer.from("b"));
    const i = await fwsealOk(["inspect", f("cli.key")]);
    expect(i.stdout).toMatch(/HSS\/LMS private key, key ID [0-9a-f]{16}/);
    expect(i.stdout).toMatch(/signatures: {2}30 of 32 left \(2 used; warning below 31\)/);
    expect(errorLines(i)).toEqual(["warning: HSS/LMS key has only 30 of 32 signatures left (threshold 31); prepare its successor"]);
    const j = JSON.parse((await fwsealOk(["inspect", f("cli.key"), "--json"])).stdout) as Record<string, unknown>;
    expect(j).toMatchObject({ ok: true, alg: "hss-lms", signaturesRemaining: 30, signaturesTotal: 32, low: true });
    expect(fs.readFileSync(f("cli.key"), "latin1")).not.toContain(JSON.stringify(j)); // nothing secret in the report
  });

  it("the default threshold is 1% of the total", async () => {
    const k = JSON.parse((await fwsealOk(["keygen", "--alg", "hss-lms", "--lms-height", "5", "--levels", "2", "-o", f("twolevel"), "--json"])).stdout) as Record<string, unknown>;
    expect(k).toMatchObject({ signaturesTotal: 1024, warnBelow: 11, low: false, levels: [{ height: 5, nextLeaf: 1 }, { height: 5, nextLeaf: 0 }] });
  });

  it("rejects options that do not fit", async () => {
    const bad = [
      ["--alg", "hss-lms", "--lms-height", "12"],
      ["--alg", "hss-lms", "--lmots-w", "3"],
      ["--alg", "hss-lms", "--levels", "3"],
      ["--alg", "hss-lms", "--encrypt"],
      ["--lms-height", "10"]
    ];
    for (const args of bad) {
      const r = await fwseal(["keygen", ...args, "-o", f("bad")]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(errorLines(r).length).toBe(1);
    }
    expect(fs.existsSync(f("bad.key"))).toBe(false);
  });

  it("pubkey exports the HSS/LMS key as hex, PEM, C, TS and COSE_Key (kty 5, alg -46, pub -1)", async () => {
    await fwsealOk(["keygen", "--alg", "hss-lms", "--lms-height", "5", "-o", f("pk")]);
    const hex = (await fwsealOk(["pubkey", f("pk.pub"), "--format", "hex"])).stdout.trim();
    expect(hex).toMatch(/^000000010000000500000003[0-9a-f]{96}$/);
    expect((await fwsealOk(["pubkey", f("pk.key"), "--format", "hex"])).stdout.trim()).toBe(hex);
    expect((await fwsealOk(["pubkey", hex, "--format", "pem"])).stdout).toBe(fs.readFileSync(f("pk.pub"), "utf8").trimEnd() + "\n");
    const pk = Buffer.from(hex, "hex");
    const c = (await fwsealOk(["pubkey", f("pk.pub"), "--format", "c"])).stdout;
    expect(c).toContain("static const unsigned char fwseal_root_pubkey[60] = {");
    expect(c).toContain(`key ID ${keyIdHex(pk)}`);
    expect((await fwsealOk(["pubkey", f("pk.pub"), "--format", "ts"])).stdout).toContain("LMS_SHA256_M32_H5, LMOTS_SHA256_N32_W4");
    await fwsealOk(["pubkey", f("pk.pub"), "--format", "cose", "-o", f("pk.cose")]);
    const cose = fs.readFileSync(f("pk.cose"));
    const m = cborDecode(cose) as Map<number, unknown> | Record<string, unknown>;
    const get = (k: number): unknown => (m instanceof Map ? m.get(k) : (m as Record<string, unknown>)[String(k)]);
    expect(get(1)).toBe(5);
    expect(get(3)).toBe(-46);
    expect(Buffer.from(get(-1) as Uint8Array).equals(pk)).toBe(true);
    expect(Buffer.from(get(2) as Uint8Array).toString("hex")).toBe(keyIdHex(pk));
  });
});

/** The key file as on disk now, read synchronously (for the afterPersist hook). */
function hssKeyFromDisk(p: string): HssPrivateKey {
  return privateKeyFromPem(fs.readFileSync(p, "latin1"), p);
}
