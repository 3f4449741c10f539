// The single-file CLI builds (dist/fwseal-cli.cjs, and dist/fwseal-cli-check.cjs for inspect
// and verify, each with its code cache, loaded by bin/cli-loader.js) behave exactly like the
// module tree they are built from: same output, same exit codes, for help (yargs layout, which
// the build adapts), --version (the bin's fast path and yargs' own), usage errors, and the
// checking commands' verdicts, text and JSON.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { FWSEAL_BIN, fwsealProcess, tempDir, type CliRun } from "../helpers/cli.js";
import { REPO } from "../helpers/repo.js";
import { checkCommandLoaders } from "../../host/cli/commands/check-commands.js";
import { commandLoaders } from "../../host/cli/commands/index.js";

const BUNDLE = path.join(REPO, "dist/fwseal-cli.cjs");
const CHECK_BUNDLE = path.join(REPO, "dist/fwseal-cli-check.cjs");
const loader = createRequire(import.meta.url)(path.join(REPO, "bin/cli-loader.js")) as {
  CHECK_COMMANDS: string[];
  bundleFor(argv: string[]): string | null;
};
const MODULES = path.join(REPO, "dist/host/cli/cli.js");
let dir = "";

/** The same command through dist/host/cli/cli.js (the unbundled modules). */
function unbundled(cwd: string, args: string[]): CliRun {
  // The arguments travel in the environment: after `node -e`, a first argument "inspect" would
  // start Node's debugger instead.
  const script = `import { main } from ${JSON.stringify(new URL(`file://${MODULES}`).href)}; process.exitCode = await main(JSON.parse(process.env.CLI_BUNDLE_TEST_ARGV));`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, FWSEAL_DEBUG: "", CLI_BUNDLE_TEST_ARGV: JSON.stringify(args) } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function same(args: string[]): CliRun {
  const a = fwsealProcess(dir, args);
  const b = unbundled(dir, args);
  expect({ code: a.code, stdout: a.stdout, stderr: a.stderr }, `fwseal ${args.join(" ")}`).toEqual({ code: b.code, stdout: b.stdout, stderr: b.stderr });
  return a;
}

