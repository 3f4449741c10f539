// The published JSON Schema (schema/fwseal-1.schema.json) compiled by Ajv, a full draft
// 2020-12 validator: what the schema test and `npm run schema:examples` check documents
// with. Ajv is a development dependency, loaded through require so that building the
// shipped code never needs it.
import { createRequire } from "node:module";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

/** A file of the repository (e.g. "bin/fwseal.js"), found from this module in the source tree or in build/dev. */
export function repoFile(rel: string): string {
  const from = path.dirname(fileURLToPath(import.meta.url));
  let dir = from;
  for (;;) {
    const candidate = path.join(dir, rel);
    if (fs.existsSync(candidate)) return candidate;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`${rel} not found above ${from}`);
    dir = up;
  }
}

/** The schema file. */
export function schemaPath(): string {
  return repoFile("schema/fwseal-1.schema.json");
}

/** One validation failure: where in the document, and what the schema says. */
export interface SchemaProblem {
  at: string;
  problem: string;
}

/** The parts of Ajv this module uses (its own typings are not needed to build). */
interface AjvLike {
  compile(schema: unknown): { (doc: unknown): boolean; errors?: { instancePath: string; schemaPath: string; message?: string }[] | null };
}

/** A validator for fwseal/1 documents: the list of problems, empty when the document conforms. */
export function schemaValidator(): (doc: unknown) => SchemaProblem[] {
  const require = createRequire(import.meta.url);
  const mod = require("ajv/dist/2020") as { default: new (opts: object) => AjvLike };
  const ajv = new mod.default({ allErrors: true, strictSchema: true, strictTypes: false, strictRequired: false, allowUnionTypes: true });
  const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath(), "utf8")));
  return (doc) => {
    if (validate(doc)) return [];
    return (validate.errors ?? []).map((e) => ({ at: e.instancePath || "/", problem: `${e.message ?? "invalid"} (${e.schemaPath})` }));
  };
}
