// `--root-threshold` in `fwseal finalize` and `fwseal verify` (in-process CLI on real files):
// two release keys certified by one root meet `--threshold 2` but not `--root-threshold 2`;
// keys certified by two different roots meet both (the two-person rule, SPEC §8.1).
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { fwseal, fwsealOk, errorLines, tempDir } from "../helpers/cli.js";
import { writeImage } from "../helpers/images.js";
import { ExitCode } from "../../host/exit-codes.js";

let dir: string;
let image: string;
const f = (n: string): string => path.join(dir, n);
const meta = ["--seq", "4", "--vendor", "acme.example", "--class", "meter", "--fw-version", "4.0.0"];
const ROOTS = () => ["--root", f("root0.pub"), "--root", f("root1.pub")];

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

beforeAll(async () => {
  dir = tempDir("root-threshold");
  image = writeImage(dir, "fw.bin", 9000, 4);
  for (const k of ["root0", "root1", "relA", "relB", "relC"]) await fwsealOk(["keygen", "-o", f(k)]);
  const scope = ["--vendor", "acme.example", "--class", "meter", "--epoch", "1"];
  await fwsealOk(["delegate", "--root", f("root0.key"), "--pub", f("relA.pub"), "-o", f("relA.cert"), ...scope]);
  await fwsealOk(["delegate", "--root", f("root0.key"), "--pub", f("relB.pub"), "-o", f("relB.cert"), ...scope]);
  await fwsealOk(["delegate", "--root", f("root1.key"), "--pub", f("relC.pub"), "-o", f("relC.cert"), ...scope]);
});

async function signedDraft(name: string, keys: string[]): Promise<string> {
  await fwsealOk(["pack", image, "--unsigned", ...meta, "-o", f(name)]);
  for (const k of keys) await fwsealOk(["sign", f(name), "--in-place", "--key", f(`${k}.key`), "--cert", f(`${k}.cert`)]);
  return f(name);
}

describe("--root-threshold", () => {
  it("finalize refuses two keys through one root under --root-threshold 2; verify gives the device's verdict", async () => {
    const draft = await signedDraft("one-root.draft", ["relA", "relB"]);
    const refused = await fwseal(["finalize", draft, ...ROOTS(), "--threshold", "2", "--root-threshold", "2", "-o", f("refused.fwb")]);
    expect(refused.code).toBe(ExitCode.TRUST);
    expect(errorLines(refused)).toEqual([
      expect.stringMatching(/^fwseal: error: finalize: the signed bundle does not pass the policy \(2 distinct keys through 2 distinct roots\): THRESHOLD_NOT_MET \(envelope\): the counted signers come through 1 distinct root\(s\), the policy needs 2 /),
    ]);
    expect(fs.existsSync(f("refused.fwb"))).toBe(false);
    // Under the key threshold alone it passes; a device with a root threshold of 2 refuses it.
    await fwsealOk(["finalize", draft, ...ROOTS(), "--threshold", "2", "-o", f("one-root.fwb")]);
    await fwsealOk(["verify", f("one-root.fwb"), ...ROOTS(), "--threshold", "2"]);
    const v = await fwseal(["verify", f("one-root.fwb"), ...ROOTS(), "--threshold", "2", "--root-threshold", "2"]);
    expect(v.code).toBe(ExitCode.TRUST);
    // The line names the reason, then why: both signers counted, but through one root of the two required.
    expect(errorLines(v)).toEqual([expect.stringMatching(/^fwseal: rejected: THRESHOLD_NOT_MET \(envelope\): the counted signers come through 1 distinct root\(s\), the policy needs 2 \(counted: [0-9a-f]{16}, [0-9a-f]{16}\)$/)]);
  });

  it("keys certified by two roots pass finalize and verify under --threshold 2 --root-threshold 2", async () => {
    const draft = await signedDraft("two-roots.draft", ["relA", "relC"]);
    const fin = await fwsealOk(["finalize", draft, ...ROOTS(), "--threshold", "2", "--root-threshold", "2", "-o", f("two-roots.fwb")]);
    expect(fin.stdout).toMatch(/passes 2-of-n policy through 2 distinct roots/);
    await fwsealOk(["verify", f("two-roots.fwb"), ...ROOTS(), "--threshold", "2", "--root-threshold", "2"]);
    const j = JSON.parse((await fwsealOk(["finalize", draft, ...ROOTS(), "--root-threshold", "2", "-o", f("two-roots-b.fwb"), "--json"])).stdout);
    expect(j).toMatchObject({ ok: true, rootThreshold: 2 });
  });

  it("a root threshold above the number of roots can never be met: usage error", async () => {
    const r = await fwseal(["verify", f("two-roots.fwb"), ...ROOTS(), "--root-threshold", "3"]);
    expect(r.code).toBe(ExitCode.USAGE);
    expect(errorLines(r)[0]).toMatch(/root threshold 3 but only 2 root key\(s\)/);
  });
});
