// Running the ES5 build of the device core on the engines it targets: the real Duktape
// `duk` command (each script a file, run in order as separate programs; output via print())
// and Node's vm. Also the ES5 hex codec that runner scripts use to receive their inputs
// (duk has no file system access, so inputs are embedded as hex strings).
import { expect } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import vm from "node:vm";
// @ts-expect-error plain .mjs script without type declarations
import { emitCoreEs5 } from "../../scripts/build-core-es5.mjs";
import { REPO } from "./repo.js";


/** The emitted core files, relative to REPO: plain and minified. */
export const CORE_FILES = ["build/fwseal-core.js", "build/fwseal-core.min.js"] as const;

/**
 * ES5 prelude for runner scripts loaded after the core: fromHex(h) -> Uint8Array and
 * toHex(b) -> lowercase hex, through the core's own hex codec (fwsealCore.hexToBytes/bytesToHex).
 */
export const ES5_HEX_CODEC = `
var fromHex = fwsealCore.hexToBytes;
function toHex(b) { return fwsealCore.bytesToHex(b, 0, b.length); }
`;

/**
 * ES5 prelude (after ES5_HEX_CODEC): caseRunner(core, configOf) returns
 * runCase(id, bundleHex, ...args), which verifies the whole bundle with a fresh verifier whose
 * config is configOf(primitives, args) (pure primitives that count Ed25519 verifications) and
 * prints "@@case <id> <reason name> <ed25519 calls>".
 */
export const ES5_CASE_RUNNER = `
function caseRunner(core, configOf) {
  var pure = core.createPurePrimitives();
  var calls = 0;
  var prims = {
    sha256: function (b, o, l, out) { pure.sha256(b, o, l, out); },
    ed25519Verify: function (pk, sig, m, o, l) { calls++; return pure.ed25519Verify(pk, sig, m, o, l); }
  };
  return function (id, bHex) {
    calls = 0;
    var v = core.createBundleVerifier(configOf(prims, Array.prototype.slice.call(arguments, 2)));
    var b = fromHex(bHex);
    var off = 0, ev = core.VerifyEvent.NEED_MORE;
    while (off < b.length && ev !== core.VerifyEvent.REJECT) {
      ev = v.push(b, off, b.length - off);
      off += v.consumed;
    }
    if (ev !== core.VerifyEvent.REJECT) ev = v.end();
    print("@@case " + id + " " + core.reasonName(ev === core.VerifyEvent.DONE ? 0 : v.reason) + " " + calls);
  };
}
`;

/** Lowercase hex of bytes, for embedding inputs in runner scripts. */
export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

/** True when the `duk` command runs. */
export function hasDuk(): boolean {
  return spawnSync("duk", ["-e", "print(1)"], { encoding: "utf8" }).stdout?.trim() === "1";
}

/**
 * Runs the scripts under `duk`, in order, each as its own file (program); fails the test
 * when duk is missing, exits non-zero or writes to stderr. Returns the non-empty stdout lines.
 */
export function runDuk(scripts: string[]): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), "fwseal-duk-"));
  try {
    const files = scripts.map((s, i) => {
      const f = path.join(dir, `part${i}.js`);
      writeFileSync(f, s);
      return f;
    });
    const r = spawnSync("duk", files, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    expect(r.error, "duk is required (apt-get install duktape)").toBeUndefined();
    expect(r.status, r.stderr + r.stdout.slice(-500)).toBe(0);
    expect(r.stderr).toBe("");
    return r.stdout.split("\n").filter((l) => l.length > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs ES5 source in a fresh Node vm context and returns the value of its last expression. */
export function runInNodeVm(source: string): unknown {
  return vm.runInNewContext(source, {});
}

/** Builds build/fwseal-core.js and .min.js from the current sources (fails the test on error). */
export function buildCoreFiles(): void {
  const r = spawnSync(process.execPath, ["scripts/build-core-es5.mjs", "--quiet"], { cwd: REPO, encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
}

/** The text of one built core file (see CORE_FILES); call buildCoreFiles() first. */
export function readCoreFile(rel: string = CORE_FILES[0]): string {
  return readFileSync(path.join(REPO, rel), "utf8");
}

/** The ES5 core emitted in memory from the current sources (no files written). */
export async function emitCore(): Promise<string> {
  const outs = (await emitCoreEs5()) as { text: string }[];
  return outs[0].text;
}
