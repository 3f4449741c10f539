// The device core's pure crypto (SHA-256, SHA-512, strict Ed25519 verify per SPEC §6.1),
// checked against the standards' vectors, node:crypto, @noble/hashes and @noble/ed25519, a
// BigInt reference of the SPEC §6.1 rules, and the offline generators of its constants.
import { describe, it, expect, beforeAll } from "vitest";
import { readFileSync } from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import fc from "fast-check";
import * as ed from "@noble/ed25519";
import { sha512 as nobleSha512 } from "@noble/hashes/sha2.js";
import { sha256, Sha256 } from "../../device-sim/core/crypto/sha256.js";
import { Sha512 } from "../../device-sim/core/crypto/sha512.js";
import { ed25519Verify, ed25519Internals as I, ed25519FieldOps, ed25519UseFieldOps } from "../../device-sim/core/crypto/ed25519.js";
import { ed25519VerifyHost, SMALL_ORDER_ENCODINGS } from "../../host/bundle/host-ed25519.js";
import { createPurePrimitives } from "../../device-sim/core/crypto/pure-primitives.js";
// @ts-expect-error plain .mjs script without type declarations
import { generateTablesCode, baseTableLimbs } from "../../scripts/gen-ed25519-tables.mjs";
// @ts-expect-error plain .mjs script without type declarations
import { generateFieldCode } from "../../scripts/gen-ed25519-field.mjs";
import { REPO } from "../helpers/repo.js";
import { readSha256Vectors, readEd25519Vectors } from "../helpers/standard-vectors.js";


ed.hashes.sha512 = nobleSha512;

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));

// ---- BigInt reference (tests only) ----
const P = (1n << 255n) - 19n;
const L = (1n << 252n) + 27742317777372353535851937790883648493n;
const mod = (a: bigint, m: bigint = P): bigint => ((a % m) + m) % m;
function leToBig(b: Uint8Array): bigint {
  let r = 0n;
  for (let i = b.length - 1; i >= 0; i--) r = (r << 8n) | BigInt(b[i]);
  return r;
}
function bigToLe(v: bigint, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) { out[i] = Number(v & 255n); v >>= 8n; }
  return out;
}
function powP(b: bigint, e: bigint): bigint {
  let r = 1n;
  b = mod(b);
  while (e > 0n) { if (e & 1n) r = (r * b) % P; b = (b * b) % P; e >>= 1n; }
  return r;
}
function limbsToBig(a: Float64Array): bigint {
  let r = 0n;
  for (let i = 14; i >= 0; i--) r = r * 131072n + BigInt(a[i]);
  return r;
}
function bigToLimbs(v: bigint): Float64Array {
  const a = new Float64Array(15);
  v = mod(v);
  for (let i = 0; i < 15; i++) { a[i] = Number(v & 0x1ffffn); v >>= 17n; }
  return a;
}

// SPEC §6.1 written directly with @noble/ed25519's point arithmetic.
function referenceVerify(pk: Uint8Array, sig: Uint8Array, msg: Uint8Array): boolean {
  const S = leToBig(sig.subarray(32, 64));
  if (S >= L) return false;
  let A: InstanceType<typeof ed.Point>;
  try {
    A = ed.Point.fromBytes(pk, false); // strict: y < p, x = 0 with sign bit rejected
  } catch {
    return false;
  }
  if (A.multiplyUnsafe(8n).is0()) return false;
  const k = mod(leToBig(new Uint8Array(crypto.createHash("sha512").update(sig.subarray(0, 32)).update(pk).update(msg).digest())), L);
  const R = ed.Point.BASE.multiplyUnsafe(S).subtract(A.multiplyUnsafe(k));
  return hex(R.toBytes()) === hex(sig.subarray(0, 32));
}


function nodeKeyPair(): { pk: Uint8Array; sign: (m: Uint8Array) => Uint8Array } {
  const { publicKey, privateKey } = crypto.generateKeyPairSync("ed25519");
  const pk = new Uint8Array(publicKey.export({ format: "der", type: "spki" }).subarray(12));
  return { pk, sign: (m) => new Uint8Array(crypto.sign(null, m, privateKey)) };
}

function nodeVerify(pk: Uint8Array, sig: Uint8Array, msg: Uint8Array): boolean {
  const key = crypto.createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), pk]), format: "der", type: "spki" });
  return crypto.verify(null, msg, key, sig);
}

