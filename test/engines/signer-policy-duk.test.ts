// The signer policy (SPEC §8.1: distinct keys and distinct roots) and the bound on signature
// work per envelope (SPEC §9) on the emitted ES5 core under Duktape: each case runs the core's
// streaming verifier with its own pure primitives, wrapped to count the Ed25519 calls.
import { describe, it, expect, beforeAll } from "vitest";
import { buildCoreFiles, readCoreFile, runDuk, hasDuk, hex, ES5_HEX_CODEC, ES5_CASE_RUNNER } from "../helpers/engines.js";
import { badSigner, buildBundle, cert, opts, release, release2, root0, root1, root2, VENDOR, CLASS } from "../helpers/verifier-fixtures.js";
import { patternImage } from "../helpers/images.js";
import { seedSigner, withCert, type TestKey } from "../helpers/keys.js";

const IMG = patternImage(600);
const KEYS = [20, 21, 22, 23, 24, 25, 26, 27].map((b) => seedSigner(b));

// ES5 driver: one verifier per case; prints "@@case <id> <reason> <ed25519 calls>".
const DRIVER = ES5_HEX_CODEC + ES5_CASE_RUNNER + `
var runCase = caseRunner(fwsealCore, function (prims, a) {
  var rootsHex = a[0];
  var vHex = a[1];
  var cHex = a[2];
  var k = a[3];
  var r = a[4];
  return { primitives: prims, roots: fromHex(rootsHex), rootCount: rootsHex.length / 64,
    rootRetired: 0, vendorId: fromHex(vHex), classId: fromHex(cHex), minSequence: 0, minEpoch: 0,
    threshold: k, rootThreshold: r, now: 1800000000, maxChunkSize: 4096 };
});
`;

async function delegated(issuer: TestKey, k: TestKey): Promise<TestKey> {
  return withCert(k, await cert(issuer, k));
}

describe("signer policy on the ES5 core under duk", () => {
  let core = "";
  beforeAll(() => {
    buildCoreFiles();
    core = readCoreFile();
    expect(hasDuk(), "duk missing").toBe(true);
  });

  it("distinct roots counted, and at most 2 * max(k, r) + 1 Ed25519 checks per envelope", async () => {
    const oneRoot = await buildBundle(IMG, opts(), [await delegated(root0, release), await delegated(root0, release2), await delegated(root0, KEYS[0])]);
    const twoRoots = await buildBundle(IMG, opts(), [await delegated(root0, release), await delegated(root1, release2), await delegated(root0, KEYS[0])]);
    const badSigs = await buildBundle(IMG, opts(), await Promise.all(KEYS.map(async (k) => badSigner(await delegated(root0, k)))));
    const cases: [string, Uint8Array, number, number, string, number][] = [
      ["one root, k 3", oneRoot, 3, 1, "OK", 6],
      ["one root, k 3, r 2", oneRoot, 3, 2, "THRESHOLD_NOT_MET", 4],
      ["two roots, k 3, r 2", twoRoots, 3, 2, "OK", 6],
      ["eight bad signatures, k 1", badSigs, 1, 1, "BAD_SIGNATURE", 2],
      ["eight bad signatures, k 8", badSigs, 8, 1, "BAD_SIGNATURE", 2],
    ];
    const roots = hex(new Uint8Array([...root0.publicKey, ...root1.publicKey, ...root2.publicKey]));
    const calls = cases.map(([, b, k, r], id) => `runCase(${id}, "${hex(b)}", "${roots}", "${hex(VENDOR)}", "${hex(CLASS)}", ${k}, ${r});`);
    const out = runDuk([core, DRIVER + calls.join("\n") + "\n"]).filter((l) => l.startsWith("@@case "));
    expect(out).toEqual(cases.map(([, , , , reason, n], id) => `@@case ${id} ${reason} ${n}`));
  }, 300_000);
});
