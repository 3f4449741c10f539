// Differential test: the core's SHA-256, and Ed25519 verdicts of the ES5 build of the device
// core running in Duktape (`duk`), equal the verdicts of the same TypeScript code on Node
// for valid signatures, mutations and the SPEC §6.1 edge cases (SPEC: every engine gives the
// same verdict for every input).
import { describe, it, expect, beforeAll } from "vitest";
import crypto from "node:crypto";
import { ed25519Verify } from "../../device-sim/core/crypto/ed25519.js";
import { sha256 } from "../../device-sim/core/crypto/sha256.js";
import { ES5_HEX_CODEC, emitCore, hex, runDuk } from "../helpers/engines.js";

const P = (1n << 255n) - 19n;
const L = (1n << 252n) + 27742317777372353535851937790883648493n;
function le(v: bigint, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) { out[i] = Number(v & 255n); v >>= 8n; }
  return out;
}

interface Case { pk: Uint8Array; sig: Uint8Array; msg: Uint8Array }

function buildCases(): Case[] {
  const cases: Case[] = [];
  for (let i = 0; i < 24; i++) {
    const { publicKey, privateKey } = crypto.generateKeyPairSync("ed25519");
    const pk = new Uint8Array(publicKey.export({ format: "der", type: "spki" }).subarray(12));
    const msg = new Uint8Array(crypto.randomBytes(i * 23));
    const sig = new Uint8Array(crypto.sign(null, msg, privateKey));
    cases.push({ pk, sig, msg });
    // one mutation each of pk, R, S, msg
    const m1 = new Uint8Array(pk); m1[i % 32] ^= 1 << (i % 8);
    cases.push({ pk: m1, sig, msg });
    const m2 = new Uint8Array(sig); m2[i % 32] ^= 0x40;
    cases.push({ pk, sig: m2, msg });
    const m3 = new Uint8Array(sig); m3[32 + (i % 31)] ^= 0x02;
    cases.push({ pk, sig: m3, msg });
    if (msg.length > 0) {
      const m4 = new Uint8Array(msg); m4[0] ^= 0x80;
      cases.push({ pk, sig, msg: m4 });
    }
    if (i < 4) {
      // S + L
      let S = 0n;
      for (let j = 63; j >= 32; j--) S = (S << 8n) | BigInt(sig[j]);
      if (S + L < 1n << 256n) {
        const m5 = new Uint8Array(sig);
        m5.set(le(S + L, 32), 32);
        cases.push({ pk, sig: m5, msg });
      }
    }
  }
  const sig0 = cases[0].sig, msg0 = cases[0].msg;
  for (const h of [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "0100000000000000000000000000000000000000000000000000000000000080",
  ]) cases.push({ pk: new Uint8Array(Buffer.from(h, "hex")), sig: sig0, msg: msg0 });
  for (let i = 0n; i < 19n; i += 6n) cases.push({ pk: le(P + i, 32), sig: sig0, msg: msg0 });
  return cases;
}

describe("device core crypto on duk (ES5 build) agrees with Node", () => {
  let core = "";
  beforeAll(async () => {
    core = await emitCore();
  });

  it("same Ed25519 verdicts and SHA-256 digests", () => {
    const cases = buildCases();
    const want = cases.map((c) => (ed25519Verify(c.pk, c.sig, c.msg, 0, c.msg.length) ? "1" : "0")).join("");
    expect(want).toContain("1");
    expect(want).toContain("0");
    const shaInputs = [0, 1, 55, 56, 63, 64, 65, 127, 128, 1000, 4096].map((n) => new Uint8Array(crypto.randomBytes(n)));
    const shaWant = shaInputs.map((b) => { const o = new Uint8Array(32); sha256(b, 0, b.length, o); return hex(o); }).join(",");
    expect(shaWant.split(",")[0]).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const script = [
      ES5_HEX_CODEC,
      "var C = fwsealCore;",
      "var verify = C.ed25519Verify || C.createPurePrimitives().ed25519Verify;",
      "var sha = C.sha256 || C.createPurePrimitives().sha256;",
      "var cases = " + JSON.stringify(cases.map((c) => [hex(c.pk), hex(c.sig), hex(c.msg)])) + ";",
      "var r = '';",
      "for (var i = 0; i < cases.length; i++) { var m = fromHex(cases[i][2]); r += verify(fromHex(cases[i][0]), fromHex(cases[i][1]), m, 0, m.length) ? '1' : '0'; }",
      "print(r);",
      "var ins = " + JSON.stringify(shaInputs.map(hex)) + ";",
      "var outs = []; var o = new Uint8Array(32);",
      "for (var j = 0; j < ins.length; j++) { var b = fromHex(ins[j]); sha(b, 0, b.length, o); outs.push(toHex(o)); }",
      "print(outs.join(','));",
    ].join("\n");
    const lines = runDuk([core, script]);
    expect(lines[0]).toBe(want);
    expect(lines[1]).toBe(shaWant);
  });
});