// ---- SHA-256 ----

describe("SHA-256 (device-sim/core/crypto/sha256.ts)", () => {
  for (const file of ["SHA256ShortMsg.rsp", "SHA256LongMsg.rsp"]) {
    it(`matches every NIST CAVP vector in ${file}`, () => {
      const cases = readSha256Vectors(file).map((v) => ({ msg: unhex(v.msg), md: v.md }));
      expect(cases.length).toBe(file.includes("Short") ? 65 : 64);
      const out = new Uint8Array(32);
      const h = new Sha256();
      for (const c of cases) {
        sha256(c.msg, 0, c.msg.length, out);
        expect(hex(out)).toBe(c.md);
        // incremental, byte by byte split in three
        h.init();
        const a = c.msg.length / 3 | 0;
        h.update(c.msg, 0, a).update(c.msg, a, a).update(c.msg, 2 * a, c.msg.length - 2 * a);
        h.final(out, 0);
        expect(hex(out)).toBe(c.md);
      }
    });
  }

  it("matches node:crypto on random lengths, offsets and update splits", () => {
    const out = new Uint8Array(40);
    const h = new Sha256();
    for (let n = 0; n < 400; n++) {
      const len = n < 200 ? n : (Math.random() * 5000) | 0;
      const off = (Math.random() * 7) | 0;
      const buf = crypto.randomBytes(len + off + 3);
      const want = crypto.createHash("sha256").update(buf.subarray(off, off + len)).digest("hex");
      sha256(buf, off, len, out);
      expect(hex(out.subarray(0, 32))).toBe(want);
      h.init();
      let p = off;
      while (p < off + len) {
        const s = Math.min(off + len - p, (Math.random() * 150) | 0);
        h.update(buf, p, s);
        p += s;
      }
      h.final(out, 5);
      expect(hex(out.subarray(5, 37))).toBe(want);
    }
  });

  it("the pure primitives record exposes the same sha256", () => {
    const prims = createPurePrimitives();
    const out = new Uint8Array(32);
    prims.sha256(new TextEncoder().encode("abc"), 0, 3, out);
    expect(hex(out)).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

// ---- SHA-512 ----

describe("SHA-512 (device-sim/core/crypto/sha512.ts)", () => {
  it("matches node:crypto on random inputs with multi-update splits", () => {
    const h = new Sha512();
    const out = new Uint8Array(64);
    for (let n = 0; n < 500; n++) {
      const len = n < 300 ? n : (Math.random() * 3000) | 0;
      const buf = crypto.randomBytes(len);
      const want = crypto.createHash("sha512").update(buf).digest("hex");
      h.init();
      let p = 0;
      while (p < len) {
        const s = Math.min(len - p, (Math.random() * 300) | 0);
        h.update(buf, p, s);
        p += s;
      }
      h.final(out, 0);
      expect(hex(out)).toBe(want);
    }
  });

  it("hashes FIPS 180-2 'abc' and the 896-bit two-block message", () => {
    const h = new Sha512();
    const out = new Uint8Array(64);
    const abc = new TextEncoder().encode("abc");
    h.init().update(abc, 0, 3).final(out, 0);
    expect(hex(out)).toBe("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
    const m = new TextEncoder().encode("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu");
    h.init().update(m, 0, m.length).final(out, 0);
    expect(hex(out)).toBe("8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909");
  });
});

// ---- Ed25519 internals vs BigInt ----

describe("Ed25519 field and scalar arithmetic (vs BigInt)", () => {
  const rnd = (): bigint => leToBig(crypto.randomBytes(32)) % P;
  // Limbs of a with every limb pushed to the given magnitude bound (same value mod p is not
  // kept: we check the product of whatever the limbs encode).
  function extremeLimbs(bound: number, sign: number): Float64Array {
    const a = new Float64Array(15);
    for (let i = 0; i < 15; i++) a[i] = sign * (bound - ((Math.random() * 3) | 0));
    return a;
  }

  it("feMul / feSqN / feInvert / fePow22523 agree with BigInt, including worst-case limb bounds", () => {
    const o = new Float64Array(15);
    for (let n = 0; n < 300; n++) {
      const a = rnd(), b = rnd();
      I.feMul(o, bigToLimbs(a), bigToLimbs(b));
      expect(mod(limbsToBig(o))).toBe(mod(a * b));
      I.feSqN(o, bigToLimbs(a), 3);
      expect(mod(limbsToBig(o))).toBe(mod(a ** 8n));
    }
    // 12 U^2 is the largest input bound product used by the point formulas (U = 2^17.1);
    // the header comment allows up to 50 U^2: test 7U x 7U = 49 U^2 with all limbs equal.
    const U = Math.floor(Math.pow(2, 17.1));
    for (const [ba, bb] of [[3, 4], [7, 7], [1, 12], [2, 6]]) {
      for (const sa of [1, -1]) for (const sb of [1, -1]) {
        const x = extremeLimbs(ba * U, sa), y = extremeLimbs(bb * U, sb);
        I.feMul(o, x, y);
        expect(mod(limbsToBig(o))).toBe(mod(limbsToBig(x) * limbsToBig(y)));
        // Output limbs: below 2^17 + 2^12 < U for inputs within 12 U^2 (all the point formulas
        // use), below 2^17 + 2^14 for inputs up to 50 U^2 (the final carry into limb 1 grows).
        const lim = ba * bb <= 12 ? U : 131072 + 16384;
        for (let i = 0; i < 15; i++) expect(Math.abs(o[i])).toBeLessThan(lim);
      }
    }
    for (let n = 0; n < 20; n++) {
      const a = n === 0 ? 1n : n === 1 ? P - 1n : rnd();
      I.feInvert(o, bigToLimbs(a));
      expect(mod(limbsToBig(o) * a)).toBe(1n);
      I.fePow22523(o, bigToLimbs(a));
      expect(mod(limbsToBig(o))).toBe(powP(a, (P - 5n) / 8n));
    }
  });

  it("feToBytes is canonical for values near 0 and p, positive and negative limbs", () => {
    const out = new Uint8Array(32);
    const vals = [0n, 1n, 18n, 19n, P - 1n, P - 19n, P - 20n, (1n << 255n) - 1n - P, rnd(), rnd()];
    for (const v of vals) {
      // the same value with limbs shifted by multiples of p and by signed carries
      for (const delta of [0n, P, 2n * P]) {
        const limbs = new Float64Array(15);
        let w = v + delta;
        for (let i = 0; i < 15; i++) { limbs[i] = Number(w & 0x1ffffn); w >>= 17n; }
        limbs[14] += Number(w) * 131072; // keep the top
        I.feToBytes(out, limbs);
        expect(hex(out)).toBe(hex(bigToLe(mod(v), 32)));
      }
      const neg = bigToLimbs(v);
      for (let i = 0; i < 15; i++) neg[i] = -neg[i]; // -v with negative limbs
      I.feToBytes(out, neg);
      expect(hex(out)).toBe(hex(bigToLe(mod(-v), 32)));
    }
  });

  it("modL matches BigInt on random and extreme 64-byte inputs", () => {
    const r = new Uint8Array(32);
    const inputs = [new Uint8Array(64).fill(255), new Uint8Array(64), bigToLe(L, 64), bigToLe(L - 1n, 64), bigToLe(2n * L, 64)];
    for (let n = 0; n < 300; n++) inputs.push(new Uint8Array(crypto.randomBytes(64)));
    for (const h of inputs) {
      I.modL(r, h);
      expect(leToBig(r)).toBe(leToBig(h) % L);
    }
  });

  it("wnaf digits reconstruct the scalar and are odd and in range", () => {
    const naf = new Int8Array(257);
    for (const w of [5, I.W_B]) {
      for (let n = 0; n < 200; n++) {
        const s = n === 0 ? L - 1n : n === 1 ? 0n : leToBig(crypto.randomBytes(32)) % L;
        const sb = new Uint8Array(33);
        sb.set(bigToLe(s, 32), 0);
        const top = I.wnaf(naf, sb, w);
        let acc = 0n;
        for (let i = 256; i >= 0; i--) {
          acc = acc * 2n + BigInt(naf[i]);
          if (naf[i] !== 0) {
            expect(Math.abs(naf[i]) % 2).toBe(1);
            expect(Math.abs(naf[i])).toBeLessThan(1 << (w - 1));
          }
        }
        expect(acc).toBe(s);
        expect(top).toBe(s === 0n ? -1 : (() => { let t = -1; for (let i = 0; i < 257; i++) if (naf[i] !== 0) t = i; return t; })());
      }
    }
  });

  it("scalarIsCanonical accepts exactly S < L", () => {
    for (const v of [0n, 1n, L - 1n, L, L + 1n, (1n << 256n) - 1n, 1n << 253n]) {
      expect(I.scalarIsCanonical(bigToLe(v, 32), 0)).toBe(v < L ? 1 : 0);
    }
  });
});

// ---- generated constants ----

describe("Ed25519 generated constants", () => {
  const src = readFileSync(path.join(REPO, "device-sim/core/crypto/ed25519.ts"), "utf8");
  const block = (name: string): string => {
    const a = src.indexOf(`// BEGIN GENERATED ${name}\n`);
    const b = src.indexOf(`// END GENERATED ${name}`);
    return src.slice(a + `// BEGIN GENERATED ${name}\n`.length, b);
  };

  it("scripts/gen-ed25519-tables.mjs reproduces the committed table block", () => {
    expect(block("TABLES")).toBe(generateTablesCode() + "\n");
    expect(Array.from(I.BASE_TABLE)).toEqual(baseTableLimbs());
  });

  it("scripts/gen-ed25519-field.mjs reproduces the committed field code", () => {
    expect(block("FIELD")).toBe(generateFieldCode() + "\n");
  });

  it("the base table holds (y+x, y-x, 2dxy) of B, 3B, 5B, ... (checked with @noble/ed25519)", () => {
    const d = ed.Point.CURVE().d;
    const count = 1 << (I.W_B - 2);
    expect(I.BASE_TABLE.length).toBe(45 * count);
    for (let j = 0; j < count; j++) {
      const { x, y } = ed.Point.BASE.multiplyUnsafe(BigInt(2 * j + 1)).toAffine();
      const part = (k: number): bigint => limbsToBig(I.BASE_TABLE.subarray(45 * j + 15 * k, 45 * j + 15 * k + 15));
      expect(part(0)).toBe(mod(y + x));
      expect(part(1)).toBe(mod(y - x));
      expect(part(2)).toBe(mod(2n * d * x * y));
    }
    expect(limbsToBig(I.FE_D)).toBe(d);
    expect(limbsToBig(I.FE_D2)).toBe(mod(2n * d));
    expect(mod(limbsToBig(I.FE_SQRTM1) ** 2n)).toBe(P - 1n);
  });
});

// ---- Ed25519 verify ----

// The same cases for the device core and for host verification's Ed25519 (node:crypto
// behind the SPEC §6.1 encoding checks, host/bundle/host-ed25519.ts): identical verdicts.
const ED25519_ENGINES = [
  ["device-sim/core/crypto/ed25519.ts", ed25519Verify],
  ["host/bundle/host-ed25519.ts", ed25519VerifyHost],
] as const;

for (const [engine, ed25519VerifyOf] of ED25519_ENGINES) {
  describe(`Ed25519 verify (${engine}, SPEC §6.1)`, () => {
    const verify = (pk: Uint8Array, sig: Uint8Array, msg: Uint8Array): boolean => ed25519VerifyOf(pk, sig, msg, 0, msg.length);
    const rfc = readEd25519Vectors();

    it("accepts the RFC 8032 §7.1 vectors and rejects every single-bit flip of sig, msg and pk", () => {
      expect(rfc.length).toBe(5);
      let flips = 0;
      for (const v of rfc) {
        const pk = unhex(v.publicKey), sig = unhex(v.signature), msg = unhex(v.message);
        expect(verify(pk, sig, msg)).toBe(true);
        for (const buf of [sig, msg, pk]) {
          for (let bit = 0; bit < buf.length * 8; bit++) {
            buf[bit >> 3] ^= 1 << (bit & 7);
            const r = verify(pk, sig, msg);
            buf[bit >> 3] ^= 1 << (bit & 7);
            if (r) throw new Error(`${v.name}: bit flip ${bit} accepted`);
            flips++;
          }
        }
        expect(verify(pk, sig, msg)).toBe(true);
      }
      expect(flips).toBeGreaterThan(12000);
    });

    it("verifies a message at an offset inside a larger buffer, and rejects bad lengths", () => {
      const v = rfc[2];
      const pk = unhex(v.publicKey), sig = unhex(v.signature), msg = unhex(v.message);
      const big = new Uint8Array(msg.length + 10);
      big.set(msg, 7);
      expect(ed25519VerifyOf(pk, sig, big, 7, msg.length)).toBe(true);
      expect(ed25519VerifyOf(pk, sig, big, 6, msg.length)).toBe(false);
      expect(ed25519VerifyOf(pk, sig, big, 7, msg.length + 4)).toBe(false);
      expect(ed25519VerifyOf(pk.subarray(0, 31), sig, msg, 0, msg.length)).toBe(false);
      expect(ed25519VerifyOf(pk, sig.subarray(0, 63), msg, 0, msg.length)).toBe(false);
      expect(createPurePrimitives().ed25519Verify(pk, sig, msg, 0, msg.length)).toBe(true);
    });

    it("agrees with node:crypto, @noble/ed25519 and the reference on random keys and messages", () => {
      for (let n = 0; n < 120; n++) {
        const msg = new Uint8Array(crypto.randomBytes(n < 60 ? n : (Math.random() * 2000) | 0));
        let pk: Uint8Array, sig: Uint8Array;
        if (n % 2 === 0) {
          const kp = nodeKeyPair();
          pk = kp.pk; sig = kp.sign(msg);
        } else {
          const sk = ed.utils.randomSecretKey();
          pk = ed.getPublicKey(sk); sig = ed.sign(msg, sk);
        }
        expect(verify(pk, sig, msg)).toBe(true);
        expect(nodeVerify(pk, sig, msg)).toBe(true);
        expect(ed.verify(sig, msg, pk, { zip215: false })).toBe(true);
        expect(referenceVerify(pk, sig, msg)).toBe(true);
        // and a wrong message
        const other = new Uint8Array(msg.length + 1);
        other.set(msg, 0);
        expect(verify(pk, sig, other)).toBe(false);
        expect(nodeVerify(pk, sig, other)).toBe(false);
      }
    });

    it("rejects S >= L (S + L of a valid signature, which the cofactorless equation would accept)", () => {
      for (const v of rfc) {
        const pk = unhex(v.publicKey), sig = unhex(v.signature), msg = unhex(v.message);
        const S = leToBig(sig.subarray(32));
        if (S + L >= 1n << 256n) continue;
        const bad = new Uint8Array(sig);
        bad.set(bigToLe(S + L, 32), 32);
        expect(verify(pk, bad, msg)).toBe(false);
        expect(referenceVerify(pk, bad, msg)).toBe(false);
        // [L]B is the identity, so [S+L]B = [S]B: only the S < L rule rejects it
        expect(ed.Point.BASE.multiplyUnsafe(L - 1n).add(ed.Point.BASE).is0()).toBe(true);
      }
    });

    it("rejects every public key whose y is not canonical (y = p .. 2^255 - 1, both sign bits)", () => {
      const v = rfc[0];
      const sig = unhex(v.signature), msg = unhex(v.message);
      for (let i = 0n; i < 19n; i++) {
        for (const sign of [0, 0x80]) {
          const pk = bigToLe(P + i, 32);
          pk[31] |= sign;
          expect(verify(pk, sig, msg)).toBe(false);
        }
      }
    });

    // The 8 points of order dividing 8, canonical encodings. Source: libsodium's small-order
    // blocklist (src/libsodium/crypto_core/ed25519/ref10/ed25519_ref10.c,
    // ge25519_has_small_order), which lists the y values 0 (order 4), 1 (order 1), the two
    // order-8 y values 2707385501...402022 and 5518865911...417927, p - 1 (order 2) and the
    // non-canonical p, p + 1, and compares them with the sign bit cleared. The 8 canonical
    // encodings are those y < p with sign bit 0 and, where x != 0, also with sign bit 1.
    // Each entry is checked below with @noble/ed25519 ([8]P = identity, 8 distinct points).
    const SMALL_ORDER = [
      "0100000000000000000000000000000000000000000000000000000000000000", // identity (order 1)
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // (0, -1), order 2
      "0000000000000000000000000000000000000000000000000000000000000000", // y = 0, order 4
      "0000000000000000000000000000000000000000000000000000000000000080", // y = 0, order 4
      "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
      "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85", // order 8
      "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", // order 8
      "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa", // order 8
    ];

    it("rejects all 8 small-order public keys, even with signatures that satisfy the equation", () => {
      expect([...SMALL_ORDER_ENCODINGS].sort()).toEqual([...SMALL_ORDER].sort()); // the host's list is this one
      const seen = new Set<string>();
      for (const h of SMALL_ORDER) {
        const p = ed.Point.fromHex(h, false);
        expect(p.multiplyUnsafe(8n).is0()).toBe(true);
        seen.add(p.toHex());
      }
      expect(seen.size).toBe(8);
      // R = identity, S = 0: [0]B - [k]A = -[k]A, which is the identity whenever 8 | k
      // (and for A = identity always). Try many messages: none may verify.
      const R0 = SMALL_ORDER[0];
      for (const h of SMALL_ORDER) {
        const pk = unhex(h);
        for (let m = 0; m < 16; m++) {
          const msg = new Uint8Array([m]);
          const sig = unhex(R0 + "00".repeat(32));
          expect(verify(pk, sig, msg)).toBe(false);
          // and with R = -[k]A itself
          const k = mod(leToBig(new Uint8Array(crypto.createHash("sha512").update(sig.subarray(0, 32)).update(pk).update(msg).digest())), L);
          const Rb = ed.Point.fromHex(h, false).multiplyUnsafe(k).negate().toBytes();
          sig.set(Rb, 0);
          expect(verify(pk, sig, msg)).toBe(false);
        }
      }
    });

    it("rejects x = 0 with the sign bit set (y = 1 and y = -1)", () => {
      const v = rfc[1];
      const sig = unhex(v.signature), msg = unhex(v.message);
      for (const h of [
        "0100000000000000000000000000000000000000000000000000000000000080",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
      ]) {
        expect(verify(unhex(h), sig, msg)).toBe(false);
        expect(() => ed.Point.fromHex(h, false)).toThrow();
      }
    });

    it("rejects a public key with no square root (not on the curve)", () => {
      let found = 0;
      for (let y = 2n; found < 5; y++) {
        const pk = bigToLe(y, 32);
        let onCurve = true;
        try { ed.Point.fromBytes(pk, false); } catch { onCurve = false; }
        if (!onCurve) {
          expect(verify(pk, unhex(rfc[0].signature), new Uint8Array(0))).toBe(false);
          found++;
        }
      }
      expect(found).toBe(5);
    });

    it("accepts a canonical R and rejects the same R encoded non-canonically (y + p)", () => {
      // A = [a]B, R = identity, S = k*a mod L: then [S]B - [k]A = identity, whose canonical
      // encoding is 01 00..00. Writing y = 1 as 1 + p (ee ff .. 7f) must be rejected.
      const a = 123456789123456789n;
      const pk = ed.Point.BASE.multiplyUnsafe(a).toBytes();
      const msg = new TextEncoder().encode("non-canonical R");
      for (const [Rhex, want] of [
        ["0100000000000000000000000000000000000000000000000000000000000000", true],
        ["eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", false],
      ] as [string, boolean][]) {
        const sig = new Uint8Array(64);
        sig.set(unhex(Rhex), 0);
        const k = mod(leToBig(new Uint8Array(crypto.createHash("sha512").update(sig.subarray(0, 32)).update(pk).update(msg).digest())), L);
        sig.set(bigToLe(mod(k * a, L), 32), 32);
        expect(verify(pk, sig, msg)).toBe(want);
        expect(referenceVerify(pk, sig, msg)).toBe(want);
      }
    });

    it("uses the cofactorless equation for mixed-order keys (same verdicts as the reference)", () => {
      // A = [a]B + T8 (T8 of order 8): not screened by rule 3. R = [r]B, S = r + k a mod L:
      // [S]B - [k]A = R - [k]T8, which equals R iff 8 | k.
      const T8 = ed.Point.fromHex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", false);
      let accepted = 0, rejected = 0;
      for (let n = 0; n < 40; n++) {
        const a = leToBig(crypto.randomBytes(32)) % L, r = leToBig(crypto.randomBytes(32)) % L;
        const pk = ed.Point.BASE.multiplyUnsafe(a).add(T8).toBytes();
        const msg = new Uint8Array([n, 1, 2]);
        const sig = new Uint8Array(64);
        sig.set(ed.Point.BASE.multiplyUnsafe(r).toBytes(), 0);
        const k = mod(leToBig(new Uint8Array(crypto.createHash("sha512").update(sig.subarray(0, 32)).update(pk).update(msg).digest())), L);
        sig.set(bigToLe(mod(r + k * a, L), 32), 32);
        const want = k % 8n === 0n;
        expect(referenceVerify(pk, sig, msg)).toBe(want);
        expect(verify(pk, sig, msg)).toBe(want);
        if (want) accepted++; else rejected++;
      }
      expect(rejected).toBeGreaterThan(0);
      expect(accepted + rejected).toBe(40);
    });

    describe("property: random mutations", () => {
      const keys: { pk: Uint8Array; sig: Uint8Array; msg: Uint8Array }[] = [];
      beforeAll(() => {
        for (let i = 0; i < 8; i++) {
          const kp = nodeKeyPair();
          const msg = new Uint8Array(crypto.randomBytes(i * 37));
          keys.push({ pk: kp.pk, sig: kp.sign(msg), msg });
        }
      });

      it("a mutated pk, signature or message never verifies, and matches the reference", () => {
        fc.assert(
          fc.property(
            fc.integer({ min: 0, max: 7 }),
            fc.constantFrom(0, 1, 2),
            fc.nat(),
            fc.integer({ min: 1, max: 255 }),
            fc.boolean(),
            (ki, target, pos, xor, twice) => {
              const k = keys[ki];
              const pk = new Uint8Array(k.pk), sig = new Uint8Array(k.sig), msg = new Uint8Array(k.msg);
              const buf = target === 0 ? pk : target === 1 ? sig : msg;
              if (buf.length === 0) return true;
              buf[pos % buf.length] ^= xor;
              if (twice) buf[(pos * 7 + 3) % buf.length] ^= 0x80;
              if (hex(buf) === hex(target === 0 ? k.pk : target === 1 ? k.sig : k.msg)) return true;
              const got = verify(pk, sig, msg);
              return got === false && referenceVerify(pk, sig, msg) === false;
            },
          ),
          { numRuns: 300 },
        );
      });
    });
  });
}

// ---- Ed25519 field arithmetic from copies (what an Espruino board does to run it from RAM) ----

describe("Ed25519 with the field operations swapped (ed25519UseFieldOps)", () => {
  // A board makes the copies by evaluating the functions' own source (device-sim/espruino/board.js).
  const fromSource = <T>(source: string): T => new Function(`return (${source});`)() as T;
  const copyOf = <T>(f: T): T => fromSource<T>(String(f));
  const rfc = readEd25519Vectors();
  const allRfcVerdicts = (): boolean[] =>
    rfc.flatMap((v) => {
      const pk = unhex(v.publicKey), sig = unhex(v.signature), msg = unhex(v.message);
      const bad = new Uint8Array(sig);
      bad[40] ^= 4;
      return [ed25519Verify(pk, sig, msg, 0, msg.length), ed25519Verify(pk, bad, msg, 0, msg.length)];
    });
  const expected = rfc.flatMap(() => [true, false]);

  it("takes copies made from the core's own source and verifies the RFC 8032 vectors with them", () => {
    const mul = copyOf(ed25519FieldOps.mul), sqN = copyOf(ed25519FieldOps.sqN);
    expect(mul).not.toBe(ed25519FieldOps.mul);
    try {
      expect(ed25519UseFieldOps(mul, sqN)).toBe(true);
      expect(allRfcVerdicts()).toEqual(expected);
    } finally {
      expect(ed25519UseFieldOps(ed25519FieldOps.mul, ed25519FieldOps.sqN)).toBe(true);
    }
  });

  it("refuses a multiply or squaring that differs from its own, and keeps verifying with its own", () => {
    const wrongMul = String(ed25519FieldOps.mul).replace("19 * b1", "18 * b1");
    expect(wrongMul).not.toBe(String(ed25519FieldOps.mul));
    expect(ed25519UseFieldOps(fromSource<typeof ed25519FieldOps.mul>(wrongMul), ed25519FieldOps.sqN)).toBe(false);
    const wrongSq: typeof ed25519FieldOps.sqN = (o, a, n) => ed25519FieldOps.sqN(o, a, n + 1);
    expect(ed25519UseFieldOps(ed25519FieldOps.mul, wrongSq)).toBe(false);
    expect(allRfcVerdicts()).toEqual(expected);
  });
});
