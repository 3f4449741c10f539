// What a person at a terminal sees, through a real pseudo-terminal (util-linux script(1)):
// progress bars for pack and verify on large images (stderr only, never with --json or -q),
// the one note that signing is not audited, colour that NO_COLOR turns off and FORCE_COLOR on,
// and bash completion driven through bash itself.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { FWSEAL_BIN, fwsealOk, fwsealProcess, tempDir } from "../helpers/cli.js";
import { writeImage } from "../helpers/images.js";

const HAS_SCRIPT = spawnSync("script", ["--version"], { encoding: "utf8" }).status === 0;
const HAS_BASH = spawnSync("bash", ["--version"], { encoding: "utf8" }).status === 0;

let dir: string;
const f = (n: string): string => path.join(dir, n);
const quote = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;

/**
 * Runs `fwseal args` with stderr on a pseudo-terminal and stdout into a file: returns what
 * the terminal showed (stderr) and what stdout held.
 */
function onTerminal(args: string[], env: Record<string, string> = {}): { code: number; terminal: string; stdout: string } {
  const outFile = f(`stdout-${process.hrtime.bigint()}.txt`);
  const cmd = `${[process.execPath, FWSEAL_BIN, ...args].map(quote).join(" ")} > ${quote(outFile)}`;
  const r = spawnSync("script", ["-qefc", cmd, "/dev/null"], {
    cwd: dir, encoding: "utf8", timeout: 120_000,
    env: { ...plainEnv(), TERM: "xterm", ...env }
  });
  const stdout = fs.existsSync(outFile) ? fs.readFileSync(outFile, "utf8") : "";
  return { code: r.status ?? -1, terminal: r.stdout, stdout };
}

/** The environment without the variables these tests set themselves (Node warns when NO_COLOR and FORCE_COLOR are both present). */
function plainEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !["NO_COLOR", "FORCE_COLOR", "FWSEAL_AUDIT_LOG", "FWSEAL_PASSPHRASE"].includes(k)) env[k] = v;
  return env;
}

beforeAll(async () => {
  dir = tempDir("terminal");
  writeImage(dir, "big.bin", 9 * 1024 * 1024, 4);
  writeImage(dir, "small.bin", 10_000, 5);
  await fwsealOk(["keygen", "-o", f("root")]);
});
afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const META = ["--seq", "1", "--vendor", "acme.example", "--class", "meter", "--fw-version", "1", "--key", "root.key", "--root", "root.pub"];

