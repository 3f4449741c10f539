// `-` is stdin or stdout for every bundle input and output (inspect -, verify -,
// extract -o -), and the help text a user copies from: `fwseal help <command>`, examples on
// one line each, -o meaning --output everywhere. Real processes: yargs prints help on the
// process's own stdout, and stdin/stdout are the point.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { fwsealOk, fwsealProcess, tempDir, FWSEAL_BIN } from "../helpers/cli.js";
import { writeImage } from "../helpers/images.js";
import { commandLoaders } from "../../host/cli/commands/index.js";
import { ExitCode } from "../../host/exit-codes.js";

const dir = tempDir("strict-stdio");
const f = (name: string): string => path.join(dir, name);
const TARGET = ["--vendor", "acme.example", "--class", "sensor-v3"];
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** `fwseal args` as a process with `input` on stdin; stdout as bytes. */
function withStdin(args: string[], input: Uint8Array): { code: number; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [FWSEAL_BIN, ...args], { cwd: dir, input, env: { ...process.env, FWSEAL_PASSPHRASE: "" }, timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString() };
}

beforeAll(async () => {
  await fwsealOk(["keygen", "-o", f("root")]);
  writeImage(dir, "fw.bin", 30_000);
  await fwsealOk(["pack", f("fw.bin"), "-k", f("root.key"), "-r", f("root.pub"), "--seq", "2", ...TARGET, "--fw-version", "2.0", "-o", f("fw.fwb")]);
});

describe("- is stdin / stdout", () => {
  it("inspect - and verify - read the bundle from stdin (no file named -)", () => {
    const bundle = fs.readFileSync(f("fw.fwb"));
    const i = withStdin(["inspect", "-", "--json"], bundle);
    expect(i.code, i.stderr).toBe(0);
    const fromStdin = JSON.parse(i.stdout.toString());
    expect(fromStdin).toMatchObject({ file: "-", kind: "bundle", fileSize: bundle.length, manifest: { sequence: 2, version: "2.0" } });
    // The image digest as inspect gives it for the file.
    const fromFile = withStdin(["inspect", f("fw.fwb"), "--json"], new Uint8Array(0));
    expect(fromStdin.imageSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(fromStdin.imageSha256).toBe(JSON.parse(fromFile.stdout.toString()).imageSha256);
    const v = withStdin(["verify", "-", "-r", f("root.pub"), ...TARGET], bundle);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout.toString()).toMatch(/^-: OK$/m);
    expect(fs.existsSync(path.join(dir, "-"))).toBe(false);
  });

  it("extract -o - writes the verified image to stdout, and nothing at all for a rejected bundle", () => {
    const ok = withStdin(["extract", f("fw.fwb"), "-r", f("root.pub"), ...TARGET, "-o", "-"], new Uint8Array(0));
    expect(ok.code, ok.stderr).toBe(0);
    expect(crypto.createHash("sha256").update(ok.stdout).digest("hex")).toBe(crypto.createHash("sha256").update(fs.readFileSync(f("fw.bin"))).digest("hex"));
    const bad = withStdin(["extract", f("fw.fwb"), "-r", f("root.pub"), "--vendor", "other.example", "-o", "-"], new Uint8Array(0));
    expect(bad.code).toBe(ExitCode.POLICY);
    expect(bad.stdout.length).toBe(0);
    expect(bad.stderr.trim()).toMatch(/^fwseal: rejected: WRONG_VENDOR \(envelope\): bundle is for vendor 0637e301-e05d-505b-8267-486f5677de9b, the device is vendor b1cf18ed-a476-5df4-b67c-e3cca049af6d \(other\.example\)$/);
    const mixed = withStdin(["extract", f("fw.fwb"), "-r", f("root.pub"), "-o", "-", "--json"], new Uint8Array(0));
    expect(mixed.code).toBe(ExitCode.USAGE);
    expect(fs.existsSync(path.join(dir, "-"))).toBe(false);
  });
});

describe("help a user can copy from", () => {
  it("fwseal help <command> is <command> --help", () => {
    const a = fwsealProcess(dir, ["help", "verify"]);
    const b = fwsealProcess(dir, ["verify", "--help"]);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).toMatch(/^fwseal verify <bundle>/);
  });

  it("every example of every command is on one line, and -o is --output wherever it exists", () => {
    let examples = 0;
    for (const name of Object.keys(commandLoaders)) {
      const help = fwsealProcess(dir, [name, "--help"]).stdout;
      const lines = help.split("\n");
      const from = lines.indexOf("Examples:");
      // An example line starts with the command (or a pipe into it); a wrapped one would leave an indented tail.
      const rest = from < 0 ? [] : lines.slice(from + 1);
      for (const l of rest.slice(0, rest.indexOf("") < 0 ? rest.length : rest.indexOf(""))) {
        expect(l, `${name}: ${l}`).toMatch(/^ {2}\S/);
        examples++;
      }
      const o = lines.find((l) => /^\s+-o[,\s]/.test(l));
      if (o !== undefined) expect(o, name).toMatch(/-o, --output\b/);
    }
    expect(examples).toBeGreaterThan(20);
  });
});
