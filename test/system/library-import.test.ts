// The built library ("fwseal", dist/host/index.js) in a fresh Node process: verifying a
// bundle must not load the serial-port driver or the PKCS#11 binding (native code that an
// update server verifying bundles neither needs nor may be able to build). A module counts
// as loaded when it is in the CommonJS module cache (both packages are CommonJS, also when
// reached through import) or its shared object is mapped (process.report). The same probe
// then calls flashDevice and loadSigner with a token URI, and must see each binding appear:
// proof that it detects them at all.
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const LIB = path.join(repo, "dist/host/index.js");
const VECTORS = path.join(repo, "formats/vectors");

const PROBE = `
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
const [libUrl, vectorsDir] = process.argv.slice(1);
const require = createRequire(import.meta.url);
const native = () =>
  [...Object.keys(require.cache), ...process.report.getReport().sharedObjects]
    .filter((p) => /serialport|pkcs11js/.test(p))
    .map((p) => (p.includes("serialport") ? "serialport" : "pkcs11js"));
const lib = await import(libUrl);
const index = JSON.parse(readFileSync(vectorsDir + "/index.json", "utf8"));
const v = index.vectors.find((x) => x.expected.valid);
const p = v.policy;
const r = await lib.verifyFile(vectorsDir + "/" + v.file, {
  roots: p.roots.map((h) => new Uint8Array(Buffer.from(h, "hex"))), retiredRoots: p.retiredRoots,
  vendor: p.vendor, deviceClass: p.class, minSequence: p.minSeq, minEpoch: p.minEpoch, threshold: p.threshold, rootThreshold: p.rootThreshold, now: p.now
});
const afterVerify = [...new Set(native())];
const flashError = await lib.flashDevice({ port: "/dev/fwseal-no-such-port" }).then(() => "", (e) => e.code);
const afterFlash = [...new Set(native())];
const tokenError = await lib.loadSigner("pkcs11:token=fwseal-none;object=none?module-path=/nonexistent/fwseal-none.so", { prompt: false }).then(() => "", (e) => e.code);
const afterToken = [...new Set(native())].sort();
console.log(JSON.stringify({ vector: v.name, valid: r.valid, afterVerify, flashError, afterFlash, tokenError, afterToken }));
`;

describe("importing the library for verification", () => {
  it("loads neither serialport nor pkcs11js; a port that does not exist is refused before serialport loads; a token signer loads pkcs11js on demand", () => {
    expect(fs.existsSync(LIB), "dist/host/index.js is missing: run npm run build").toBe(true);
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", PROBE, pathToFileURL(LIB).href, VECTORS], {
      cwd: repo,
      encoding: "utf8",
      env: { ...process.env, FWSEAL_PKCS11_MODULE: "" },
      timeout: 60_000
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
    expect(out.valid, `golden vector ${out.vector}`).toBe(true);
    expect(out.afterVerify).toEqual([]);
    expect(out.flashError).toBe("DEVICE");
    expect(out.afterFlash).toEqual([]);
    expect(out.tokenError).toBe("KEY_TOKEN");
    expect(out.afterToken).toEqual(["pkcs11js"]);
  });
});
