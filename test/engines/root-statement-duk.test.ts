// Root-retirement statements (SPEC §11) checked by the ES5 device core under Duktape give
// the same verdicts as the TypeScript check on Node: good, replayed, tampered, foreign
// vendor, and issued by a root that is itself retired.
import { describe, it, expect, beforeAll } from "vitest";
import { checkRootStatement, createRootRetirement } from "../../host/keys/root-retirement.js";
import { reasonName } from "../../formats/device-safe/reasons.js";
import { vendorUuid, classUuid } from "../../formats/host-only/uuid.js";
import { randomSigner } from "../helpers/keys.js";
import { ES5_HEX_CODEC, buildCoreFiles, hex, readCoreFile, runDuk } from "../helpers/engines.js";

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
  var r = v.check(s, s.length, cfg, cases[i][2]);
  print(r + " " + v.retiredMask + " " + v.counter);
}
`;
    const outLines = runDuk([readCoreFile(), runner]);
    expect(outLines.map((l) => Number(l.split(" ")[0]))).toEqual(expected);
    expect(outLines[0]).toBe("0 1 77");
  });
});