beforeAll(() => {
  if (!fs.existsSync(BUNDLE) || !fs.existsSync(CHECK_BUNDLE)) spawnSync(process.execPath, [path.join(REPO, "scripts/build-cli-bundle.mjs")], { cwd: REPO, stdio: "inherit" });
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
    const v = same(["--version"]);
    expect(v.stdout).toBe(JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")).version + "\n");
    expect(same(["--version", "--json"]).code).toBe(0);
    expect(same(["verfy"]).code).toBe(2);
    expect(same(["pack", "fw.bin", "--bogus"]).code).toBe(2);
    // Help with characters beyond ASCII goes through string-width itself (the build's lazy front loads it).
    expect(same(["pack", "--help"]).stdout).toMatch(/[^\x00-\x7f]/);
  });

  it("is run from an installed copy, whose files npm dates by unpacking (bundles first), and not from a checkout rebuilt by tsc alone", () => {
    const files = ["bin/cli-loader.js", "dist/fwseal-cli.cjs", "dist/fwseal-cli-check.cjs", "dist/host/cli/cli.js", "dist/host/cli/cli-check.js"];
    const root = tempDir("bundle-dates");
    try {
      const bundleFor = (pkg: string): string | null => {
        for (const f of files) {
          fs.mkdirSync(path.dirname(path.join(pkg, f)), { recursive: true });
          fs.copyFileSync(path.join(REPO, f), path.join(pkg, f));
        }
        const unpacked = new Date();
        for (const f of files) fs.utimesSync(path.join(pkg, f), unpacked, new Date(unpacked.getTime() + (f.startsWith("dist/host") ? 1000 : 0)));
        return (createRequire(import.meta.url)(path.join(pkg, "bin/cli-loader.js")) as typeof loader).bundleFor(["verify"]);
      };
      expect(bundleFor(path.join(root, "app/node_modules/fwseal"))).toBe("fwseal-cli-check");
      expect(bundleFor(path.join(root, "checkout"))).toBe(null);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it("names the files it was built from relative to the repository, never by the build machine's directories (it is published)", () => {
    const modules = fs.realpathSync(path.join(REPO, "node_modules")); // where the dependencies really are (a link in a worktree)
    for (const file of [BUNDLE, CHECK_BUNDLE]) {
      const text = fs.readFileSync(file, "latin1");
      expect(text, file).not.toContain(REPO);
      expect(text, file).not.toContain(modules);
    }
    // Runs from the code cache name the bundle as the cache was made: relative to the package.
    const r = fwsealProcess(dir, ["verify", "none.fwb", "-r", "none.pub"], { env: { FWSEAL_DEBUG: "1" } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/\(dist\/fwseal-cli-check\.cjs:\d+:\d+\)/);
    expect(r.stderr).not.toContain(REPO);
  });

  it("runs inspect and verify from the checking bundle, which holds those commands alone", () => {
    expect(loader.CHECK_COMMANDS).toEqual(Object.keys(checkCommandLoaders));
    for (const name of loader.CHECK_COMMANDS) expect(commandLoaders[name]).toBe(checkCommandLoaders[name]);
    expect(fs.statSync(CHECK_BUNDLE).mtimeMs).toBeGreaterThanOrEqual(fs.statSync(path.join(REPO, "dist/host/cli/cli-check.js")).mtimeMs);
    expect(loader.bundleFor(["verify", "fw.fwb"])).toBe("fwseal-cli-check");
    expect(loader.bundleFor(["inspect", "-"])).toBe("fwseal-cli-check");
    for (const argv of [["pack", "fw.bin"], ["help", "verify"], ["--help"], [], ["verfy"]]) expect(loader.bundleFor(argv), argv.join(" ")).toBe("fwseal-cli");
    // Smaller because the other commands' code is not in it (keygen's description is in the whole CLI's).
    const check = fs.readFileSync(CHECK_BUNDLE, "latin1");
    expect(check.length).toBeLessThan(0.7 * fs.statSync(BUNDLE).size);
    // (booleans: a failed toContain would print a diff of the whole bundle)
    expect(fs.readFileSync(BUNDLE, "latin1").includes("Generate a key pair")).toBe(true);
    expect(check.includes("Generate a key pair")).toBe(false);
    // Nor the signing side: checking takes public keys only (host/keys/public-key-spec.ts).
    // The bundles name each module they hold by its path once (its lazy initialiser).
    for (const signing of ["host/keys/signer-loader.js", "host/keys/hss/hss-signer.js", "host/audit/audit-log.js", "host/cli/signer-options.js"]) {
      expect(fs.readFileSync(BUNDLE, "latin1").includes(`"dist/${signing}"`), signing).toBe(true);
      expect(check.includes(`"dist/${signing}"`), signing).toBe(false);
    }
  });

  it("gives the same verdicts, documents, help and usage errors for inspect and verify as the modules", () => {
    expect(fwsealProcess(dir, ["keygen", "-o", "root", "--profile", "none"]).code).toBe(0);
    fs.writeFileSync(path.join(dir, "fw.bin"), Buffer.alloc(10000, 0x3c));
    const packed = fwsealProcess(dir, ["pack", "fw.bin", "-k", "root.key", "-r", "root.pub", "--seq", "3", "--vendor", "acme.example", "--class", "c", "--fw-version", "1.2.3", "-o", "fw.fwb", "--profile", "none"]);
    expect(packed.code, packed.stderr).toBe(0);
    const ok = same(["verify", "fw.fwb", "-r", "root.pub", "--vendor", "acme.example", "--class", "c", "--profile", "none"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("fw.fwb: OK");
    expect(JSON.parse(same(["verify", "fw.fwb", "-r", "root.pub", "--json", "--profile", "none"]).stdout).valid).toBe(true);
    const wrong = same(["verify", "fw.fwb", "-r", "root.pub", "--vendor", "other.example", "--json", "--profile", "none"]);
    expect(wrong.code).toBe(12);
    expect(wrong.stderr).toContain("WRONG_VENDOR");
    expect(same(["inspect", "fw.fwb", "--profile", "none"]).stdout).toContain("1.2.3");
    expect(JSON.parse(same(["inspect", "fw.fwb", "--json", "--profile", "none"]).stdout).manifest.sequence).toBe(3);
    expect(same(["inspect", "fw.bin", "--profile", "none"]).code).toBe(10);
    same(["verify", "--help"]);
    same(["inspect", "--help"]);
    expect(same(["verify", "fw.fwb"]).code).toBe(2); // no --root
    expect(same(["verify", "fw.fwb", "-r", "root.pub", "--bogus"]).code).toBe(2);
    expect(same(["inspect"]).code).toBe(2);
    expect(same(["verify", "missing.fwb", "-r", "root.pub", "--profile", "none"]).code).toBe(3);
  });
});
