// `npm run schema:examples`: for every command, one success and one failure `--json`
// document (made by running the CLI on scratch files), each validated against
// schema/fwseal-1.schema.json. Prints the documents and a verdict per example; exits 1 if
// any document does not conform. Development only.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { collectDeviceExamples, collectJsonExamples } from "./json-examples.js";
import { repoFile, schemaValidator } from "./json-schema-check.js";

const full = process.argv.includes("--full");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-schema-examples-"));
try {
  const validate = schemaValidator();
  const examples = await collectJsonExamples(dir);
  // flash and device-sim succeed only on a serial line: the simulator on a socat pty.
  examples.push(...(await collectDeviceExamples(dir, repoFile("bin/fwseal.js"))));
  let bad = 0;
  for (const ex of examples) {
    for (const doc of ex.documents) {
      const problems = validate(doc);
      bad += problems.length > 0 ? 1 : 0;
      const verdict = problems.length === 0 ? "valid fwseal/1" : `INVALID: ${problems.map((p) => `${p.at}: ${p.problem}`).join("; ")}`;
      console.log(`${ex.command} ${ex.outcome} (${ex.label}), exit ${ex.exitCode}: ${verdict}`);
      const text = JSON.stringify(doc, null, full ? 2 : undefined).replaceAll(dir, "$DIR");
      console.log(full || text.length <= 400 ? text : `${text.slice(0, 400)}...`);
    }
  }
  const commands = new Set(examples.map((e) => e.command));
  const documents = examples.reduce((n, e) => n + e.documents.length, 0);
  console.log(`\n${documents} documents (${examples.length} runs) from ${commands.size} commands: ${bad === 0 ? "all valid" : `${bad} INVALID`} against schema/fwseal-1.schema.json (Ajv, draft 2020-12)`);
  process.exitCode = bad === 0 ? 0 : 1;
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
