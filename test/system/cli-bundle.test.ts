// The single-file CLI build (dist/fwseal-cli.cjs with its code cache, loaded by
// bin/cli-loader.js) behaves exactly like the module tree it is built from: same output,
// same exit codes, for help (yargs layout, which the build adapts), --version (the bin's
// fast path and yargs' own) and usage errors.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { FWSEAL_BIN, fwsealProcess, tempDir, type CliRun } from "../helpers/cli.js";
import { REPO } from "../helpers/repo.js";

const BUNDLE = path.join(REPO, "dist/fwseal-cli.cjs");
const MODULES = path.join(REPO, "dist/host/cli/cli.js");
let dir = "";

/** The same command through dist/host/cli/cli.js (the unbundled modules). */
function unbundled(cwd: string, args: string[]): CliRun {
  const script = `import { main } from ${JSON.stringify(new URL(`file://${MODULES}`).href)}; process.exitCode = await main(process.argv.slice(1));`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script, "--", ...args], { cwd, encoding: "utf8", env: { ...process.env, FWSEAL_DEBUG: "" } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function same(args: string[]): CliRun {
  const a = fwsealProcess(dir, args);
  const b = unbundled(dir, args);
  expect({ code: a.code, stdout: a.stdout, stderr: a.stderr }, `fwseal ${args.join(" ")}`).toEqual({ code: b.code, stdout: b.stdout, stderr: b.stderr });
  return a;
}

beforeAll(() => {
  if (!fs.existsSync(BUNDLE)) spawnSync(process.execPath, [path.join(REPO, "scripts/build-cli-bundle.mjs")], { cwd: REPO, stdio: "inherit" });
  dir = tempDir("cli-bundle");
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("single-file CLI build", () => {
  it("is what bin/fwseal.js runs when it is current", () => {
    expect(fs.existsSync(BUNDLE)).toBe(true);
    expect(fs.statSync(BUNDLE).mtimeMs).toBeGreaterThanOrEqual(fs.statSync(MODULES).mtimeMs);
    expect(fs.readFileSync(FWSEAL_BIN, "utf8")).toContain("cli-loader.js");
  });

  it("prints the same help, version and usage errors as the modules", () => {
    expect(same(["--help"]).stdout).toContain("Exit codes");
    same(["verify", "--help"]);
    same(["pack", "--help"]);
    const v = same(["--version"]);
    expect(v.stdout).toBe(JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")).version + "\n");
    expect(same(["--version", "--json"]).code).toBe(0);
    expect(same(["verfy"]).code).toBe(2);
    expect(same(["pack", "fw.bin", "--bogus"]).code).toBe(2);
  });
});
