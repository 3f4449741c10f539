// `npm run demo -- --json` as a script sees it: one fwseal/1 document (command "demo") on
// stdout with every step and every fwseal command's own document, the transcript on stderr
// only; a demo that cannot start is a failure document with the usual error object.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { tempDir } from "../helpers/cli.js";
import { REPO } from "../helpers/repo.js";
import { schemaValidator, type SchemaProblem } from "../../dev/json-schema-check.js";

const DEMO = path.join(REPO, "build/dev/dev/run-demo.js");
const dir = tempDir("demo-json");
let validate: (doc: unknown) => SchemaProblem[];

function demo(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [DEMO, ...args], { cwd: dir, encoding: "utf8", timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  validate = schemaValidator();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("npm run demo -- --json", () => {
  it("prints one conforming document with every step's commands and their documents", () => {
    const r = demo(["--json", "--dir", path.join(dir, "run"), "--image-size", String(96 * 1024)]);
    expect(r.stderr).toContain("$ fwseal keygen");
    const doc = JSON.parse(r.stdout) as { ok: boolean; steps: { number: number; ok: boolean; commands: { args: string[]; exitCode: number; ok: boolean; result: Record<string, unknown> | null }[] }[] };
    expect(validate(doc)).toEqual([]);
    expect(r.code).toBe(0);
    expect(doc).toMatchObject({ schema: "fwseal/1", command: "demo", ok: true, dir: path.join(dir, "run") });
    expect(doc.steps.map((s) => s.number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(doc.steps.every((s) => s.ok)).toBe(true);
    const commands = doc.steps.flatMap((s) => s.commands);
    // Every command printed its own document; the tampered bundle's is a rejection at chunk 20.
    expect(commands.every((c) => c.result !== null && c.result.schema === "fwseal/1")).toBe(true);
    const tampered = commands.find((c) => c.args.includes("sensor-1.2.0-tampered.fwb"))!;
    expect(tampered).toMatchObject({ exitCode: 13, ok: true, result: { command: "flash", ok: false, error: { code: "BUNDLE_REJECTED", reasonName: "CHUNK_HASH_MISMATCH", chunk: 20 } } });
  }, 300_000);

  it("a directory in use: a failure document, exit 5, nothing else on stdout", () => {
    fs.mkdirSync(path.join(dir, "busy"), { recursive: true });
    fs.writeFileSync(path.join(dir, "busy", "x"), "x");
    const r = demo(["--json", "--dir", path.join(dir, "busy")]);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(validate(doc)).toEqual([]);
    expect(doc).toMatchObject({ schema: "fwseal/1", command: "demo", ok: false, error: { code: "OUTPUT_EXISTS", exitCode: 5 } });
    expect(r.code).toBe(5);
  });

  it("the schema refuses a demo document whose step carries an unknown field", () => {
    const doc = { schema: "fwseal/1", command: "demo", ok: true, dir: "d", steps: [{ number: 1, title: "t", ok: true, commands: [], extra: 1 }] };
    expect(validate(doc)).not.toEqual([]);
  });
});
