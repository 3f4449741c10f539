// The library as an update server uses it (host/index.ts): loadSigner takes its passphrase
// from the caller and never prompts or reads the environment unless asked, with library
// wording; verify needs an explicit vendor/class or ANY; pack refuses to overwrite unless
// asked; pack and verify stop on an AbortSignal with FwsealError ABORTED and leave nothing
// half-written; pack and signDraft write the audit record the CLI writes.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Readable } from "node:stream";
import { errorLines, fwseal, fwsealOk, tempDir } from "../helpers/cli.js";
import { writeImage } from "../helpers/images.js";
import {
  ANY, FwsealError, Reason, addSignature, createDraft, loadPrecursor, delegate, errorObject, formatPublicKey, inspect, keygen, keygenHssLms, withCertificate, extract, finalizeDraft, flashDevice, listAuditLog, loadPublicKey, loadSigner, pack, signDraft, verifyBytes, verifyFile, verifyStream
} from "../../host/index.js";
import { draftToBeSigned } from "../../host/bundle/drafts.js";

let dir: string;
const f = (n: string): string => path.join(dir, n);
const PASS = "library passphrase 7";
const META = { vendor: "acme.example", deviceClass: "meter", sequence: 4, version: "4.0" };

async function codeOf(p: Promise<unknown>): Promise<string> {
  return p.then(() => "resolved", (e) => (e instanceof FwsealError ? e.code : `not a FwsealError: ${String(e)}`));
}

beforeAll(async () => {
  dir = tempDir("library");
  writeImage(dir, "fw.bin", 50_000, 2);
  writeImage(dir, "big.bin", 6 * 1024 * 1024, 3);
  await fwsealOk(["keygen", "-o", f("root")]);
  await fwsealOk(["keygen", "-o", f("enc"), "--encrypt"], { FWSEAL_PASSPHRASE: PASS });
});
afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("loadSigner", () => {
  it("never reads FWSEAL_PASSPHRASE unless asked, and says what to pass in library words", async () => {
    const saved = process.env.FWSEAL_PASSPHRASE;
    process.env.FWSEAL_PASSPHRASE = PASS;
    try {
      const e = await loadSigner(f("enc.key")).then(() => null, (x: FwsealError) => x);
      expect(e?.code).toBe("KEY_PASSPHRASE_REQUIRED");
      expect(e?.message).toMatch(/enc\.key is encrypted: give its passphrase \(option passphrase: a string or a function\) or a passphraseFile/);
      expect(e?.message).not.toMatch(/--|FWSEAL_/);
      expect((await loadSigner(f("enc.key"), { useEnvironment: true })).keyId).toMatch(/^[0-9a-f]{16}$/);
    } finally {
      if (saved === undefined) delete process.env.FWSEAL_PASSPHRASE;
      else process.env.FWSEAL_PASSPHRASE = saved;
    }
  });

  it("takes a passphrase or a callback, called once and only for an encrypted key", async () => {
    expect((await loadSigner(f("enc.key"), { passphrase: PASS })).keyId).toMatch(/^[0-9a-f]{16}$/);
    const asked: string[] = [];
    const cb = async (what: string): Promise<string> => {
      asked.push(what);
      return PASS;
    };
    await loadSigner(f("enc.key"), { passphrase: cb });
    await loadSigner(f("root.key"), { passphrase: cb });
    expect(asked).toEqual([f("enc.key")]);
    expect(await codeOf(loadSigner(f("enc.key"), { passphrase: "wrong" }))).toBe("KEY_PASSPHRASE");
  });
});

