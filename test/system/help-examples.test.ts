// The examples `fwseal <command> --help` prints, run as printed: each line is taken from the
// help text, split as a shell would, and run (node bin/fwseal.js) in a directory holding the
// keys, certificates, images and bundles it names, made with fwseal itself. A user who copies
// an example gets what its description promises.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { fwsealProcess, tempDir, type CliRun } from "../helpers/cli.js";
import { textLikeImage } from "../helpers/images.js";
import { initSoftHsm, softhsmAvailable, type SoftHsm } from "../helpers/softhsm.js";

let dir = "";
const f = (name: string): string => path.join(dir, name);

function run(args: string[], env: Record<string, string> = {}): CliRun {
  return fwsealProcess(dir, args, { env });
}

function ok(args: string[], env: Record<string, string> = {}): CliRun {
  const r = run(args, env);
  expect(r.code, `fwseal ${args.join(" ")}: ${r.stderr}`).toBe(0);
  return r;
}

/** One printed example: the environment it sets, its arguments after `fwseal`, and its description. */
interface Example {
  env: Record<string, string>;
  args: string[];
  description: string;
}

/** Words as a shell splits them (single and double quotes; no expansions). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  const re = /'([^']*)'|"([^"]*)"|(\S+)/g;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) words.push(m[1] ?? m[2] ?? m[3]);
  return words;
}

/** The examples of `fwseal <command...> --help`, in order. */
function helpExamples(...command: string[]): Example[] {
  const help = ok([...command, "--help"]).stdout;
  const lines = help.slice(help.indexOf("\nExamples:\n") + "\nExamples:\n".length).split("\n");
  const out: Example[] = [];
  for (const line of lines) {
    if (!line.startsWith("  ")) break;
    const [cmd, ...desc] = line.trim().split(/ {2,}/);
    const words = shellWords(cmd);
    const env: Record<string, string> = {};
    while (/^[A-Z][A-Z0-9_]*=/.test(words[0])) {
      const [k, v] = words.shift()!.split("=");
      env[k] = v;
    }
    expect(words[0], line).toBe("fwseal");
    out.push({ env, args: words.slice(1), description: desc.join(" ") });
  }
  return out;
}

/** Intel HEX of `data` at `base` (type 04 then 16-byte data records, as objcopy -O ihex writes). */
function intelHex(data: Uint8Array, base: number): string {
  const rec = (type: number, addr: number, bytes: number[]): string => {
    const all = [bytes.length, (addr >> 8) & 0xff, addr & 0xff, type, ...bytes];
    const sum = (0x100 - (all.reduce((a, b) => a + b, 0) & 0xff)) & 0xff;
    return ":" + [...all, sum].map((b) => b.toString(16).padStart(2, "0").toUpperCase()).join("");
  };
  const lines = [rec(4, 0, [(base >>> 24) & 0xff, (base >>> 16) & 0xff])];
  for (let o = 0; o < data.length; o += 16) lines.push(rec(0, (base + o) & 0xffff, [...data.subarray(o, o + 16)]));
  lines.push(rec(1, 0, []));
  return lines.join("\n") + "\n";
}

