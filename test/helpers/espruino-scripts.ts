// ES5 script pieces for running the built device core on Espruino's Linux build (used by the
// engine tests through espruino.ts and by bench/device.mjs; no test-runner imports here).
import { statSync } from "node:fs";
import path from "node:path";
import { REPO } from "./repo.js";

/**
 * ES5 prelude that loads the built core (build/fwseal-core.min.js: run the core build first)
 * into Storage in pieces read from the file system and evaluates it from there, so function
 * bodies stay in flash as on a board instead of filling the variable pool as script text.
 * Defines the global `fwsealCore`.
 */
export function espruinoCoreLoader(): string {
  const file = path.join(REPO, "build/fwseal-core.min.js");
  const total = statSync(file).size;
  return `
(function () {
  var S = require("Storage"), f = E.openFile(${JSON.stringify(file)}, "r"), off = 0, piece;
  while ((piece = f.read(1024))) { S.write("fwcore", piece, off, ${total}); off += piece.length; }
  f.close();
})();
eval(require("Storage").read("fwcore"));
`;
}

/**
 * ES5 expression for Primitives whose sha256 is Espruino's native one-shot
 * require("crypto").SHA256, looked up once (Ed25519 stays the core's pure one).
 */
export const ESPRUINO_NATIVE_PRIMITIVES = `(function () {
  var H = require("crypto").SHA256;
  return {
    sha256: function (buf, off, len, out) { out.set(new Uint8Array(H(buf.subarray(off, off + len))), 0); },
    ed25519Verify: fwsealCore.ed25519Verify
  };
})()`;

/** ES5 function cpuMs(): the Espruino process's user + system CPU time in ms (Linux /proc, 10 ms steps). */
export const ESPRUINO_CPU_MS = `
function cpuMs() { var f = require("fs").readFileSync("/proc/self/stat").split(") ")[1].split(" "); return (Number(f[11]) + Number(f[12])) * 10; }
`;
