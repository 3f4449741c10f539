// The ES5 device core (build/fwseal-core.js and .min.js) under the real Duktape 2.7 `duk`
// command (Debian package duktape; scripts/setup.sh installs it). duk has no file system
// access, so the runner script embeds its inputs as hex strings and prints results.
import { describe, it, expect, beforeAll } from "vitest";
import { createHash } from "node:crypto";
import { Reason, REASON_NAMES } from "../../formats/device-safe/reasons.js";
import { vendorUuid, classUuid } from "../../formats/host-only/uuid.js";
import { Limits } from "../../formats/device-safe/limits.js";
import { makeBundleCases, CONFORMANCE_IMAGE_SIZE, type BundleCase } from "../helpers/conformance-fixtures.js";
import { rampImage } from "../helpers/images.js";
import { readSha256Vectors, readEd25519Vectors } from "../helpers/standard-vectors.js";
import { CORE_FILES, ES5_HEX_CODEC, runDuk, runInNodeVm, buildCoreFiles, readCoreFile, hasDuk } from "../helpers/engines.js";

const vendorUuidBytes = () => vendorUuid("acme.example");
const classUuidBytes = () => classUuid(vendorUuid("acme.example"), "sensor-v3");

describe.each(CORE_FILES)("%s under duk", (coreRel) => {
  let core = "";
  beforeAll(() => {
    buildCoreFiles();
    core = readCoreFile(coreRel);
    expect(hasDuk(), "duk missing").toBe(true);
  });

  it("defines exactly one global, fwsealCore, with the format constants", () => {
    const out = runDuk([
      'print("PRE " + Object.keys(this).join(","));',
      core,
      'print("POST " + Object.keys(this).join(","));\n' +
        'print("KEYS " + Object.keys(fwsealCore).join(","));\n' +
        'print("REASONS " + fwsealCore.REASON_NAMES.join(","));\n' +
        'print("MISMATCH " + fwsealCore.Reason.CHUNK_HASH_MISMATCH + " " + fwsealCore.reasonName(16) + " " + fwsealCore.reasonName(999));\n' +
        'print("LIMITS " + fwsealCore.Limits.MAX_ENVELOPE + " " + fwsealCore.Limits.MAX_CHUNK_SIZE + " " + fwsealCore.Limits.MAX_CHUNK_COUNT);'
    ]);
    const get = (tag: string) => out.find((l) => l.startsWith(tag + " "))!.slice(tag.length + 1);
    const pre = out.find((l) => l.startsWith("PRE"))!.slice(4);
    const post = get("POST").split(",").filter((k) => !pre.split(",").includes(k));
    expect(post).toEqual(["fwsealCore"]);
    const keys = get("KEYS").split(",");
    for (const k of ["Reason", "REASON_NAMES", "reasonName", "Limits", "sha256", "ed25519Verify", "createPurePrimitives"]) {
      expect(keys).toContain(k);
    }
    expect(get("REASONS")).toBe(REASON_NAMES.join(","));
    expect(get("MISMATCH")).toBe(`${Reason.CHUNK_HASH_MISMATCH} CHUNK_HASH_MISMATCH UNKNOWN_REASON`);
    expect(get("LIMITS")).toBe(`${Limits.MAX_ENVELOPE} ${Limits.MAX_CHUNK_SIZE} ${Limits.MAX_CHUNK_COUNT}`);
  });

  it("has no getters or non-plain values on the global object (same view under node vm)", () => {
    const c = runInNodeVm(core + "\n;fwsealCore") as Record<string, unknown>;
    for (const k of Object.keys(c)) {
      const d = Object.getOwnPropertyDescriptor(c, k)!;
      expect(d.get, k).toBeUndefined();
      expect("value" in d, k).toBe(true);
    }
  });

  it("SHA-256: NIST ShortMsg, one-shot and through primitives, and at offsets", () => {
    const vs = readSha256Vectors("SHA256ShortMsg.rsp");
    expect(vs.length).toBe(65);
    const calls = vs.map((v) => `t(${JSON.stringify(v.msg)});`).join("\n");
    const out = runDuk([
      core,
      ES5_HEX_CODEC +
        "var p = fwsealCore.createPurePrimitives(); var d = new Uint8Array(32); var e = new Uint8Array(32);\n" +
        // The message is placed at offset 3 of a larger buffer, to check off/len handling.
        "function t(h) { var m = fromHex(h); var big = new Uint8Array(m.length + 7); big.set(m, 3);\n" +
        "  fwsealCore.sha256(m, 0, m.length, d); p.sha256(big, 3, m.length, e); print(toHex(d) + ' ' + toHex(e)); }\n" +
        calls
    ]);
    expect(out).toEqual(vs.map((v) => v.md + " " + v.md));
  });

  it("SHA-256: incremental Sha256 with every split point equals the one-shot digest", () => {
    const msg = Buffer.alloc(200);
    for (let i = 0; i < msg.length; i++) msg[i] = (i * 37 + 11) & 0xff;
    const want = createHash("sha256").update(msg).digest("hex");
    const out = runDuk([
      core,
      ES5_HEX_CODEC +
        `var m = fromHex("${msg.toString("hex")}"); var d = new Uint8Array(32); var bad = 0;\n` +
        "for (var cut = 0; cut <= m.length; cut += 7) { var h = new fwsealCore.Sha256(); h.init(); h.update(m, 0, cut); h.update(m, cut, m.length - cut); h.final(d, 0);\n" +
        `  if (toHex(d) !== "${want}") bad++; }\n` +
        "print('bad ' + bad);"
    ]);
    expect(out).toEqual(["bad 0"]);
  });

  it("Ed25519: RFC 8032 vectors verify, one-bit mutations do not", () => {
    const ed = readEd25519Vectors();
    expect(ed.length).toBe(5);
    const calls = ed.map((v) => `t(${JSON.stringify(v.publicKey)}, ${JSON.stringify(v.message)}, ${JSON.stringify(v.signature)});`).join("\n");
    const out = runDuk([
      core,
      ES5_HEX_CODEC +
        "var p = fwsealCore.createPurePrimitives();\n" +
        "function t(pk, msg, sig) { var k = fromHex(pk), m = fromHex(msg), s = fromHex(sig);\n" +
        "  var ok = fwsealCore.ed25519Verify(k, s, m, 0, m.length) && p.ed25519Verify(k, s, m, 0, m.length);\n" +
        "  s[0] ^= 1; var r1 = fwsealCore.ed25519Verify(k, s, m, 0, m.length); s[0] ^= 1;\n" +
        "  s[63] ^= 64; var r2 = fwsealCore.ed25519Verify(k, s, m, 0, m.length); s[63] ^= 64;\n" +
        "  var r3 = m.length > 0 ? (m[m.length - 1] ^= 1, fwsealCore.ed25519Verify(k, s, m, 0, m.length)) : false;\n" +
        "  print(ok + ' ' + r1 + ' ' + r2 + ' ' + r3); }\n" +
        calls
    ]);
    expect(out).toEqual(ed.map(() => "true false false false"));
  });

  describe("bundles (streaming verifier, resume, boot verifier)", () => {
    let good: BundleCase;
    let image: Buffer;
    beforeAll(async () => {
      const cases = await makeBundleCases();
      good = cases[0];
      expect(good.name).toBe("valid root-signed");
      image = Buffer.from(rampImage(CONFORMANCE_IMAGE_SIZE)); // the image of every conformance bundle
    });

    // Verifier set-up for the "valid root-signed" case (root slot 0, acme.example / sensor-v3).
    function setup(): string {
      const o = good.op as { root: string };
      return ES5_HEX_CODEC + `
var C = fwsealCore, EV = C.VerifyEvent;
var b = fromHex("${Buffer.from(good.bytes).toString("hex")}");
var cfg = { primitives: C.createPurePrimitives(), roots: fromHex("${o.root}"), rootCount: 1, rootRetired: 0,
  vendorId: fromHex("${vendorHex()}"), classId: fromHex("${classHex()}"), minSequence: 0, minEpoch: 0,
  threshold: 1, now: -1, maxChunkSize: 4096 };
`;
    }
    const vendorHex = () => Buffer.from(vendorUuidBytes()).toString("hex");
    const classHex = () => Buffer.from(classUuidBytes()).toString("hex");

    it("streams one byte at a time, releases exactly the image, and reports the manifest", () => {
      const out = runDuk([
        core,
        setup() + `
var v = C.createBundleVerifier(cfg);
var img = new Uint8Array(8192); var got = 0; var events = ""; var ev = 0;
for (var off = 0; off < b.length && ev !== EV.REJECT; ) {
  ev = v.push(b, off, 1); off += v.consumed;
  if (ev === EV.ENVELOPE) events += "E";
  if (ev === EV.CHUNK) { events += v.chunkIndex; img.set(v.chunkData.subarray(0, v.chunkLen), got); got += v.chunkLen; }
}
ev = v.end();
var d = new Uint8Array(32); C.sha256(img, 0, got, d);
print("events " + events + " end " + ev);
print("manifest " + v.sequence + " " + v.version + " " + v.imageSize + " " + v.chunkSize + " " + v.chunkCount + " " + v.envelopeLen);
print("image " + got + " " + toHex(d));`
      ]);
      expect(out[0]).toBe("events E01234 end " + 3);
      const envLen = good.bytes.length - image.length - 5 * 32;
      expect(out[1]).toBe(`manifest 5 1.2.3 5000 1024 5 ${envLen}`);
      expect(out[2]).toBe("image 5000 " + createHash("sha256").update(image).digest("hex"));
    });

    it("resumes an interrupted install at chunk 2 with the saved expected hash", () => {
      const out = runDuk([
        core,
        setup() + `
var v = C.createBundleVerifier(cfg);
var ev = 0, off = 0, saved = new Uint8Array(32), resumeAt = -1, envEnd = 0;
while (off < b.length) {
  ev = v.push(b, off, b.length - off); off += v.consumed;
  if (ev === EV.ENVELOPE) envEnd = off;
  if (ev === EV.CHUNK && v.chunkIndex === 1) { saved.set(v.expected.subarray(0, 32), 0); resumeAt = off; break; }
}
var w = C.createBundleVerifier(cfg);
var e1 = w.push(b, 0, envEnd);
var r = w.resume(2, saved);
var chunks = "";
off = resumeAt;
while (off < b.length) { ev = w.push(b, off, b.length - off); off += w.consumed; if (ev === EV.CHUNK) chunks += w.chunkIndex; if (ev === EV.REJECT) break; }
print(e1 + " " + r + " " + chunks + " " + w.end());
saved[0] ^= 1;
var x = C.createBundleVerifier(cfg); x.push(b, 0, envEnd); x.resume(2, saved);
off = resumeAt; ev = 0;
while (off < b.length && ev !== EV.REJECT) { ev = x.push(b, off, b.length - off); off += x.consumed; }
print(ev + " " + C.reasonName(x.reason) + " " + x.rejectChunk);`
      ]);
      expect(out).toEqual([`1 0 234 3`, `4 CHUNK_HASH_MISMATCH 2`]);
    });

    it("boot verifier: recomputes the chain from the stored image; a flipped byte fails", () => {
      const out = runDuk([
        core,
        setup() + `
var v = C.createBundleVerifier(cfg);
var ev = v.push(b, 0, b.length);
var env = new Uint8Array(v.envelopeLen); env.set(v.envelope.subarray(0, v.envelopeLen), 0);
var flash = fromHex("${image.toString("hex")}");
function readImage(o, dst, dstOff, len) { dst.set(flash.subarray(o, o + len), dstOff); }
var boot = C.createBootVerifier(cfg);
print("boot " + C.reasonName(boot.check(env, env.length, readImage)));
flash[4321] ^= 4;
print("boot " + C.reasonName(boot.check(env, env.length, readImage)));
flash[4321] ^= 4; env[env.length - 3] ^= 1;
print("boot " + C.reasonName(boot.check(env, env.length, readImage)));`
      ]);
      expect(out).toEqual(["boot OK", "boot CHUNK_HASH_MISMATCH", "boot BAD_SIGNATURE"]);
    });
  });
});
