// The HSS/LMS verifier of the ES5 device core on Duktape (`duk`, pure SHA-256) and, when
// ESPRUINO_BIN names an Espruino Linux build, on Espruino with its native one-shot SHA-256:
// the same verdicts and the same number of sha256 calls as the TypeScript core on Node, for
// the RFC 8554 vectors, single levels (W1, W2, W4, W8) from them and from lms.vec / lmots.vec,
// the unsupported parameter sets, the invalid vectors and mutations.
import { beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createPurePrimitives } from "../../device-sim/core/index.js";
import { buildCoreFiles, emitCore, ES5_HEX_CODEC, runDuk } from "../helpers/engines.js";
import { ESPRUINO_NATIVE_PRIMITIVES, ESPRUINO_OUT, ESPRUINO_SKIP_REASON, runEspruino } from "../helpers/espruino.js";
import { caseFileText, engineCases, engineDriver, nodeVerdicts } from "../helpers/hss-lms-cases.js";

const MAX_MSG = 1024;
const cases = engineCases(12);
const want = nodeVerdicts(cases, createPurePrimitives(), MAX_MSG);

// The verdict kinds the case list must produce (guards against a list that proves nothing).
function checkExpected(lines: string[]): void {
  const reasons = lines.map((l) => l.split(" ")[0]);
  expect(reasons.slice(0, 5)).toEqual(["OK", "OK", "UNSUPPORTED_ALGORITHM", "UNSUPPORTED_ALGORITHM", "UNSUPPORTED_ALGORITHM"]);
  // 4 single levels of the RFC cases, 3 from lms.vec, 4 from lmots.vec
  expect(reasons.slice(5, 16)).toEqual(new Array(11).fill("OK"));
  expect(reasons.slice(16, 20)).toEqual(["BAD_SIGNATURE", "BAD_SIGNATURE", "MALFORMED", "MALFORMED"]);
  expect(reasons.slice(20).every((r) => r !== "OK")).toBe(true);
}

describe("HSS/LMS verify on duk (ES5 core, pure SHA-256)", () => {
  let core = "";
  beforeAll(async () => {
    core = await emitCore();
  });

  it("decides every case like Node, with the same sha256 call counts", () => {
    checkExpected(want);
    const got = runDuk([core, ES5_HEX_CODEC, engineDriver(cases, "fwsealCore.createPurePrimitives()", MAX_MSG)]);
    expect(got).toEqual(want);
  });
});

describe("HSS/LMS verify on Espruino (native require(\"crypto\").SHA256)", () => {
  it.skipIf(ESPRUINO_SKIP_REASON !== "")(`decides every case like Node${ESPRUINO_SKIP_REASON ? ` (skipped: ${ESPRUINO_SKIP_REASON})` : ""}`, () => {
    buildCoreFiles();
    const dir = mkdtempSync(path.join(tmpdir(), "fwseal-hss-cases-"));
    try {
      const files = cases.map((c, i) => {
        const f = path.join(dir, `case${i}.txt`);
        writeFileSync(f, caseFileText(c));
        return f;
      });
      const got = runEspruino([ES5_HEX_CODEC, engineDriver(cases, ESPRUINO_NATIVE_PRIMITIVES, MAX_MSG, ESPRUINO_OUT, files)]);
      expect(got).toEqual(want);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