describe("loadPublicKey", () => {
  it("never reads FWSEAL_PASSPHRASE for an encrypted private key unless asked", async () => {
    const saved = process.env.FWSEAL_PASSPHRASE;
    process.env.FWSEAL_PASSPHRASE = PASS;
    try {
      const e = await loadPublicKey(f("enc.key")).then(() => null, (x: FwsealError) => x);
      expect(e?.code).toBe("KEY_PASSPHRASE_REQUIRED");
      expect(e?.message).not.toMatch(/--|FWSEAL_/);
      const fromPub = await loadPublicKey(f("enc.pub"));
      expect(Buffer.from(await loadPublicKey(f("enc.key"), { useEnvironment: true })).equals(Buffer.from(fromPub))).toBe(true);
      expect(Buffer.from(await loadPublicKey(f("enc.key"), { passphrase: PASS })).equals(Buffer.from(fromPub))).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.FWSEAL_PASSPHRASE;
      else process.env.FWSEAL_PASSPHRASE = saved;
    }
  });

  it("takes Ed25519 and HSS/LMS keys as PEM files, private key files, hex in a file, or hex given directly", async () => {
    await fwsealOk(["keygen", "--alg", "hss-lms", "--lms-height", "5", "-o", f("pq")]);
    const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
    const ed = await loadPublicKey(f("root.pub"));
    const pq = await loadPublicKey(f("pq.pub"));
    expect([ed.length, pq.length]).toEqual([32, 60]);
    expect(hex(await loadPublicKey(f("root.key")))).toBe(hex(ed));
    expect(hex(await loadPublicKey(f("pq.key")))).toBe(hex(pq));
    for (const k of [ed, pq]) {
      expect(hex(await loadPublicKey(hex(k)))).toBe(hex(k));
      fs.writeFileSync(f(`k${k.length}.hex`), hex(k) + "\n");
      expect(hex(await loadPublicKey(f(`k${k.length}.hex`)))).toBe(hex(k));
    }
    expect(await codeOf(loadPublicKey(f("missing.pub")))).toBe("INPUT_MISSING");
    expect(await codeOf(loadPublicKey("ab".repeat(60).replace(/^ab/, "00")))).toBe("INPUT_MISSING"); // 120 digits, not an HSS/LMS key
    fs.writeFileSync(f("junk.pub"), "not a key\n");
    expect(await codeOf(loadPublicKey(f("junk.pub")))).toBe("KEY_CORRUPT");
  });
});

describe("keygen", () => {
  it("never reads FWSEAL_PASSPHRASE or prompts unless asked, and refuses existing files unless overwrite, in library words", async () => {
    const saved = process.env.FWSEAL_PASSPHRASE;
    process.env.FWSEAL_PASSPHRASE = PASS;
    try {
      const e = await keygen({ out: f("kg-enc"), encrypt: true }).then(() => null, (x: FwsealError) => x);
      expect(e?.code).toBe("KEY_PASSPHRASE_REQUIRED");
      expect(e?.message).toMatch(/kg-enc\.key needs a passphrase: give it \(option passphrase: a string or a function\) or a passphraseFile/);
      expect(e?.message).not.toMatch(/--|FWSEAL_/);
      expect(fs.existsSync(f("kg-enc.key"))).toBe(false);
      const fromEnv = await keygen({ out: f("kg-env"), encrypt: true, useEnvironment: true });
      expect((await loadSigner(fromEnv.keyPath, { passphrase: PASS })).keyId).toBe(fromEnv.keyId);
    } finally {
      if (saved === undefined) delete process.env.FWSEAL_PASSPHRASE;
      else process.env.FWSEAL_PASSPHRASE = saved;
    }
    const made = await keygen({ out: f("kg"), encrypt: true, passphrase: () => PASS });
    expect(made).toMatchObject({ keyPath: f("kg.key"), pubPath: f("kg.pub"), encrypted: true });
    const before = fs.readFileSync(f("kg.key"));
    const exists = await keygen({ out: f("kg") }).then(() => null, (x: FwsealError) => x);
    expect(exists?.code).toBe("OUTPUT_EXISTS");
    expect(exists?.message).toBe(`${f("kg.key")}: already exists (pass overwrite: true to replace it)`);
    expect(fs.readFileSync(f("kg.key")).equals(before)).toBe(true);
    expect((await keygen({ out: f("kg"), overwrite: true })).encrypted).toBe(false);
  });
});

describe("keygenHssLms", () => {
  it("refuses existing files unless overwrite, and names its options in refusals", async () => {
    await keygenHssLms({ out: f("pq-lib"), heights: [5], w: 4 });
    const exists = await keygenHssLms({ out: f("pq-lib"), heights: [5], w: 4 }).then(() => null, (x: FwsealError) => x);
    expect(exists?.code).toBe("OUTPUT_EXISTS");
    expect(exists?.message).toBe(`${f("pq-lib.key")}: already exists (pass overwrite: true to replace it)`);
    expect((await keygenHssLms({ out: f("pq-lib"), heights: [5], w: 4, overwrite: true })).keyPath).toBe(f("pq-lib.key"));
    const bad = await keygenHssLms({ out: f("pq-bad"), heights: [7], w: 4 }).then(() => null, (x: FwsealError) => x);
    expect(bad).toMatchObject({ code: "USAGE" });
    expect(bad?.message).toMatch(/^heights: 7: the tree height is 5, 10, 15 or 20/);
  });
});

