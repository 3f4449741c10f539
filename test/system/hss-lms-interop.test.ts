// fwseal's HSS/LMS against an independent implementation, the Python package hsslms
// (installed by scripts/setup.sh): signatures fwseal makes verify under hsslms, signatures
// hsslms makes verify under fwseal's host verifier, and both accept RFC 8554's Appendix F
// test cases. Altered signatures are rejected on both sides, so a verifier that accepts
// everything cannot pass.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { tempDir } from "../helpers/cli.js";
import { findHsslmsPython, hsslms } from "../helpers/hsslms.js";
import { readHssLmsVectorBytes as readHssLmsVectors } from "../helpers/hss-lms-vectors.js";
import { HssLmsFileSigner, keygenHssLms, verifyHss } from "../../host/keys/hss-lms.js";

const found = findHsslmsPython();
const python = "python" in found ? found.python : "";
const SKIP = "missing" in found ? found.missing : "";
if (SKIP) console.warn(`hss-lms-interop: SKIPPED: ${SKIP}`);

interface Case {
  pub: string;
  msg: string;
  sig: string;
}
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** A copy of a hex signature with one bit flipped at byte `at`. */
function flip(sigHex: string, at: number): string {
  const b = Buffer.from(sigHex, "hex");
  b[at] ^= 0x10;
  return b.toString("hex");
}

let dir: string;
beforeAll(() => {
  dir = tempDir("hss-interop");
});
afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(SKIP !== "")(`HSS/LMS interop with hsslms${SKIP ? ` (skipped: ${SKIP})` : ""}`, () => {
  it("signatures made by fwseal verify under hsslms (every W, one and two levels, H5 to H10)", async () => {
    const sets: [number[], number][] = [[[5], 1], [[5], 2], [[5], 4], [[5], 8], [[10], 4], [[5, 5], 8], [[10, 5], 4]];
    const cases: Case[] = [];
    for (const [heights, w] of sets) {
      const r = await keygenHssLms({ out: path.join(dir, `fw-${heights.join("-")}-w${w}`), heights, w });
      const signer = await HssLmsFileSigner.open(r.keyPath);
      // Two-level H5/H5: 33 signatures cross into a second bottom tree.
      const count = heights.length === 2 && heights[1] === 5 ? 33 : 2;
      for (let i = 0; i < count; i++) {
        const msg = Buffer.from(`fwseal message ${i} for ${heights.join("/")} w${w}`);
        const sig = await signer.sign(msg);
        if (i === 0 || i === count - 1) cases.push({ pub: hex(r.publicKey), msg: hex(msg), sig: hex(sig) });
      }
    }
    const tampered = cases.map((c) => ({ ...c, sig: flip(c.sig, c.sig.length / 2 - 1) }));
    const { results } = hsslms<{ results: boolean[] }>(python, { op: "verify", cases: [...cases, ...tampered] });
    expect(results.slice(0, cases.length)).toEqual(cases.map(() => true));
    expect(results.slice(cases.length)).toEqual(cases.map(() => false));
  });

  it("signatures made by hsslms verify under fwseal's host verifier", () => {
    const msgs = ["", "00", Buffer.from("firmware 1.2.3").toString("hex")];
    const specs = [
      { lms: [5], w: 1, msgs },
      { lms: [5], w: 2, msgs },
      { lms: [5], w: 4, msgs },
      { lms: [5], w: 8, msgs },
      { lms: [5, 5], w: 4, msgs },
      { lms: [10], w: 8, msgs: msgs.slice(0, 1) }
    ];
    const { keys } = hsslms<{ keys: { pub: string; sigs: string[] }[] }>(python, { op: "sign", keys: specs }, 600_000);
    expect(keys.length).toBe(specs.length);
    keys.forEach((k, i) => {
      const pub = Buffer.from(k.pub, "hex");
      k.sigs.forEach((s, j) => {
        const msg = Buffer.from(specs[i].msgs[j], "hex");
        expect(verifyHss(pub, msg, Buffer.from(s, "hex")), `${JSON.stringify(specs[i].lms)} w${specs[i].w} #${j}`).toBe(true);
        expect(verifyHss(pub, msg, Buffer.from(flip(s, 40), "hex"))).toBe(false);
        expect(verifyHss(pub, Buffer.concat([msg, Buffer.from([0])]), Buffer.from(s, "hex"))).toBe(false);
      });
    });
  });

  it("both accept RFC 8554 Appendix F test cases 1 and 2 and reject the invalid cases", () => {
    const valid = readHssLmsVectors("hss_lms_verify.vec")
      .filter((v) => v.name.startsWith("RFC 8554"))
      .map(({ fields: v }) => ({ pub: hex(v.PublicKey), msg: hex(v.Msg), sig: hex(v.Signature) }));
    const invalid = readHssLmsVectors("hss_lms_invalid.vec").map(({ fields: v }) => ({ pub: hex(v.PublicKey), msg: hex(v.Msg), sig: hex(v.InvalidSignature) }));
    expect(valid.length).toBe(2);
    const { results } = hsslms<{ results: boolean[] }>(python, { op: "verify", cases: [...valid, ...invalid] });
    expect(results).toEqual([true, true, ...invalid.map(() => false)]);
    for (const c of valid) expect(verifyHss(Buffer.from(c.pub, "hex"), Buffer.from(c.msg, "hex"), Buffer.from(c.sig, "hex"))).toBe(true);
    for (const c of invalid) expect(verifyHss(Buffer.from(c.pub, "hex"), Buffer.from(c.msg, "hex"), Buffer.from(c.sig, "hex"))).toBe(false);
  });
});
