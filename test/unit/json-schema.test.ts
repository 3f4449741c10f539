// Every command's --json output against the published schema (schema/fwseal-1.schema.json),
// checked by a real draft 2020-12 validator (Ajv): one success and one failure document per
// command made by running the CLI on real files, and documents of the old, inconsistent
// shapes refused by the schema.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as fs from "node:fs";
import { collectJsonExamples, type JsonExample } from "../../dev/json-examples.js";
import { schemaValidator, type SchemaProblem } from "../../dev/json-schema-check.js";
import { commandLoaders } from "../../host/cli/commands/index.js";
import { tempDir } from "../helpers/cli.js";

const dir = tempDir("json-schema");
let examples: JsonExample[] = [];
let validate: (doc: unknown) => SchemaProblem[];

beforeAll(async () => {
  validate = schemaValidator();
  examples = await collectJsonExamples(dir);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A document's copy with one change, for the refusal checks. */
function changed(doc: unknown, edit: (d: Record<string, any>) => void): unknown {
  const copy = JSON.parse(JSON.stringify(doc)) as Record<string, any>;
  edit(copy);
  return copy;
}

function example(command: string, outcome: "success" | "failure"): Record<string, any> {
  const ex = examples.find((e) => e.command === command && e.outcome === outcome);
  if (!ex) throw new Error(`no ${outcome} example for ${command}`);
  return ex.documents[0] as Record<string, any>;
}

describe("--json documents (schema fwseal/1)", () => {
  it("every document of every command conforms, success and failure alike", () => {
    expect(examples.length).toBeGreaterThan(30);
    for (const ex of examples) {
      expect(ex.documents.length, `${ex.command} ${ex.label}: one document on stdout`).toBe(1);
      const doc = ex.documents[0] as Record<string, unknown>;
      expect({ example: `${ex.command} ${ex.label}`, problems: validate(doc) }).toEqual({ example: `${ex.command} ${ex.label}`, problems: [] });
      expect(doc).toMatchObject({ schema: "fwseal/1", command: ex.command, ok: ex.outcome === "success" });
      if (ex.outcome === "failure") expect((doc.error as { exitCode: number }).exitCode).toBe(ex.exitCode);
    }
  });

  it("covers every command: a failure for each, a success for each that needs no device or engine", () => {
    const actions: Record<string, string[]> = { audit: ["verify", "list"], log: ["init", "append", "publish", "proof", "attach", "monitor"] };
    const names = Object.keys(commandLoaders).flatMap((c) => (actions[c] ? actions[c].map((x) => `${c} ${x}`) : [c]));
    const deviceOnly = ["flash", "device-sim", "device-conformance", "espruino"]; // successes: test/system/json-schema-device.test.ts
    for (const c of names) {
      expect(examples.some((e) => e.command === c && e.outcome === "failure"), `${c} failure`).toBe(true);
      if (!deviceOnly.includes(c)) expect(examples.some((e) => e.command === c && e.outcome === "success"), `${c} success`).toBe(true);
    }
  });

  it("a rejected bundle is the same error object in verify, extract, pack, inspect and finalize", () => {
    for (const [command, reasonName] of [["verify", "THRESHOLD_NOT_MET"], ["extract", "KEY_NOT_AUTHORIZED"], ["pack", "UNKNOWN_KEY"], ["inspect", "MALFORMED"], ["finalize", "THRESHOLD_NOT_MET"]] as const) {
      const e = example(command, "failure").error;
      expect(Object.keys(e).sort(), command).toEqual(["chunk", "code", "details", "exitCode", "message", "reason", "reasonName"]);
      expect(e, command).toMatchObject({ code: "BUNDLE_REJECTED", reasonName, chunk: null, details: { summary: expect.any(String) } });
      expect(typeof e.reason).toBe("number");
    }
  });

  it("rejections say why: counted signers, and the vendor behind an unauthorised signer", () => {
    const t = example("verify", "failure").error;
    expect(t.message).toMatch(/^rejected: THRESHOLD_NOT_MET \(envelope\): 1 of 2 required signers \(counted: [0-9a-f]{16}\)$/);
    expect(t.details).toMatchObject({ expected: 2, actual: 1, signers: [{ counted: true, rootSlot: 0 }] });
    const v = example("extract", "failure").error;
    expect(v.details.cause).toEqual({ reason: 12, reasonName: "WRONG_VENDOR" });
    expect(v.message).toContain("WRONG_VENDOR: bundle is for vendor 0637e301-e05d-505b-8267-486f5677de9b, the device is vendor b1cf18ed-a476-5df4-b67c-e3cca049af6d (other.example)");
  });

  it("pack, inspect and verify give the same image SHA-256 (that of the image packed)", () => {
    const packed = example("pack", "success").imageSha256;
    expect(packed).toMatch(/^[0-9a-f]{64}$/);
    expect(examples.find((e) => e.command === "inspect" && e.label === "bundle")!.documents[0]).toMatchObject({ imageSha256: packed });
    expect(example("verify", "success").imageSha256).toBe(packed);
  });

  it("a monitor's unexpected release fails with its report beside the error; a witness refuses a fork with the same error code", () => {
    const m = example("log monitor", "failure");
    expect(m).toMatchObject({ previousSize: 2, size: 3, entriesChecked: 1, unexpected: [{ index: 2, sequence: 9, expected: false, loggedAtUtc: "2023-11-14T22:16:40Z" }] });
    expect(m.error).toMatchObject({ code: "LOG_REJECTED", exitCode: 11, message: "1 unexpected release(s) signed by a watched key", reason: null });
    expect(example("witness", "failure").error).toMatchObject({ code: "LOG_REJECTED", exitCode: 11, message: expect.stringMatching(/^witness refuses: log fork: /) });
    const logged = examples.find((e) => e.command === "inspect" && e.label === "bundle with a log proof")!.documents[0] as Record<string, any>;
    expect(logged.logProof).toMatchObject({ leafIndex: 0, pathHashes: 1, checkpoint: { origin: "log.example/fw", size: 2 }, entry: { sequence: 7, loggedAtUtc: "2023-11-14T22:13:20Z" } });
    expect(example("inspect", "success").logProof).toBeNull();
  });

  it("the schema refuses the shapes it replaced", () => {
    const verify = example("verify", "success");
    const refused: [string, unknown][] = [
      ["no schema field", changed(verify, (d) => delete d.schema)],
      ["another schema version", changed(verify, (d) => (d.schema = "fwseal/2"))],
      ["chunk -1 for none", changed(verify, (d) => (d.chunk = -1))],
      ["payloadEncoding as a number", changed(verify, (d) => (d.manifest.payloadEncoding = 0))],
      ["an undocumented field", changed(verify, (d) => (d.extra = 1))],
      ["a garbage vendor", changed(verify, (d) => (d.checkedVendor = "00000000"))],
      ["pack signers as strings", changed(example("pack", "success"), (d) => (d.signers = d.signers.map((s: { keyId: string }) => s.keyId)))],
      ["a rejection without a reason name", changed(example("verify", "failure"), (d) => (d.error.reasonName = null))],
      ["a reason as a string", changed(example("inspect", "failure"), (d) => (d.error.reason = "MALFORMED"))],
      ["an error without its object", changed(example("tbs", "failure"), (d) => delete d.error)],
      ["the old error document", { ok: false, error: { code: "BUNDLE_REJECTED", message: "x", exitCode: 10, reason: 1, chunk: -1 } }],
      ["a certificate time without its RFC 3339 twin", changed(example("delegate", "success"), (d) => delete d.notAfterUtc)],
      ["delegate's duplicate output field", changed(example("delegate", "success"), (d) => (d.output = d.file))],
      ["a monitor success with an unexpected release", changed(example("log monitor", "failure"), (d) => { d.ok = true; delete d.error; })],
      ["a monitor failure without its report", changed(example("log monitor", "failure"), (d) => delete d.watched)],
      ["the old ad-hoc log document", { ok: true, size: 2, root: "00" }],
      ["a log proof's absent index as -1", changed(examples.find((e) => e.label === "bundle with a log proof")!.documents[0], (d) => (d.logProof.leafIndex = -1))],
      ["an entry time without its RFC 3339 twin", changed(example("log monitor", "success"), (d) => delete d.watched[0].loggedAtUtc)],
      ["a bundle rejection without a reason (log failures are LOG_REJECTED)", changed(example("witness", "failure"), (d) => (d.error.code = "BUNDLE_REJECTED"))]
    ];
    for (const [what, doc] of refused) expect(validate(doc).length, what).toBeGreaterThan(0);
  });
});