describe("delegate", () => {
  it("refuses to replace an existing certificate unless overwrite, and words its refusals and warnings for the library", async () => {
    const root = await loadSigner(f("root.key"));
    const subject = await loadPublicKey(f("enc.pub"));
    const opts = { root, subject, epoch: 1, vendor: "acme.example", classes: ["meter"], notAfter: 4_000_000_000, output: f("d.cert") };
    const first = await delegate(opts);
    expect(first.warnings).toEqual([]);
    const before = fs.readFileSync(f("d.cert"));
    const exists = await delegate({ ...opts, epoch: 2 }).then(() => null, (x: FwsealError) => x);
    expect(exists?.code).toBe("OUTPUT_EXISTS");
    expect(exists?.message).toBe(`${f("d.cert")}: already exists (pass overwrite: true to replace it)`);
    expect(fs.readFileSync(f("d.cert")).equals(before)).toBe(true);
    expect((await delegate({ ...opts, epoch: 2, overwrite: true })).epoch).toBe(2);
    const open = await delegate({ root, subject });
    expect(open.warnings).toEqual([expect.stringMatching(/never expires \(no notAfter\) and is valid for every vendor \(no vendor\)/)]);
    const noVendor = await delegate({ root, subject, classes: ["meter"] }).then(() => null, (x: FwsealError) => x);
    expect(noVendor).toMatchObject({ code: "USAGE" });
    expect(noVendor?.message).toMatch(/^classes given by name need vendor/);
  });
});

describe("formatPublicKey", () => {
  it("is typed by format (text, or COSE_Key bytes) and refuses what is not a public key", async () => {
    const pk = await loadPublicKey(f("root.pub"));
    const hex: string = formatPublicKey(pk, "hex"); // no cast: the format says it is text
    const cose: Uint8Array = formatPublicKey(pk, "cose");
    expect(hex).toBe(Buffer.from(pk).toString("hex") + "\n");
    expect(cose).toBeInstanceOf(Uint8Array);
    for (const bad of [Buffer.from(pk).toString("hex"), pk.subarray(0, 31)]) {
      const e = (() => { try { formatPublicKey(bad as never, "hex"); return null; } catch (x) { return x as FwsealError; } })();
      expect(e).toMatchObject({ code: "USAGE" });
      expect(e?.message).toMatch(/^formatPublicKey: the key must be a 32-byte Ed25519 or 60-byte HSS\/LMS public key/);
    }
  });
});

describe("verify policy", () => {
  it("requires vendor and deviceClass (a value or ANY); ANY checks the bundle's own", async () => {
    const signer = await loadSigner(f("root.key"));
    await pack({ image: f("fw.bin"), output: f("fw.fwb"), signers: [signer], ...META });
    const roots = [await loadPublicKey(f("root.pub"))];
    const missing = await verifyFile(f("fw.fwb"), { roots } as never).then(() => null, (e: FwsealError) => e);
    expect(missing?.code).toBe("USAGE");
    expect(missing?.message).toMatch(/verify policy: vendor is required: .* or ANY to accept any/);
    expect(await codeOf(verifyFile(f("fw.fwb"), { roots, vendor: "acme.example" } as never))).toBe("USAGE");
    const any = await verifyFile(f("fw.fwb"), { roots, vendor: ANY, deviceClass: ANY });
    expect(any).toMatchObject({ valid: true, vendorFromPolicy: false, classFromPolicy: false });
    const exact = await verifyBytes(fs.readFileSync(f("fw.fwb")), { roots, vendor: "acme.example", deviceClass: "meter" });
    expect(exact).toMatchObject({ valid: true, vendorFromPolicy: true, classFromPolicy: true });
    expect((await verifyStream(fs.createReadStream(f("fw.fwb")), { roots, vendor: "acme.example", deviceClass: "hub" })).reasonName).toBe("WRONG_CLASS");
  });

  it("results have the documents' shapes: chunk null for none, no zero-UUID vendor or class", async () => {
    const signer = await loadSigner(f("root.key"));
    await pack({ image: f("fw.bin"), output: f("shape.fwb"), signers: [signer], ...META });
    const roots = [await loadPublicKey(f("root.pub"))];
    const good = fs.readFileSync(f("shape.fwb"));
    expect(await verifyBytes(good, { roots, vendor: ANY, deviceClass: ANY })).toMatchObject({ valid: true, chunk: null });
    const wrong = await verifyBytes(good, { roots, vendor: "acme.example", deviceClass: "hub" });
    expect(wrong).toMatchObject({ valid: false, reasonName: "WRONG_CLASS", chunk: null });
    const tampered = Buffer.from(good);
    tampered[tampered.length - 100] ^= 1;
    const late = await verifyBytes(tampered, { roots, vendor: ANY, deviceClass: ANY });
    expect(late.reasonName).toBe("CHUNK_HASH_MISMATCH");
    expect(late.chunk).toBeGreaterThan(0);
    const garbage = await verifyBytes(Buffer.from("not a bundle at all"), { roots, vendor: ANY, deviceClass: ANY });
    expect(garbage).toMatchObject({ valid: false, chunk: null, checkedVendor: null, checkedClass: null });
  });
});