describe.skipIf(!HAS_SCRIPT)("on a terminal", () => {
  it("pack and verify draw a progress bar on stderr for a large image; --json and -q draw none", () => {
    const p = onTerminal(["pack", "big.bin", ...META, "-o", "big.fwb"]);
    expect(p.code, p.terminal).toBe(0);
    expect(p.terminal).toMatch(/packing \[#+\.*\] +\d+%/);
    expect(p.stdout).toMatch(/^bundle big\.fwb/); // the result itself is on stdout, not mixed with the bar
    const v = onTerminal(["verify", "big.fwb", "--root", "root.pub", "--vendor", "acme.example", "--class", "meter"]);
    expect(v.code, v.terminal).toBe(0);
    expect(v.terminal).toMatch(/verifying \[#+\.*\] +\d+%/);
    expect(v.stdout).toMatch(/big\.fwb: OK/);
    const j = onTerminal(["verify", "big.fwb", "--root", "root.pub", "--vendor", "acme.example", "--class", "meter", "--json"]);
    expect(j.terminal).not.toMatch(/verifying/);
    expect(JSON.parse(j.stdout).valid).toBe(true);
    const q = onTerminal(["verify", "big.fwb", "-q", "--root", "root.pub", "--vendor", "acme.example", "--class", "meter"]);
    expect(q.code).toBe(0);
    expect(q.terminal).toBe("");
  });

  it("signing without an audit log says so once; not with -q, not with --audit", () => {
    const p = onTerminal(["pack", "small.bin", ...META, "-o", "s1.fwb"]);
    expect(p.code).toBe(0);
    expect(p.terminal.match(/note:(\x1b\[0m)? no audit log configured/g)).toHaveLength(1); // the prefix is coloured
    expect(onTerminal(["pack", "small.bin", ...META, "-o", "s2.fwb", "-q"]).terminal).toBe("");
    expect(onTerminal(["pack", "small.bin", ...META, "-o", "s3.fwb", "--audit", "a.log"]).terminal).not.toMatch(/note/);
    // in a pipe the note needs -v (pipelines read their logs, not a terminal)
    expect(fwsealProcess(dir, ["pack", "small.bin", ...META, "-o", "s4.fwb"]).stderr).toBe("");
    expect(fwsealProcess(dir, ["pack", "small.bin", ...META, "-o", "s5.fwb", "-v"]).stderr).toMatch(/^fwseal: note: no audit log configured .*not recorded$/m);
  });

  it("errors are coloured on a terminal, plain with NO_COLOR; FORCE_COLOR colours a pipe", () => {
    const tty = onTerminal(["verify", "missing.fwb", "--root", "root.pub"]);
    expect(tty.code).toBe(3);
    expect(tty.terminal).toMatch(/\x1b\[31mfwseal: error:\x1b\[0m missing\.fwb: no such file/);
    const plain = onTerminal(["verify", "missing.fwb", "--root", "root.pub"], { NO_COLOR: "1" });
    expect(plain.terminal).toMatch(/^fwseal: error: missing\.fwb/m);
    expect(plain.terminal).not.toMatch(/\x1b\[/);
    const forced = fwsealProcess(dir, ["verify", "missing.fwb", "--root", "root.pub"], { env: { FORCE_COLOR: "1" } });
    expect(forced.stderr).toMatch(/^\x1b\[31mfwseal: error:\x1b\[0m/);
    expect(fwsealProcess(dir, ["verify", "missing.fwb", "--root", "root.pub"]).stderr).not.toMatch(/\x1b\[/);
  });
});

describe.skipIf(!HAS_BASH)("bash completion", () => {
  /** The COMPREPLY bash computes with the printed script for the words of `line` (cursor at its end). */
  function complete(line: string): string[] {
    const bin = f("bin");
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, "fwseal"), `#!/bin/sh\nexec ${quote(process.execPath)} ${quote(FWSEAL_BIN)} "$@"\n`, { mode: 0o755 });
    const script = [
      "source <(fwseal completion bash)",
      `COMP_WORDS=(${line.split(" ").map(quote).join(" ")})`,
      "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))",
      "_fwseal_complete",
      'printf "%s\\n" "${COMPREPLY[@]}"'
    ].join("\n");
    const r = spawnSync("bash", ["-c", script], { cwd: dir, encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.split("\n").filter((l) => l !== "");
  }

  it("completes commands, flags, flag values, subcommands, and falls back to file names", () => {
    expect(complete("fwseal ve")).toEqual(["verify"]);
    expect(complete("fwseal pack --ro")).toEqual(["--root"]);
    expect(complete("fwseal pack --input-f")).toEqual(["--input-format"]);
    expect(complete("fwseal pack fw.hex --input-format ")).toEqual(["auto", "binary", "ihex"]);
    expect(complete("fwseal pubkey root.pub --format ")).toEqual(["c", "cose", "hex", "pem", "ts"]);
    expect(complete("fwseal audit ")).toEqual(["list", "verify"]);
    expect(complete("fwseal completion ")).toEqual(["bash", "zsh"]);
    expect(complete("fwseal verify sma")).toEqual(["small.bin"]);
    expect(complete("fwseal verify --j")).toEqual(["--json"]);
  });

  it("the zsh script is printed too (and parses, where zsh is installed)", () => {
    const z = fwsealProcess(dir, ["completion", "zsh"]);
    expect(z.code).toBe(0);
    expect(z.stdout).toMatch(/^#compdef fwseal/);
    expect(z.stdout).toMatch(/fwseal completion --candidates --/);
    if (spawnSync("zsh", ["--version"]).status === 0) expect(spawnSync("zsh", ["-n"], { input: z.stdout }).status).toBe(0);
  });

  it("with --json, the same script in a fwseal/1 document", () => {
    for (const shell of ["bash", "zsh"]) {
      const plain = fwsealProcess(dir, ["completion", shell]);
      const doc = fwsealProcess(dir, ["completion", shell, "--json"]);
      expect(doc.code).toBe(0);
      expect(JSON.parse(doc.stdout)).toEqual({ schema: "fwseal/1", command: "completion", ok: true, shell, script: plain.stdout });
    }
  });
});
