// Project profiles: `fwseal init` writes fwseal.json; commands take vendor, class, roots,
// policy and audit log from it; flags beat FWSEAL_* variables, which beat the profile;
// unknown keys are an error naming the key and the file; paths are relative to the profile.
// (Finding the profile from the working directory runs in real processes:
// test/system/profile-cli.test.ts.)
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { fwseal, fwsealOk, errorLines, tempDir } from "../helpers/cli.js";
import { writeImage } from "../helpers/images.js";
import { findProfile, loadProfileFile, resolveProfile } from "../../host/cli/profile.js";
import { ExitCode } from "../../host/exit-codes.js";

let dir: string;
const f = (...n: string[]): string => path.join(dir, ...n);

beforeAll(async () => {
  dir = tempDir("profile");
  fs.mkdirSync(f("keys"));
  fs.mkdirSync(f("proj", "build", "deep"), { recursive: true });
  writeImage(dir, "fw.bin", 20000, 3);
  await fwsealOk(["keygen", "-o", f("keys", "root")]);
  await fwsealOk(["keygen", "-o", f("keys", "other")]);
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("fwseal init", () => {
  it("writes the given settings with paths relative to the profile's folder, and refuses to overwrite without --force", async () => {
    const prof = f("proj", "fwseal.json");
    await fwsealOk(["init", "--vendor", "acme.example", "--class", "sensor-v3", "--root", f("keys", "root.pub"), "--min-seq", "3", "--audit", f("proj", "audit.log"), "-o", prof]);
    expect(JSON.parse(fs.readFileSync(prof, "utf8"))).toEqual({
      vendor: "acme.example", class: "sensor-v3", roots: ["../keys/root.pub"], policy: { minSequence: 3 }, audit: "audit.log"
    });
    const again = await fwseal(["init", "--vendor", "other.example", "-o", prof]);
    expect(again.code).toBe(ExitCode.OUTPUT);
    expect(errorLines(again)).toEqual([expect.stringMatching(/fwseal\.json: already exists/)]);
    expect(JSON.parse(fs.readFileSync(prof, "utf8")).vendor).toBe("acme.example");
    const tmp = f("proj", "forced.json");
    await fwsealOk(["init", "--vendor", "a.example", "-o", tmp]);
    const j = await fwsealOk(["init", "--vendor", "b.example", "--force", "--json", "-o", tmp]);
    expect(JSON.parse(j.stdout).profile).toEqual({ vendor: "b.example" });
    expect(fs.readdirSync(f("proj")).filter((n) => n.includes(".tmp") || n.startsWith("."))).toEqual([]); // atomic: no temporary left
  });

  it("loadProfileFile makes the paths absolute against the profile's folder", () => {
    const p = loadProfileFile(f("proj", "fwseal.json"));
    expect(p.settings.roots).toEqual([f("keys", "root.pub")]);
    expect(p.settings.audit).toBe(f("proj", "audit.log"));
  });
});

describe("finding and checking a profile", () => {
  it("the nearest fwseal.json from a folder upwards, else a package.json with a fwseal key; FWSEAL_PROFILE=none: none", () => {
    expect(findProfile(f("proj", "build", "deep"))).toBe(f("proj", "fwseal.json"));
    fs.writeFileSync(f("proj", "build", "package.json"), JSON.stringify({ name: "x", fwseal: { vendor: "pkg.example" } }));
    expect(findProfile(f("proj", "build", "deep"))).toBe(f("proj", "build", "package.json"));
    expect(loadProfileFile(f("proj", "build", "package.json")).settings).toEqual({ vendor: "pkg.example" });
    fs.writeFileSync(f("proj", "build", "deep", "package.json"), JSON.stringify({ name: "no-profile-here" }));
    expect(findProfile(f("proj", "build", "deep"))).toBe(f("proj", "build", "package.json"));
    const saved = process.env.FWSEAL_PROFILE;
    process.env.FWSEAL_PROFILE = "none";
    try {
      expect(resolveProfile(undefined, f("proj"))).toBeNull();
    } finally {
      if (saved === undefined) delete process.env.FWSEAL_PROFILE;
      else process.env.FWSEAL_PROFILE = saved;
    }
  });

  it("unknown keys, wrong types and broken JSON are usage errors naming the key and the file", async () => {
    const bad = (name: string, text: string): string => {
      fs.writeFileSync(f(name), text);
      return f(name);
    };
    const cases: [string, RegExp][] = [
      [bad("unknown.json", JSON.stringify({ vendor: "a.example", colour: "red" })), /unknown\.json: unknown key "colour"/],
      [bad("policy.json", JSON.stringify({ policy: { threshhold: 2 } })), /policy\.json: unknown key "policy\.threshhold"/],
      [bad("type.json", JSON.stringify({ roots: "root.pub" })), /type\.json: "roots" must be a non-empty list of strings/],
      [bad("neg.json", JSON.stringify({ policy: { minSequence: -1 } })), /neg\.json: "policy\.minSequence" must be a non-negative integer/],
      [bad("broken.json", "{ vendor: "), /broken\.json: not valid JSON \(line 1, column 3\)$/],
      [bad("short.json", '{ "vendor": '), /short\.json: not valid JSON \(it ends early\)$/],
      // A key file given as --profile by mistake: where parsing stopped, never its bytes.
      [bad("key.hex", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7\n"), /key\.hex: not valid JSON$/]
    ];
    for (const [file, re] of cases) {
      const r = await fwseal(["verify", f("fw.bin"), "--profile", file]);
      expect(r.code, file).toBe(ExitCode.USAGE);
      expect(errorLines(r), file).toEqual([expect.stringMatching(re)]);
      expect(r.stderr, file).not.toMatch(/c5aa8d/);
    }
  });
});

describe("precedence: flags > FWSEAL_* > profile > defaults", () => {
  it("pack and verify take vendor, class, roots, policy and audit log from the profile", async () => {
    const prof = f("proj", "fwseal.json");
    const P = ["--profile", prof];
    await fwsealOk(["pack", f("fw.bin"), "--key", f("keys", "root.key"), "--seq", "5", "--fw-version", "1.0", "-o", f("p.fwb"), ...P]);
    const v = await fwsealOk(["verify", f("p.fwb"), "--json", ...P]);
    const doc = JSON.parse(v.stdout);
    expect(doc.valid).toBe(true);
    expect(doc.vendorFromPolicy).toBe(true);
    expect(doc.classFromPolicy).toBe(true);
    // the audit log named by the profile, relative to it, got the pack record
    expect(fs.readFileSync(f("proj", "audit.log"), "utf8")).toMatch(/"op":"pack"/);
  });

  it("an environment variable beats the profile; a flag beats both", async () => {
    const P = ["--profile", f("proj", "fwseal.json")];
    // profile minSequence 3 < 5: valid; FWSEAL_MIN_SEQ=6: ROLLBACK; --min-seq 4 over the variable: valid again
    expect((await fwseal(["verify", f("p.fwb"), ...P])).code).toBe(0);
    expect((await fwseal(["verify", f("p.fwb"), ...P], { FWSEAL_MIN_SEQ: "6" })).code).toBe(ExitCode.POLICY);
    expect((await fwseal(["verify", f("p.fwb"), "--min-seq", "4", ...P], { FWSEAL_MIN_SEQ: "6" })).code).toBe(0);
    // vendor: profile acme.example; FWSEAL_VENDOR other: WRONG_VENDOR; --vendor acme.example wins again
    expect((await fwseal(["verify", f("p.fwb"), ...P], { FWSEAL_VENDOR: "other.example" })).stderr).toMatch(/WRONG_VENDOR/);
    expect((await fwseal(["verify", f("p.fwb"), "--vendor", "acme.example", ...P], { FWSEAL_VENDOR: "other.example" })).code).toBe(0);
    // roots: FWSEAL_ROOTS naming another root: UNKNOWN_KEY; a bad number in a variable is a usage error naming it
    expect((await fwseal(["verify", f("p.fwb"), ...P], { FWSEAL_ROOTS: f("keys", "other.pub") })).code).toBe(ExitCode.TRUST);
    const bad = await fwseal(["verify", f("p.fwb"), ...P], { FWSEAL_THRESHOLD: "two" });
    expect(bad.code).toBe(ExitCode.USAGE);
    expect(bad.stderr).toMatch(/FWSEAL_THRESHOLD="two": a non-negative integer is expected/);
  });

  it("without a profile the defaults stay (verify without --vendor checks any vendor, and says so)", async () => {
    const r = await fwsealOk(["verify", f("p.fwb"), "--root", f("keys", "root.pub"), "--profile", "none"]);
    expect(r.stdout).toMatch(/not checked: no --vendor/);
  });

  it("-v says which profile and which values were used; a setting never reaches a command where it means something else", async () => {
    const r = await fwsealOk(["verify", f("p.fwb"), "-v", "--profile", f("proj", "fwseal.json")]);
    expect(r.stderr).toMatch(/profile .*fwseal\.json/);
    expect(r.stderr).toMatch(/--root from .*fwseal\.json/);
    // delegate's --root is the signing root key: the profile's roots (public keys) must not fill it
    const d = await fwseal(["delegate", "--pub", f("keys", "other.pub"), "-o", f("x.cert"), "--profile", f("proj", "fwseal.json")]);
    expect(d.code).toBe(ExitCode.USAGE);
    expect(d.stderr).toMatch(/Missing required argument: root/);
  });
});
