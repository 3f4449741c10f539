// The device's log-proof check on the emitted ES5 core under Duktape: a logged bundle is
// accepted under a log policy, the same bundle without its proof is NOT_LOGGED, and a bad
// path or a missing cosignature is rejected, exactly as on Node.
import { describe, it, expect, beforeAll } from "vitest";
import { buildCoreFiles, readCoreFile, runDuk, hasDuk, hex, ES5_HEX_CODEC, ES5_CASE_RUNNER } from "../helpers/engines.js";
import { buildBundle, opts, root0, VENDOR, CLASS } from "../helpers/verifier-fixtures.js";
import { patternImage } from "../helpers/images.js";
import { logRelease } from "../helpers/log-fixtures.js";

// ES5 driver: prints "@@case <id> <reason> <ed25519 calls>".
const DRIVER = ES5_HEX_CODEC + ES5_CASE_RUNNER + `
var runCase = caseRunner(fwsealCore, function (prims, a) {
  var rootsHex = a[0];
  var vHex = a[1];
  var cHex = a[2];
  var logKeysHex = a[3];
  var witnessKeysHex = a[4];
  var quorum = a[5];
  return { primitives: prims, roots: fromHex(rootsHex), rootCount: rootsHex.length / 64,
    rootRetired: 0, vendorId: fromHex(vHex), classId: fromHex(cHex), minSequence: 0, minEpoch: 0,
    threshold: 1, now: 1800000000, maxChunkSize: 4096,
    logKeys: fromHex(logKeysHex), logKeyCount: logKeysHex.length / 72,
    witnessKeys: fromHex(witnessKeysHex), witnessKeyCount: witnessKeysHex.length / 72, witnessQuorum: quorum };
});
`;

describe("log-proof check on the ES5 core under duk", () => {
  let core = "";
  beforeAll(() => {
    buildCoreFiles();
    core = readCoreFile();
    expect(hasDuk(), "duk missing").toBe(true);
  });

  it("accepts the logged bundle, rejects it without its proof, with a bad path, or short of the quorum", async () => {
    const bare = await buildBundle(patternImage(900), opts(), [root0]);
    const r = await logRelease(bare, { before: 3, after: 4 });
    const logged = r.logged;
    // Flip one bit in the first path hash: find it as the 32 bytes after the leaf index.
    const broken = logged.slice();
    const i = Buffer.from(logged).indexOf(Buffer.from([0x58, 32 * r.pathHashes]));
    broken[i + 2] ^= 1;
    const p = r.policy;
    const cases: [string, Uint8Array, number, string, number][] = [
      ["logged", logged, 2, "OK", 4],
      ["bare", bare, 2, "NOT_LOGGED", 1],
      ["bad path", broken, 2, "BAD_LOG_PROOF", 4],
      ["quorum 3", logged, 3, "WITNESS_QUORUM_NOT_MET", 4]
    ];
    const calls = cases.map(([, b, q], id) => `runCase(${id}, "${hex(b)}", "${hex(root0.publicKey)}", "${hex(VENDOR)}", "${hex(CLASS)}", "${hex(p.logKeys)}", "${hex(p.witnessKeys)}", ${q});`);
    const out = runDuk([core, DRIVER + calls.join("\n") + "\n"]).filter((l) => l.startsWith("@@case "));
    expect(out).toEqual(cases.map(([, , , reason, n], id) => `@@case ${id} ${reason} ${n}`));
  }, 300_000);
});
