// Root-retirement statements (SPEC §11) checked by the ES5 device core under Duktape give
// the same verdicts as the TypeScript check on Node: good, replayed, tampered, foreign
// vendor, issued by a root that is itself retired; and on a three-slot device, one root
// alone (THRESHOLD_NOT_MET), two roots, a counter jump past the bound, a retired slot again
// and a provisioned threshold.
import { describe, it, expect, beforeAll } from "vitest";
import { checkRootStatement, createRootRetirement } from "../../host/keys/root-retirement.js";
import { reasonName } from "../../formats/device-safe/reasons.js";
import { vendorUuid, classUuid } from "../../formats/host-only/uuid.js";
import { randomSigner } from "../helpers/keys.js";
import { ES5_HEX_CODEC, buildCoreFiles, hex, readCoreFile, runDuk } from "../helpers/engines.js";
import { statementVectorState } from "../helpers/statement-vectors.js";
import type { StatementVectorEntry } from "../../dev/root-statement-vectors.js";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const VECTORS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../formats/vectors");

const VID = vendorUuid("acme.example");
const CID = classUuid(VID, "sensor-v3");

describe("root statements under Duktape (the ES5 device core)", () => {
  beforeAll(() => buildCoreFiles());

  it("gives the same verdicts as Node for good, replayed, tampered and foreign statements", async () => {
    const root0 = randomSigner().signer;
    const r1 = randomSigner().signer;
    const roots = [root0.publicKey, r1.publicKey];
    const good = await createRootRetirement(r1, { slot: 0, counter: 77, vendorId: VID, classId: CID, retiredKey: roots[0] });
    const tampered = good.slice();
    tampered[tampered.length - 3] ^= 0x40;
    const foreign = await createRootRetirement(r1, { slot: 0, counter: 77, vendorId: vendorUuid("other.example"), retiredKey: roots[0] });
    const cases: [Uint8Array, number, number][] = [[good, 0, 0], [good, 0, 77], [tampered, 0, 0], [foreign, 0, 0], [good, 2, 0]];
    const rootBuf = new Uint8Array(64);
    rootBuf.set(roots[0], 0);
    rootBuf.set(roots[1], 32);
    const expected = cases.map(([s, retired, counter]) =>
      checkRootStatement(s, { roots: rootBuf, rootCount: 2, rootRetired: retired, vendorId: VID, classId: CID }, counter).reason
    );
    expect(expected.map(reasonName)).toEqual(["OK", "STALE_STATEMENT", "BAD_SIGNATURE", "WRONG_VENDOR", "REVOKED_ROOT"]);
    const runner = ES5_HEX_CODEC + `
var v = fwsealCore.createRootStatementVerifier(fwsealCore.createPurePrimitives());
var cases = ${JSON.stringify(cases.map(([s, retired, counter]) => [hex(s), retired, counter]))};
for (var i = 0; i < cases.length; i++) {
  var s = fromHex(cases[i][0]);
  var cfg = { roots: fromHex("${hex(rootBuf)}"), rootCount: 2, rootRetired: cases[i][1], vendorId: fromHex("${hex(VID)}"), classId: fromHex("${hex(CID)}") };
  var r = v.check(s, s.length, cfg, cases[i][2], 0);
  print(r + " " + v.retiredMask + " " + v.counter);
}
`;
    const outLines = runDuk([readCoreFile(), runner]);
    expect(outLines.map((l) => Number(l.split(" ")[0]))).toEqual(expected);
    expect(outLines[0]).toBe("0 1 77");
  });

  it("three root slots: one root alone cannot retire another, two can; the counter cannot jump past the bound", async () => {
    const r = [randomSigner().signer, randomSigner().signer, randomSigner().signer];
    const rootBuf = new Uint8Array(96);
    r.forEach((s, i) => rootBuf.set(s.publicKey, 32 * i));
    const make = (slot: number, by: number[], counter: number) =>
      createRootRetirement(by.map((i) => r[i]), { slot, counter, vendorId: VID, retiredKey: r[slot].publicKey });
    // [statement, retired mask, stored counter, provisioned threshold]
    const cases: [Uint8Array, number, number, number][] = [
      [await make(1, [0], 77), 0, 0, 0], // the leaked root 0 alone
      [await make(1, [0], Number.MAX_SAFE_INTEGER), 0, 0, 0],
      [await make(0, [1, 2], 77), 0, 0, 0], // the two others
      [await make(0, [1, 2], Number.MAX_SAFE_INTEGER), 0, 0, 0],
      [await make(0, [1, 2], 2 ** 32 + 1), 0, 0, 0],
      [await make(0, [1, 2], 2 ** 32 + 10), 0, 10, 0],
      [await make(0, [1, 2], 78), 1, 77, 0], // slot 0 already retired
      [await make(0, [1, 2], 77), 0, 0, 3] // provisioned: all three, which no statement can reach
    ];
    const expected = cases.map(([s, retired, counter, k]) => {
      const o = checkRootStatement(s, { roots: rootBuf, rootCount: 3, rootRetired: retired, vendorId: VID, classId: CID }, counter, k);
      return `${o.reason} ${o.retiredMask} ${o.counter} ${o.signerMask} ${o.required}`;
    });
    expect(expected.map((l) => reasonName(Number(l.split(" ")[0])))).toEqual([
      "THRESHOLD_NOT_MET", "THRESHOLD_NOT_MET", "OK", "TOO_LARGE", "TOO_LARGE", "OK", "STALE_STATEMENT", "THRESHOLD_NOT_MET"
    ]);
    const runner = ES5_HEX_CODEC + `
var v = fwsealCore.createRootStatementVerifier(fwsealCore.createPurePrimitives());
var cases = ${JSON.stringify(cases.map(([s, retired, counter, k]) => [hex(s), retired, counter, k]))};
for (var i = 0; i < cases.length; i++) {
  var s = fromHex(cases[i][0]);
  var cfg = { roots: fromHex("${hex(rootBuf)}"), rootCount: 3, rootRetired: cases[i][1], vendorId: fromHex("${hex(VID)}"), classId: fromHex("${hex(CID)}") };
  var r = v.check(s, s.length, cfg, cases[i][2], cases[i][3]);
  print(r + " " + v.retiredMask + " " + v.counter + " " + v.signerMask + " " + v.required);
}
`;
    expect(runDuk([readCoreFile(), runner])).toEqual(expected);
  });

  it("every root-statement golden vector gives its expected verdict and stored state", () => {
    const index = JSON.parse(fs.readFileSync(path.join(VECTORS, "index.json"), "utf8")) as { rootStatements: StatementVectorEntry[] };
    const cases = index.rootStatements.map((v) => {
      const { state, storedCounter, retireThreshold } = statementVectorState(v);
      return [hex(new Uint8Array(fs.readFileSync(path.join(VECTORS, v.file)))), hex(state.roots), state.rootCount, state.rootRetired, hex(state.vendorId), hex(state.classId), storedCounter, retireThreshold];
    });
    const runner = ES5_HEX_CODEC + `
var v = fwsealCore.createRootStatementVerifier(fwsealCore.createPurePrimitives());
var cases = ${JSON.stringify(cases)};
for (var i = 0; i < cases.length; i++) {
  var c = cases[i];
  var s = fromHex(c[0]);
  var cfg = { roots: fromHex(c[1]), rootCount: c[2], rootRetired: c[3], vendorId: fromHex(c[4]), classId: fromHex(c[5]) };
  var r = v.check(s, s.length, cfg, c[6], c[7]);
  print(r === 0 ? r + " " + v.retiredMask + " " + v.counter : r + " -1 -1");
}
`;
    expect(runDuk([readCoreFile(), runner])).toEqual(index.rootStatements.map((v) => `${v.expected.reasonCode} ${v.expected.retiredMask} ${v.expected.counter}`));
  });
});
