// The device core's HSS/LMS verifier (RFC 8554) against the published vectors, on the pure
// constrained-TS SHA-256 and on node:crypto's, plus length, type and mutation checks.
import { describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import {
  createHssVerifier, createPurePrimitives, lmsSignatureLength, Reason, reasonName,
  HSS_MAX_CHAIN_STEPS, HSS_PUBKEY_LEN, type Primitives,
} from "../../device-sim/core/index.js";
import { fromHex, hssVerifyCases, keygenVectors, readHssLmsVectors, singleLevelCases } from "../helpers/hss-lms-vectors.js";
import { derivedCases } from "../helpers/lms-reference.js";
import { hssMaxHashCalls, lmsMaxHashCalls, mutationPositions, nodeSha256Primitives } from "../helpers/hss-lms-cases.js";

const MAX_MSG = 1024;
const { supported, unsupported } = hssVerifyCases();
const invalid = readHssLmsVectors("hss_lms_invalid.vec");
const derived = derivedCases(keygenVectors());

const engines: [string, Primitives][] = [
  ["pure TS sha256", createPurePrimitives()],
  ["node:crypto sha256", nodeSha256Primitives()],
];

describe.each(engines)("HSS/LMS verify on %s", (_name, prims) => {
  const v = createHssVerifier(prims, MAX_MSG);
  const run = (pk: Uint8Array, sig: Uint8Array, msg: Uint8Array): number =>
    v.verify(pk, 0, pk.length, sig, 0, sig.length, msg, 0, msg.length);

  it("accepts RFC 8554 Appendix F test cases 1 and 2 within the stated sha256 bound", () => {
    expect(supported.map((c) => c.name)).toEqual(["RFC 8554 - Test Case 1", "RFC 8554 - Test Case 2"]);
    for (const c of supported) {
      const pk = fromHex(c.fields.PublicKey), sig = fromHex(c.fields.Signature), msg = fromHex(c.fields.Msg);
      expect(reasonName(run(pk, sig, msg)), c.name).toBe("OK");
      expect(v.hashCalls).toBeGreaterThan(0);
      expect(v.hashCalls).toBeLessThanOrEqual(hssMaxHashCalls(pk, sig));
    }
  });

  it("accepts single-level (L = 1) signatures cut out of the RFC test cases, and rejects them under L = 2", () => {
    const single = singleLevelCases();
    expect(single.map((c) => c.name.replace(/^.*\(/, "("))).toEqual([
      "(LMS type 5, LM-OTS type 4)", "(LMS type 5, LM-OTS type 4)", "(LMS type 6, LM-OTS type 3)", "(LMS type 5, LM-OTS type 4)",
    ]);
    for (const c of single) {
      expect(reasonName(run(c.pk, c.sig, c.msg)), c.name).toBe("OK");
      expect(v.hashCalls).toBeLessThanOrEqual(hssMaxHashCalls(c.pk, c.sig));
      const two = c.pk.slice();
      two[3] = 2;
      expect(reasonName(run(two, c.sig, c.msg)), c.name).toBe("BAD_SIGNATURE");
      const m = c.msg.slice();
      m[m.length - 1] ^= 1;
      expect(reasonName(run(c.pk, c.sig, m)), c.name).toBe("BAD_SIGNATURE");
    }
  });

  it("accepts the lms.vec and lmots.vec signatures (W1, W2, W4, W8; H5, H10), rebuilt from their seeds", () => {
    expect(derived.length).toBe(7);
    for (const c of derived) {
      // The reference signer reproduces the vector: same public key, same signature hash.
      expect(c.madeKey, c.name).toBe(c.wantKey);
      expect(c.sigHash, c.name).toBe(c.wantSigHash);
      expect(reasonName(run(c.pk, c.sig, c.msg)), c.name).toBe("OK");
      expect(v.hashCalls).toBeLessThanOrEqual(hssMaxHashCalls(c.pk, c.sig));
      const m = c.sig.slice();
      m[m.length - 40] ^= 4;
      expect(reasonName(run(c.pk, m, c.msg)), c.name).toBe("BAD_SIGNATURE");
    }
  });

  it("refuses the SHA-256/192 and SHAKE parameter sets as unsupported, before hashing", () => {
    expect(unsupported.length).toBe(3);
    for (const c of unsupported) {
      const r = run(fromHex(c.fields.PublicKey), fromHex(c.fields.Signature), fromHex(c.fields.Msg));
      expect(reasonName(r), c.name).toBe("UNSUPPORTED_ALGORITHM");
      expect(v.hashCalls).toBe(0);
    }
  });

  it("rejects every invalid vector with its reason", () => {
    const got = invalid.map((c) => reasonName(run(fromHex(c.fields.PublicKey), fromHex(c.fields.InvalidSignature), fromHex(c.fields.Msg))));
    // Nspk 0 for a 2-level key; an OTS type differing from the key's; empty; one byte too many.
    expect(got).toEqual(["BAD_SIGNATURE", "BAD_SIGNATURE", "MALFORMED", "MALFORMED"]);
  });

  it("rejects every sampled one-bit flip of a valid signature, public key or message", () => {
    for (const c of supported) {
      const pk = fromHex(c.fields.PublicKey), sig = fromHex(c.fields.Signature), msg = fromHex(c.fields.Msg);
      for (const pos of mutationPositions(sig.length, 97)) {
        for (const bit of [0x01, 0x80]) {
          sig[pos] ^= bit;
          expect(run(pk, sig, msg), `${c.name}: sig byte ${pos} ^ ${bit}`).not.toBe(Reason.OK);
          sig[pos] ^= bit;
        }
      }
      for (let pos = 0; pos < pk.length; pos++) {
        pk[pos] ^= 1;
        expect(run(pk, sig, msg), `${c.name}: pk byte ${pos}`).not.toBe(Reason.OK);
        pk[pos] ^= 1;
      }
      for (const pos of mutationPositions(msg.length, 11)) {
        msg[pos] ^= 0x20;
        expect(run(pk, sig, msg), `${c.name}: msg byte ${pos}`).toBe(Reason.BAD_SIGNATURE);
        msg[pos] ^= 0x20;
      }
      expect(run(pk, sig, msg)).toBe(Reason.OK);
    }
  });

  it("checks lengths before hashing: truncated, extended, short key, message over the bound", () => {
    const c = supported[1];
    const pk = fromHex(c.fields.PublicKey), sig = fromHex(c.fields.Signature), msg = fromHex(c.fields.Msg);
    for (const cut of [0, 3, 4, 11, 100, sig.length - 32, sig.length - 1]) {
      expect(v.verify(pk, 0, pk.length, sig, 0, cut, msg, 0, msg.length), `cut ${cut}`).toBe(Reason.MALFORMED);
      expect(v.hashCalls).toBe(0);
    }
    const longer = new Uint8Array(sig.length + 1);
    longer.set(sig, 0);
    expect(run(pk, longer, msg)).toBe(Reason.MALFORMED);
    expect(v.verify(pk, 0, HSS_PUBKEY_LEN - 1, sig, 0, sig.length, msg, 0, msg.length)).toBe(Reason.MALFORMED);
    expect(v.verify(pk, 0, pk.length, sig, 0, sig.length + 1, msg, 0, msg.length)).toBe(Reason.MALFORMED);
    const big = new Uint8Array(MAX_MSG + 1);
    expect(run(pk, sig, big)).toBe(Reason.TOO_LARGE);
    expect(v.hashCalls).toBe(0);
  });

  it("reads key, signature and message at offsets inside larger buffers", () => {
    const c = supported[0];
    const place = (b: Uint8Array, at: number): Uint8Array => { const o = new Uint8Array(b.length + at + 5).fill(0xa5); o.set(b, at); return o; };
    const pk = fromHex(c.fields.PublicKey), sig = fromHex(c.fields.Signature), msg = fromHex(c.fields.Msg);
    expect(v.verify(place(pk, 7), 7, pk.length, place(sig, 13), 13, sig.length, place(msg, 3), 3, msg.length)).toBe(Reason.OK);
  });

  it("refuses keys with more levels than supported, and unknown top-level types", () => {
    const c = supported[0];
    const pk = fromHex(c.fields.PublicKey), sig = fromHex(c.fields.Signature), msg = fromHex(c.fields.Msg);
    for (const [at, value] of [[3, 3], [3, 0], [7, 10], [7, 4], [11, 5], [11, 0]] as const) {
      const bad = pk.slice();
      bad[at] = value;
      expect(reasonName(run(bad, sig, msg)), `pk byte ${at} = ${value}`).toBe("UNSUPPORTED_ALGORITHM");
    }
    // A signature whose LMS type or q differs from what the key allows: rejected before hashing.
    const lmsTypeAt = 4 + 4 + 4 + 32 + 32 * 34 + 3;
    const badType = sig.slice();
    badType[lmsTypeAt] = 6;
    expect(run(pk, badType, msg)).toBe(Reason.BAD_SIGNATURE);
    expect(v.hashCalls).toBe(0);
    const badQ = sig.slice();
    badQ[4 + 3] = 32; // q = 32 >= 2^5
    expect(run(pk, badQ, msg)).toBe(Reason.BAD_SIGNATURE);
    expect(v.hashCalls).toBe(0);
  });
});

describe("HSS/LMS parameter tables", () => {
  it("signature lengths follow RFC 8554 (RFC test case 1 level: H5/W8 = 1292 bytes)", () => {
    expect(lmsSignatureLength(4, 5)).toBe(1292);
    expect(lmsSignatureLength(1, 5)).toBe(4 + 4 + 32 + 32 * 265 + 4 + 32 * 5);
    expect(lmsSignatureLength(3, 9)).toBe(4 + 4 + 32 + 32 * 67 + 4 + 32 * 25);
    expect(lmsSignatureLength(5, 5)).toBe(0);
    expect(lmsSignatureLength(4, 10)).toBe(0);
  });

  it("HSS_MAX_CHAIN_STEPS is the exact worst case over every message-digest checksum", () => {
    const sets = [[1, 265, 7], [2, 133, 6], [4, 67, 4], [8, 34, 0]];
    const worst = sets.map(([w, p, ls]) => {
      const u = 256 / w, top = (1 << w) - 1;
      let best = 0;
      // The digest digits' steps sum to S (any value 0..u*top); the checksum digits add theirs.
      for (let s = 0; s <= u * top; s++) {
        const ck = (s << ls) & 0xffff;
        let t = s;
        for (let i = 0; i < p - u; i++) t += top - ((ck >> (16 - w * (i + 1))) & top);
        best = Math.max(best, t);
      }
      return best;
    });
    expect(Array.from(HSS_MAX_CHAIN_STEPS)).toEqual(worst);
  });

  it("the stated most sha256 calls per LMS level, for every supported parameter set", () => {
    const table: Record<number, number[]> = {};
    for (const ots of [1, 2, 3, 4]) table[ots] = [5, 6, 7, 8, 9].map((lms) => lmsMaxHashCalls(lms, ots));
    expect(table).toEqual({
      1: [272, 277, 282, 287, 292],
      2: [404, 409, 414, 419, 424],
      3: [998, 1003, 1008, 1013, 1018],
      4: [8423, 8428, 8433, 8438, 8443],
    });
  });

  it("node:crypto primitives hash like the pure ones", () => {
    const out = new Uint8Array(32);
    nodeSha256Primitives().sha256(new Uint8Array([1, 2, 3, 4]), 1, 2, out);
    expect(Buffer.from(out).toString("hex")).toBe(createHash("sha256").update(Buffer.from([2, 3])).digest("hex"));
  });
});
