// The project profile as a pipeline meets it: real fwseal processes started in a subfolder
// find the nearest fwseal.json (or package.json "fwseal" key) above them, resolve its paths
// against the profile's folder, and let FWSEAL_* variables and flags override it.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { fwsealOk, fwsealProcess, tempDir } from "../helpers/cli.js";
import { writeImage } from "../helpers/images.js";

let dir: string;
const f = (...n: string[]): string => path.join(dir, ...n);

beforeAll(async () => {
  dir = tempDir("profile-cli");
  fs.mkdirSync(f("repo", "keys"), { recursive: true });
  fs.mkdirSync(f("repo", "build", "out"), { recursive: true });
  await fwsealOk(["keygen", "-o", f("repo", "keys", "root")]);
  writeImage(f("repo", "build"), "fw.bin", 30_000, 6);
});
afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("profile found from the working directory", () => {
  it("fwseal init in the project root, then pack / verify from a subfolder without repeating vendor, class, roots, audit", () => {
    const init = fwsealProcess(f("repo"), ["init", "--vendor", "acme.example", "--class", "sensor-v3", "--root", "keys/root.pub", "--audit", "release-audit.log", "--min-seq", "2"]);
    expect(init.code, init.stderr).toBe(0);
    const cwd = f("repo", "build", "out");
    const p = fwsealProcess(cwd, ["pack", "../fw.bin", "--key", "../../keys/root.key", "--seq", "3", "--fw-version", "3.0", "-o", "fw.fwb"]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/\(acme\.example\).*\(sensor-v3\)/);
    const v = fwsealProcess(cwd, ["verify", "fw.fwb"]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).not.toMatch(/not checked/);
    expect(fs.readFileSync(f("repo", "release-audit.log"), "utf8").split("\n").filter(Boolean)).toHaveLength(1);
    // the profile's minimum sequence 2, overridden by the environment, then by a flag
    expect(fwsealProcess(cwd, ["verify", "fw.fwb"], { env: { FWSEAL_MIN_SEQ: "4" } }).code).toBe(12);
    expect(fwsealProcess(cwd, ["verify", "fw.fwb", "--min-seq", "3"], { env: { FWSEAL_MIN_SEQ: "4" } }).code).toBe(0);
    // FWSEAL_PROFILE=none: no profile, so verify needs its --root again
    const none = fwsealProcess(cwd, ["verify", "fw.fwb"], { env: { FWSEAL_PROFILE: "none" } });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/Missing required argument: root/);
  });

  it("a package.json \"fwseal\" key is a profile; a nearer fwseal.json wins; a bad key names the file", () => {
    fs.writeFileSync(f("repo", "build", "package.json"), JSON.stringify({ name: "fw", private: true, fwseal: { vendor: "acme.example", class: "hub", roots: ["../keys/root.pub"] } }, null, 2));
    const cwd = f("repo", "build", "out");
    const v = fwsealProcess(cwd, ["verify", "fw.fwb", "-v"]);
    expect(v.code).toBe(12); // class hub from package.json: WRONG_CLASS
    expect(v.stderr).toMatch(/profile .*build\/package\.json/);
    expect(v.stderr).toMatch(/WRONG_CLASS/);
    fs.writeFileSync(f("repo", "build", "out", "fwseal.json"), JSON.stringify({ vendor: "acme.example", class: "sensor-v3", roots: ["../../keys/root.pub"], policy: { treshold: 1 } }));
    const bad = fwsealProcess(cwd, ["verify", "fw.fwb"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(`fwseal: error: profile ${f("repo", "build", "out", "fwseal.json")}: unknown key "policy.treshold" (known: threshold, rootThreshold, minSequence, minEpoch)`);
    fs.writeFileSync(f("repo", "build", "out", "fwseal.json"), JSON.stringify({ vendor: "acme.example", class: "sensor-v3", roots: ["../../keys/root.pub"] }));
    expect(fwsealProcess(cwd, ["verify", "fw.fwb"]).code).toBe(0);
  });

  it("flash takes its port and baud from the profile (and says which port it could not open)", () => {
    fs.writeFileSync(f("repo", "build", "out", "fwseal.json"), JSON.stringify({ port: "dev/tty-missing", baud: 57600 }));
    const r = fwsealProcess(f("repo", "build", "out"), ["flash", "fw.fwb", "--timeout", "1"]);
    expect(r.code).toBe(14);
    expect(r.stderr).toContain(f("repo", "build", "out", "dev", "tty-missing"));
  });
});
