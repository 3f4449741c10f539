// The check-subset command (`npm run check:subset`, scripts/check-subset.mjs) as a process:
// exit 0 and a zero count on the real device core, exit 1 and file:line: rule: snippet on a
// bad emitted file. The checks themselves are covered in-process by the unit tier.
import { describe, it, expect, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { REPO } from "../helpers/repo.js";

describe("the check-subset CLI", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "fwseal-subset-cli-"));

  it("npm run check:subset passes on the real core (exit 0)", () => {
    const r = spawnSync(process.execPath, ["scripts/check-subset.mjs"], { cwd: REPO, encoding: "utf8" });
    expect(r.stdout).toMatch(/: 0 violation\(s\)\n$/);
    expect(r.status).toBe(0);
  });

  it("the CLI exits 1 and prints file:line: rule: snippet for a bad emitted file", () => {
    const f = path.join(dir, "bad.js");
    writeFileSync(f, "var fwsealCore;\nfwsealCore = { get x() { return 1; } };\n");
    const r = spawnSync(process.execPath, ["scripts/check-subset.mjs", "--js", f], { cwd: REPO, encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/bad\.js:2: getter-setter: fwsealCore = \{ get x\(\)/);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));
});