describe("errors of the caller's hooks", () => {
  it("reach the caller as thrown, from verifyFile as from verifyStream (not as an unreadable input)", async () => {
    const signer = await loadSigner(f("root.key"));
    await pack({ image: f("fw.bin"), output: f("hook.fwb"), signers: [signer], ...META });
    const policy = { roots: [await loadPublicKey(f("root.pub"))], vendor: ANY, deviceClass: ANY };
    const full = new Error("disk full");
    const hooks = { onChunk: () => { throw full; } };
    expect(await verifyFile(f("hook.fwb"), policy, hooks).then(() => null, (e: unknown) => e)).toBe(full);
    expect(await verifyStream(fs.createReadStream(f("hook.fwb")), policy, hooks).then(() => null, (e: unknown) => e)).toBe(full);
  });
});

describe("wrong argument types and missing options", () => {
  it("are FwsealError USAGE naming the function and the option, before any work (no TypeError from inside, no verdict)", async () => {
    const signer = await loadSigner(f("root.key"));
    await pack({ image: f("fw.bin"), output: f("args.fwb"), signers: [signer], ...META });
    const roots = [await loadPublicKey(f("root.pub"))];
    const good = { roots, vendor: "acme.example", deviceClass: "meter" };
    const x = (v: unknown) => v as never;
    const cases: [string, () => Promise<unknown>, RegExp][] = [
      ["verifyFile path", () => verifyFile(x(undefined), good), /^verifyFile: path must be a non-empty string, not missing$/],
      ["roots missing", () => verifyFile(f("args.fwb"), x({ vendor: ANY, deviceClass: ANY })), /^verifyFile: policy\.roots must be an array of public keys/],
      ["roots as file names", () => verifyFile(f("args.fwb"), { ...good, roots: x([f("root.pub")]) }), /^verifyFile: policy\.roots\[0\] must be a Uint8Array, not a string \(read a key file with loadPublicKey\)$/],
      ["vendor as a number", () => verifyFile(f("args.fwb"), { ...good, vendor: x(5) }), /^verifyFile: policy\.vendor must be a name, a UUID string or 16 bytes, not a number$/],
      ["hooks.onChunk", () => verifyFile(f("args.fwb"), good, x({ onChunk: 1 })), /^verifyFile: hooks\.onChunk must be a function/],
      ["verifyStream of a Buffer", () => verifyStream(x(fs.readFileSync(f("args.fwb"))), good), /^verifyStream: stream must be a Node Readable/],
      ["verifyStream of text", () => verifyStream(fs.createReadStream(f("args.fwb"), { encoding: "utf8" }), good), /bundle stream must be binary: Uint8Array blocks, not strings/],
      ["verifyBytes of an ArrayBuffer", () => verifyBytes(x(new ArrayBuffer(8)), good), /^verifyBytes: bundle must be a Uint8Array, not an ArrayBuffer/],
      ["extract without output", () => extract(x({ bundle: f("args.fwb"), policy: good })), /^extract: output must be a non-empty string, not missing$/],
      ["pack without signers", () => pack(x({ image: f("fw.bin"), output: f("args2.fwb"), ...META })), /^pack: signers must be a non-empty array of signers/],
      ["pack with a key file name as signer", () => pack({ image: f("fw.bin"), output: f("args2.fwb"), signers: x([f("root.key")]), ...META }), /^pack: signers\[0\] must be a signer \(from loadSigner\), not a string$/],
      ["pack version as a number", () => pack({ image: f("fw.bin"), output: f("args2.fwb"), signers: [signer], ...META, version: x(4) }), /^pack: version must be a non-empty string, not a number$/],
      ["pack without vendor", () => pack(x({ image: f("fw.bin"), output: f("args2.fwb"), signers: [signer], deviceClass: "meter", sequence: 1, version: "1" })), /^pack: vendor must be/],
      ["createDraft()", () => createDraft(x(undefined)), /^createDraft: options must be an object, not missing$/],
      ["signDraft without signer", () => signDraft(f("args.fwb"), x(undefined)), /^signDraft: signer must be a signer/],
      ["finalizeDraft without options", () => finalizeDraft(f("args.fwb"), x(undefined)), /^finalizeDraft: options must be an object/],
      ["loadSigner of bytes", () => loadSigner(x(Buffer.from("k"))), /^loadSigner: spec .* must be a non-empty string, not 1 bytes$/],
      ["loadPublicKey of bytes", () => loadPublicKey(x(roots[0])), /^loadPublicKey: pathOrHex .* must be a non-empty string, not 32 bytes$/],
      ["withCertificate of a file name", async () => withCertificate(signer, x(f("d.cert"))), /^withCertificate: certificate must be the certificate's bytes \(read the file with readFile\), not a file name$/],
      ["keygen without out", () => keygen(x({})), /^keygen: out .* must be a non-empty string, not missing$/],
      ["delegate with a key file name as subject", () => delegate({ root: signer, subject: x(f("enc.pub")) }), /^delegate: subject must be a Uint8Array, not a string/],
      ["inspect of undefined", () => inspect(x(undefined)), /^an input file name must be a path .*, not missing$/]
    ];
    for (const [what, call, message] of cases) {
      const e = await Promise.resolve().then(call).then(() => null, (err: unknown) => err);
      expect(e, what).toBeInstanceOf(FwsealError);
      expect((e as FwsealError).code, `${what}: ${(e as Error).message}`).toBe("USAGE");
      expect((e as FwsealError).message, what).toMatch(message);
    }
    expect(fs.existsSync(f("args2.fwb"))).toBe(false);
    expect(fs.existsSync(f(".key"))).toBe(false);
  });
});

describe("extract and finalizeDraft", () => {
  it("need an explicit vendor/class (or ANY) and refuse to replace an output unless overwrite", async () => {
    const signer = await loadSigner(f("root.key"));
    await pack({ image: f("fw.bin"), output: f("x.fwb"), signers: [signer], ...META });
    const roots = [await loadPublicKey(f("root.pub"))];
    expect(await codeOf(extract({ bundle: f("x.fwb"), output: f("x.bin"), policy: { roots } as never }))).toBe("USAGE");
    const r = await extract({ bundle: f("x.fwb"), output: f("x.bin"), policy: { roots, vendor: ANY, deviceClass: ANY } });
    expect(r.valid).toBe(true);
    expect(fs.readFileSync(f("x.bin")).equals(fs.readFileSync(f("fw.bin")))).toBe(true);
    expect(await codeOf(extract({ bundle: f("x.fwb"), output: f("x.bin"), policy: { roots, vendor: "acme.example", deviceClass: "meter" } }))).toBe("OUTPUT_EXISTS");
    await createDraft({ image: f("fw.bin"), output: f("x.draft"), vendor: "acme.example", deviceClass: "meter", sequence: 6, version: "6.0" });
    await signDraft(f("x.draft"), signer);
    expect(await codeOf(finalizeDraft(f("x.draft"), { output: f("x-final.fwb"), policy: { roots } as never }))).toBe("USAGE");
    const fin = await finalizeDraft(f("x.draft"), { output: f("x-final.fwb"), policy: { roots, vendor: "acme.example", deviceClass: "meter" } });
    expect(fin.verify.valid).toBe(true);
    expect(await codeOf(finalizeDraft(f("x.draft"), { output: f("x-final.fwb"), policy: { roots, vendor: ANY, deviceClass: ANY } }))).toBe("OUTPUT_EXISTS");
  });
});

describe("extract of a rejected bundle", () => {
  it("throws the CLI's BUNDLE_REJECTED error (reason, chunk, exit code, details) and writes nothing", async () => {
    const signer = await loadSigner(f("root.key"));
    await pack({ image: f("fw.bin"), output: f("ex.fwb"), signers: [signer], ...META });
    const bad = fs.readFileSync(f("ex.fwb"));
    bad[bad.length - 5000] ^= 1;
    fs.writeFileSync(f("ex-bad.fwb"), bad);
    const policy = { roots: [await loadPublicKey(f("root.pub"))], vendor: "acme.example", deviceClass: "meter" };
    const e = await extract({ bundle: f("ex-bad.fwb"), output: f("ex-bad.bin"), policy }).then(() => null, (x: unknown) => x);
    expect(e).toBeInstanceOf(FwsealError);
    const err = e as FwsealError;
    expect(err).toMatchObject({ code: "BUNDLE_REJECTED", exitCode: 13, reason: Reason.CHUNK_HASH_MISMATCH });
    expect(err.chunk).toBeGreaterThan(0);
    expect(fs.existsSync(f("ex-bad.bin"))).toBe(false);
    const cli = await fwseal(["extract", f("ex-bad.fwb"), "-r", f("root.pub"), "--vendor", "acme.example", "--class", "meter", "-o", f("ex-cli.bin"), "--json"]);
    expect(cli.code).toBe(13);
    expect(errorObject(err)).toEqual(JSON.parse(cli.stdout).error);
    const wrong = await extract({ bundle: f("ex.fwb"), output: f("ex-wrong.bin"), policy: { ...policy, deviceClass: "hub" } }).then(() => null, (x: FwsealError) => x);
    expect(wrong).toMatchObject({ code: "BUNDLE_REJECTED", exitCode: 12, reason: Reason.WRONG_CLASS, chunk: -1 });
    expect(fs.existsSync(f("ex-wrong.bin"))).toBe(false);
    const ok = await extract({ bundle: f("ex.fwb"), output: f("ex.bin"), policy });
    expect(ok).toMatchObject({ valid: true, output: f("ex.bin") });
  });
});

describe("createDraft", () => {
  it("refuses to replace an existing output unless overwrite", async () => {
    const opts = { image: f("fw.bin"), output: f("once.draft"), vendor: "acme.example", deviceClass: "meter", sequence: 7, version: "7.0" };
    await createDraft(opts);
    const before = fs.readFileSync(f("once.draft"));
    const exists = await createDraft({ ...opts, version: "7.1" }).then(() => null, (e: FwsealError) => e);
    expect(exists?.code).toBe("OUTPUT_EXISTS");
    expect(exists?.message).toBe(`${f("once.draft")}: already exists (pass overwrite: true to replace it)`);
    expect(fs.readFileSync(f("once.draft")).equals(before)).toBe(true);
    await createDraft({ ...opts, version: "7.1", overwrite: true });
    expect(fs.readFileSync(f("once.draft")).equals(before)).toBe(false);
  });
});

describe("pack", () => {
  it("refuses to replace an existing output unless overwrite", async () => {
    const signer = await loadSigner(f("root.key"));
    const opts = { image: f("fw.bin"), output: f("once.fwb"), signers: [signer], ...META };
    await pack(opts);
    const before = fs.readFileSync(f("once.fwb"));
    const exists = await pack({ ...opts, version: "4.1" }).then(() => null, (e: FwsealError) => e);
    expect(exists?.code).toBe("OUTPUT_EXISTS");
    expect(exists?.message).toBe(`${f("once.fwb")}: already exists (pass overwrite: true to replace it)`); // library words, not --force
    expect(fs.readFileSync(f("once.fwb")).equals(before)).toBe(true);
    await pack({ ...opts, version: "4.1", overwrite: true });
    expect(fs.readFileSync(f("once.fwb")).equals(before)).toBe(false);
  });
});

describe("warnings of a refusal that force let through", () => {
  it("name the option, not the CLI flag (pack, finalizeDraft)", async () => {
    const signer = await loadSigner(f("root.key"));
    const otherRoots = [await loadPublicKey(f("enc.pub"))]; // the signer is not among them: refused, unless force
    const p = await pack({ image: f("fw.bin"), output: f("forced.fwb"), signers: [signer], roots: otherRoots, force: true, ...META });
    await createDraft({ image: f("fw.bin"), output: f("forced.draft"), vendor: "acme.example", deviceClass: "meter", sequence: 8, version: "8.0" });
    await signDraft(f("forced.draft"), signer);
    const fin = await finalizeDraft(f("forced.draft"), { output: f("forced2.fwb"), force: true, policy: { roots: otherRoots, vendor: ANY, deviceClass: ANY } });
    for (const warnings of [p.warnings, fin.warnings]) {
      expect(warnings.length).toBeGreaterThan(0);
      for (const w of warnings) {
        expect(w).toMatch(/\(written anyway: force: true\)$/);
        expect(w).not.toMatch(/--force/);
      }
    }
  });
});

describe("refusals of payload and draft options", () => {
  it("name the library's options, not the CLI's flags", async () => {
    const signer = await loadSigner(f("root.key"));
    const base = { image: f("fw.bin"), output: f("payload.fwb"), signers: [signer], ...META };
    const messageOf = (p: Promise<unknown>) => p.then(() => "resolved", (e: FwsealError) => `${e.code}: ${e.message}`);
    expect(await messageOf(pack({ ...base, payload: { kind: "delta" } }))).toBe("USAGE: a delta needs the image it applies to (payload.precursor: loadPrecursor)");
    expect(await messageOf(pack({ ...base, payload: { kind: "compressed", windowBits: 20 } }))).toMatch(/^USAGE: payload\.windowBits 20: must be 9\.\.15/);
    await pack({ ...base, payload: { kind: "delta", precursor: await loadPrecursor(f("fw.bin")) } });
    const policy = { roots: [await loadPublicKey(f("root.pub"))], vendor: ANY, deviceClass: ANY };
    expect(await messageOf(extract({ bundle: f("payload.fwb"), output: f("payload.bin"), policy }))).toMatch(/needs the precursor it applies to \(policy\.precursor: loadPrecursor of the bundle, raw or compressed, or the image the devices run\)$/);
    expect(await messageOf(signDraft(f("payload.fwb"), signer))).toMatch(/is a finished bundle, not a draft \(make one with createDraft\)$/);
  });
});

describe("addSignature", () => {
  it("refuses to replace an existing output unless overwrite, like signDraft", async () => {
    const d = await createDraft({ image: f("fw.bin"), output: f("detached.draft"), vendor: "acme.example", deviceClass: "meter", sequence: 9, version: "9.0" });
    const publicKey = await loadPublicKey(f("root.pub"));
    const signature = crypto.sign(null, draftToBeSigned(d.payload, publicKey), crypto.createPrivateKey(fs.readFileSync(f("root.key"))));
    fs.writeFileSync(f("detached-signed.draft"), "kept");
    const e = await addSignature(f("detached.draft"), { publicKey, signature }, { output: f("detached-signed.draft") }).then(() => null, (x: FwsealError) => x);
    expect(e?.code).toBe("OUTPUT_EXISTS");
    expect(e?.message).toBe(`${f("detached-signed.draft")}: already exists (pass overwrite: true to replace it)`);
    expect(fs.readFileSync(f("detached-signed.draft"), "utf8")).toBe("kept");
    const r = await addSignature(f("detached.draft"), { publicKey, signature }, { output: f("detached-signed.draft"), overwrite: true });
    expect(r.signatures).toBe(1);
    expect(await codeOf(addSignature(f("detached.draft"), { publicKey, signature: f("sig.bin") as never }))).toBe("USAGE");
  });
});

describe("AbortSignal", () => {
  const leftovers = (): string[] => fs.readdirSync(dir).filter((n) => n.startsWith(".") || n.includes(".tmp") || n.startsWith("aborted"));

  it("pack: aborted before or during the pass throws ABORTED and leaves no file, partial or temporary", async () => {
    const signer = await loadSigner(f("root.key"));
    const base = { image: f("big.bin"), output: f("aborted.fwb"), signers: [signer], ...META };
    expect(await codeOf(pack({ ...base, signal: AbortSignal.abort() }))).toBe("ABORTED");
    const ac = new AbortController();
    let calls = 0;
    const r = pack({ ...base, signal: ac.signal, onProgress: () => (++calls === 2 ? ac.abort(new Error("server shutting down")) : undefined) });
    const e = await r.then(() => null, (x: FwsealError) => x);
    expect(e?.code).toBe("ABORTED");
    expect(e?.exitCode).toBe(130);
    expect(e?.message).toBe("pack aborted: server shutting down");
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(leftovers()).toEqual([]);
  });

  it("verifyFile and verifyStream: aborted mid-way throw ABORTED; the stream is released", async () => {
    const signer = await loadSigner(f("root.key"));
    await pack({ image: f("big.bin"), output: f("big.fwb"), signers: [signer], ...META });
    const policy = { roots: [await loadPublicKey(f("root.pub"))], vendor: "acme.example", deviceClass: "meter" };
    const ac = new AbortController();
    expect(await codeOf(verifyFile(f("big.fwb"), policy, { signal: ac.signal, onProgress: (d) => (d > 2 * 1024 * 1024 ? ac.abort() : undefined) }))).toBe("ABORTED");
    const ac2 = new AbortController();
    const stream = fs.createReadStream(f("big.fwb"), { highWaterMark: 256 * 1024 });
    expect(await codeOf(verifyStream(stream, policy, { signal: ac2.signal, onProgress: (d) => (d > 1024 * 1024 ? ac2.abort() : undefined) }))).toBe("ABORTED");
    await new Promise((r) => setImmediate(r));
    expect(stream.destroyed).toBe(true);
    expect((await verifyStream(Readable.from([fs.readFileSync(f("big.fwb"))]), policy)).valid).toBe(true); // no signal: as before
  });

  it("flashDevice: an aborted signal stops it before the port is opened", async () => {
    expect(await codeOf(flashDevice({ port: "/dev/fwseal-no-such-port", signal: AbortSignal.abort() }))).toBe("ABORTED");
    expect(await codeOf(flashDevice({ port: "/dev/fwseal-no-such-port" }))).toBe("DEVICE");
  });
});

describe("audit records from the library", () => {
  it("pack and signDraft append the records the CLI appends (same fields), only when given a log", async () => {
    const log = f("lib-audit.log");
    const cliLog = f("cli-audit.log");
    const signer = await loadSigner(f("root.key"));
    const roots = [await loadPublicKey(f("root.pub"))];
    await pack({ image: f("fw.bin"), output: f("audited.fwb"), signers: [signer], roots, ...META, audit: { log, operator: "ci" } });
    await fwsealOk(["pack", f("fw.bin"), "--key", f("root.key"), "--root", f("root.pub"), "--seq", "4", "--vendor", "acme.example", "--class", "meter", "--fw-version", "4.0", "-o", f("cli.fwb"), "--audit", cliLog, "--operator", "ci"]);
    const [lib] = await listAuditLog(log);
    const [cli] = await listAuditLog(cliLog);
    const shape = (r: typeof lib) => ({ op: r.op, operator: r.operator, keyIds: r.keyIds, keySource: r.keySource, summary: r.summary, sha256: r.artifact?.sha256 });
    expect(shape(lib)).toEqual(shape(cli));

    await createDraft({ image: f("fw.bin"), output: f("fw.draft"), vendor: "acme.example", deviceClass: "meter", sequence: 5, version: "5.0" });
    await signDraft(f("fw.draft"), signer, { audit: { log } });
    const recs = await listAuditLog(log);
    expect(recs.map((r) => r.op)).toEqual(["pack", "sign"]);
    expect(recs[1].summary).toMatchObject({ sequence: 5, signatures: 1 });
    // Without audit, nothing is written anywhere (the library does not read FWSEAL_AUDIT_LOG).
    const saved = process.env.FWSEAL_AUDIT_LOG;
    process.env.FWSEAL_AUDIT_LOG = f("env-audit.log");
    try {
      await pack({ image: f("fw.bin"), output: f("unaudited.fwb"), signers: [signer], ...META });
    } finally {
      if (saved === undefined) delete process.env.FWSEAL_AUDIT_LOG;
      else process.env.FWSEAL_AUDIT_LOG = saved;
    }
    expect(fs.existsSync(f("env-audit.log"))).toBe(false);
  });

  it("a log whose history does not verify is refused before signing, naming the line", async () => {
    const log = f("lib-audit.log");
    const lines = fs.readFileSync(log, "utf8").split("\n");
    lines[0] = lines[0].replace('"operator":"ci"', '"operator":"mallory"');
    fs.writeFileSync(f("edited.log"), lines.join("\n"));
    const signer = await loadSigner(f("root.key"));
    const e = await pack({ image: f("fw.bin"), output: f("refused.fwb"), signers: [signer], ...META, audit: { log: f("edited.log") } }).then(() => null, (x: FwsealError) => x);
    expect(e?.code).toBe("OUTPUT_UNWRITABLE");
    expect(e?.message).toMatch(/edited\.log: refusing to append: the log's history does not verify: line 1: record seq 1 was edited .*; run fwseal audit verify/);
    expect(fs.existsSync(f("refused.fwb"))).toBe(false);
    // the CLI refuses the same log the same way: one line, exit 5
    const cli = await fwseal(["pack", f("fw.bin"), "--key", f("root.key"), "--root", f("root.pub"), "--seq", "4", "--vendor", "acme.example", "--class", "meter", "--fw-version", "4.0", "-o", f("refused.fwb"), "--audit", f("edited.log")]);
    expect(cli.code).toBe(5);
    expect(errorLines(cli)).toEqual([expect.stringMatching(/^fwseal: error: .*edited\.log: refusing to append: the log's history does not verify: line 1: record seq 1 was edited/)]);
    expect(fs.existsSync(f("refused.fwb"))).toBe(false);
  });
});
