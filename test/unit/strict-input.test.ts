// Strict, predictable input: sign and attach-signature leave their input alone unless
// --in-place; drafts are named as drafts (with the signatures they miss) by inspect, verify
// and flash; --version is never the firmware version. (Help text, printed by yargs straight to
// the process's stdout, is checked on a real process in test/system/strict-input.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { fwseal, fwsealOk, tempDir, errorLines } from "../helpers/cli.js";
import { writeImage } from "../helpers/images.js";
import { ExitCode } from "../../host/exit-codes.js";

const dir = tempDir("strict-input");
const f = (name: string): string => path.join(dir, name);
const sha = (file: string): string => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
const TARGET = ["--vendor", "acme.example", "--class", "sensor-v3"];
let aliceId = "";
let bobId = "";
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  await fwsealOk(["keygen", "-o", f("root")]);
  aliceId = JSON.parse((await fwsealOk(["keygen", "-o", f("alice"), "--json"])).stdout).keyId;
  bobId = JSON.parse((await fwsealOk(["keygen", "--output", f("bob"), "--json"])).stdout).keyId;
  for (const k of ["alice", "bob"]) await fwsealOk(["delegate", "--root", f("root.key"), "--pub", f(`${k}.pub`), ...TARGET, "--not-after", "2099-01-01", "-o", f(`${k}.cert`)]);
  writeImage(dir, "fw.bin", 9000);
  await fwsealOk(["pack", f("fw.bin"), "--unsigned", "--threshold", "2", "--allow-signer", f("alice.pub"), "--allow-signer", f("bob.pub"), "--seq", "3", ...TARGET, "--fw-version", "3.0", "-o", f("fw.draft")]);
});

describe("sign and attach-signature change their input only with --in-place", () => {
  it("neither -o nor --in-place, or both: a usage error, the draft untouched", async () => {
    const before = sha(f("fw.draft"));
    const none = await fwseal(["sign", f("fw.draft"), "-k", f("alice.key"), "-c", f("alice.cert")]);
    expect(none.code).toBe(ExitCode.USAGE);
    expect(errorLines(none)).toEqual([`fwseal: error: give -o <signed draft> to write a new file, or --in-place to update ${f("fw.draft")}`]);
    const both = await fwseal(["sign", f("fw.draft"), "-k", f("alice.key"), "--in-place", "-o", f("x.draft")]);
    expect(both.code).toBe(ExitCode.USAGE);
    const same = await fwseal(["attach-signature", f("fw.draft"), "--pub", f("bob.pub"), "--sig", f("bob.pub"), "-o", f("fw.draft")]);
    expect(same.code).toBe(ExitCode.OUTPUT); // -o naming the input without --in-place: refused as any output that is an input
    expect(sha(f("fw.draft"))).toBe(before);
    expect(fs.existsSync(f("x.draft"))).toBe(false);
  });

  it("-o writes a new draft and keeps the input; --in-place updates it", async () => {
    const before = sha(f("fw.draft"));
    const j = JSON.parse((await fwsealOk(["sign", f("fw.draft"), "-k", f("alice.key"), "-c", f("alice.cert"), "-o", f("alice.draft"), "--json"])).stdout);
    expect(j).toMatchObject({ file: f("alice.draft"), signatureCount: 1, required: 2, missing: [bobId] });
    expect(sha(f("fw.draft"))).toBe(before);
    fs.copyFileSync(f("alice.draft"), f("both.draft"));
    await fwsealOk(["sign", f("both.draft"), "-k", f("bob.key"), "-c", f("bob.cert"), "--in-place"]);
    expect(JSON.parse((await fwsealOk(["inspect", f("both.draft"), "--json"])).stdout)).toMatchObject({ kind: "draft", required: 2, missing: [] });
  });
});

describe("a draft where a bundle is expected", () => {
  it("inspect says how many signatures it has and which are missing", async () => {
    const r = await fwsealOk(["inspect", f("alice.draft")]);
    expect(r.stdout.split("\n")[0]).toBe(`${f("alice.draft")}: a draft with 1 of 2 required signature(s) (signed: ${aliceId}; not yet signed by: ${bobId})`);
  });

  it("verify and flash refuse it as a draft (exit 10) and say what to run", async () => {
    for (const args of [["verify", f("alice.draft"), "-r", f("root.pub")], ["flash", f("alice.draft"), "--port", f("no-port")]]) {
      const r = await fwseal(args);
      expect(r.code).toBe(ExitCode.BUNDLE_MALFORMED);
      expect(errorLines(r)).toEqual([
        `fwseal: error: ${f("alice.draft")} is a draft with 1 of 2 required signature(s) (signed: ${aliceId}; not yet signed by: ${bobId}), not a bundle: add signatures with fwseal sign ${f("alice.draft")} --in-place --key <key>, then run fwseal finalize ${f("alice.draft")} --root <root> -o <bundle>`
      ]);
      const j = JSON.parse((await fwseal([...args, "--json"])).stdout);
      expect(j.error).toMatchObject({ code: "BUNDLE_REJECTED", reasonName: "MALFORMED", details: { draft: { signatures: [aliceId], required: 2, missing: [bobId] } } });
    }
  });
});

describe("one meaning per flag", () => {
  it("pack --version is refused with a pointer to --fw-version, nothing written", async () => {
    const r = await fwseal(["pack", f("fw.bin"), "-k", f("root.key"), "-r", f("root.pub"), "--seq", "1", ...TARGET, "--version", "1.0", "-o", f("v.fwb")]);
    expect(r.code).toBe(ExitCode.USAGE);
    expect(errorLines(r)).toEqual(["fwseal: error: --version is fwseal's version; give the firmware's version with --fw-version"]);
    expect(fs.existsSync(f("v.fwb"))).toBe(false);
  });
});
