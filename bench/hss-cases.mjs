// The HSS/LMS signatures the benchmarks verify (bench/device.mjs, bench/mcu.mjs), from the
// test helpers that read test/vectors/hss-lms: RFC 8554 Appendix F test cases 1 and 2 (two
// levels), single levels cut out of test case 2 (H10/W4, H5/W8), and lms.vec's H5/W1 and
// H10/W2 signatures rebuilt from their seeds. Also the Espruino script pieces of the helpers.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/**
 * The test helpers, bundled for Node under build/bench/ (they find the repository root from
 * their own location, two levels up).
 */
export async function loadHssHelpers() {
  const out = path.join(repo, "build/bench/hss-helpers.mjs");
  await build({
    stdin: {
      contents: 'export { hssVerifyCases, singleLevelCases, keygenVectors, fromHex } from "./test/helpers/hss-lms-vectors.ts";\n' +
        'export { derivedCases } from "./test/helpers/lms-reference.ts";\n' +
        'export { espruinoCoreLoader, ESPRUINO_NATIVE_PRIMITIVES, ESPRUINO_CPU_MS } from "./test/helpers/espruino-scripts.ts";\n',
      resolveDir: repo, sourcefile: "bench-hss-entry.ts", loader: "ts",
    },
    bundle: true, format: "esm", platform: "node", outfile: out, logLevel: "silent",
  });
  return import(out);
}

/** [{ label, pk, sig, msg }] (Uint8Array fields), in the benchmarks' row order. */
export function hssBenchCases(helpers) {
  const [tc1, tc2] = helpers.hssVerifyCases().supported;
  const single = helpers.singleLevelCases();
  const mk = (label, c) => ({ label, pk: helpers.fromHex(c.fields.PublicKey), sig: helpers.fromHex(c.fields.Signature), msg: helpers.fromHex(c.fields.Msg) });
  const rebuilt = helpers.derivedCases(helpers.keygenVectors().slice(1, 3));
  return [
    mk("RFC 8554 TC1: L=2, H5/W8 + H5/W8", tc1),
    mk("RFC 8554 TC2: L=2, H10/W4 + H5/W8", tc2),
    { label: "L=1, H10/W4 (TC2 top level)", pk: single[2].pk, sig: single[2].sig, msg: single[2].msg },
    { label: "L=1, H5/W8 (TC2 second level)", pk: single[3].pk, sig: single[3].sig, msg: single[3].msg },
    { label: "L=1, H5/W1 (lms.vec)", pk: rebuilt[0].pk, sig: rebuilt[0].sig, msg: rebuilt[0].msg },
    { label: "L=1, H10/W2 (lms.vec)", pk: rebuilt[1].pk, sig: rebuilt[1].sig, msg: rebuilt[1].msg },
  ];
}