beforeAll(() => {
  dir = tempDir("help-examples");
  for (const k of ["root", "release", "a", "b", "c", "alice", "root0", "root1", "root2"]) ok(["keygen", "-o", k]);
  ok(["delegate", "--root", "root.key", "--pub", "release.pub", "--epoch", "1", "--not-after", "2099-12-31", "-o", "release.cert"]);
  for (const k of ["a", "b", "c", "alice"]) {
    ok(["delegate", "--root", "root.key", "--pub", `${k}.pub`, "--vendor", "acme.example", "--class", "hub", "--not-after", "2099-12-31", "-o", `${k}.cert`]);
  }
  const image = textLikeImage(40 * 1024, 7);
  fs.writeFileSync(f("fw.bin"), image);
  fs.writeFileSync(f("fw.hex"), intelHex(image.subarray(0, 8192), 0x08004000));
}, 120_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("help examples run as printed", () => {
  it("pack: a delegated key, Intel HEX, compressed, a delta against the compressed release before it, three delegated signers", () => {
    const [delegated, hex, compressed, delta, three] = helpExamples("pack");
    ok(delegated.args);
    fs.rmSync(f("fw.fwb"));
    expect(ok(hex.args).stdout).toMatch(/from Intel HEX, load address 0x08004000/);
    fs.rmSync(f("fw.fwb"));
    // The compressed 1.4.4 is the release the delta example's devices run.
    expect(ok(compressed.args).stdout).toMatch(/payload compressed/);
    fs.renameSync(f("fw.fwb"), f("fw-1.4.4.fwb"));
    fs.writeFileSync(f("fw.bin"), Buffer.concat([fs.readFileSync(f("fw.bin")), Buffer.from("1.4.5: one more table\n")]));
    expect(ok(delta.args).stdout).toMatch(/payload delta .* applies to the image with chain head/);
    ok(["verify", "fw-delta.fwb", "--root", "root.pub", "--precursor", "fw-1.4.4.fwb"]);
    expect(three.description).toMatch(/2-of-3/);
    expect(ok(three.args).stdout).toMatch(/signed by [0-9a-f]{16} \(delegated\), [0-9a-f]{16} \(delegated\), [0-9a-f]{16} \(delegated\)/);
    ok(["verify", "fw.fwb", "--root", "root.pub", "--threshold", "2", "--vendor", "acme.example", "--class", "hub"]);
  });

  it.skipIf(!softhsmAvailable())("sign: Alice with her key file, then Bob with his HSM key; the draft finalizes 2-of-n", () => {
    const hsm: SoftHsm = initSoftHsm("release");
    ok(["keygen", "--pkcs11", "pkcs11:token=release;object=bob", "-o", "bob"], hsm.env);
    ok(["delegate", "--root", "root.key", "--pub", "bob.pub", "--vendor", "acme.example", "--class", "hub", "--not-after", "2099-12-31", "-o", "bob.cert"]);
    ok(["pack", "fw.bin", "--unsigned", "--threshold", "2", "--seq", "8", "--vendor", "acme.example", "--class", "hub", "--fw-version", "2.0.1", "-o", "fw.draft"]);
    const [alice, bob] = helpExamples("sign");
    ok(alice.args);
    fs.renameSync(f("fw-alice.draft"), f("fw.draft"));
    expect(bob.env).toHaveProperty("FWSEAL_PKCS11_PIN");
    ok(bob.args, { ...hsm.env });
    ok(["finalize", "fw.draft", "--threshold", "2", "--root", "root.pub", "--vendor", "acme.example", "--class", "hub", "-o", "fw-2.0.1.fwb"]);
    fs.rmSync(hsm.dir, { recursive: true, force: true });
  });

  it("retire-root: two slots sign at once, or one after the other with --cosign; --check passes on the three-slot device", () => {
    const [both, first, cosign, check] = helpExamples("retire-root");
    ok(both.args);
    expect(ok(check.args).stdout).toMatch(/OK: retires slot 0 .* signed by slots 1, 2 \(2 needed\)/);
    fs.rmSync(f("retire-slot0.cose"));
    ok(first.args);
    ok(cosign.args);
    expect(fs.existsSync(f("retire-slot0-b.cose"))).toBe(true); // the input is kept
    expect(ok(check.args).stdout).toMatch(/OK: retires slot 0 .* signed by slots 1, 2 \(2 needed\)/);
  });

  it("log: init, append, publish, proof and attach on a log directory (the URL forms take the same flags: log-nginx)", () => {
    ok(["keygen", "-o", "log"]);
    ok(["pack", "fw.bin", "-k", "root.key", "-r", "root.pub", "--seq", "1", "--vendor", "acme.example", "--class", "hub", "--fw-version", "1.4.2", "-o", "fw-1.4.2.fwb"]);
    const [init] = helpExamples("log", "init");
    expect(ok(init.args).stdout).toMatch(/^tlog: log log\.example\.com\/fw created; verifier key log\.example\.com\/fw\+[0-9a-f]{8}\+/);
    const [append] = helpExamples("log", "append");
    expect(ok(append.args).stdout).toMatch(/^fw-1\.4\.2\.fwb: entry 0 \(log size 1/);
    const [publish] = helpExamples("log", "publish");
    expect(ok(publish.args).stdout).toMatch(/^tlog: checkpoint size 1, .* 1 signature\(s\)$/m);
    const [proof] = helpExamples("log", "proof");
    expect(ok(proof.args).stdout).toMatch(/^inclusion of entry 0: 0 hash\(es\)$/m);
    // The group's second example: the bundle with its proof, which a device with the log's key installs.
    const attach = helpExamples("log")[1];
    expect(ok(attach.args).stdout).toMatch(/^fw-1\.4\.2\.logged\.fwb: entry 0 of 1/);
    const vkey = JSON.parse(ok(["log", "init", "tlog2", "--key", "log.key", "--name", "log.example.com/fw", "--json"]).stdout).vkey as string;
    ok(["verify", "fw-1.4.2.logged.fwb", "-r", "root.pub", "--log-key", vkey]);
    expect(run(["verify", "fw-1.4.2.fwb", "-r", "root.pub", "--log-key", vkey]).code).toBe(11);
  });

  it("every command and action has examples in its --help", () => {
    const commands = (name: string[]): string[] => {
      const help = ok([...name, "--help"]).stdout;
      const section = help.slice(help.indexOf("Commands:\n"), help.indexOf("\nOptions:")).split("\n").slice(1);
      const prefix = ["fwseal", ...name].join(" ") + " ";
      return section.filter((l) => l.startsWith("  " + prefix)).map((l) => l.slice(2 + prefix.length).split(" ")[0]);
    };
    const all = commands([]).flatMap((c) => (["audit", "log"].includes(c) ? [[c], ...commands([c]).map((a) => [c, a])] : [[c]]));
    expect(all.length).toBeGreaterThan(25);
    const without = all.filter((c) => !ok([...c, "--help"]).stdout.includes("\nExamples:\n")).map((c) => c.join(" "));
    expect(without).toEqual([]);
  });
});
