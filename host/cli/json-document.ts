// Printing `--json` documents: { schema: "fwseal/1", command, ok, ... } and, on failure,
// the one error object (host/documents.ts builds the parts). Commands print documents only
// through these functions.
import { cliState, jsonReplacer, outJson } from "./output.js";
import type { FwsealError } from "../errors.js";
import { SCHEMA_ID, errorObject } from "../documents.js";

export * from "../documents.js";

/** Print a success document. */
export function outDocument(body: Record<string, unknown>): void {
  outJson({ schema: SCHEMA_ID, command: cliState.command, ok: true, ...body });
}

/** Print a success document on one line (streams of events, JSON lines). */
export function outDocumentLine(body: Record<string, unknown>): void {
  cliState.io.stdout(JSON.stringify({ schema: SCHEMA_ID, command: cliState.command, ok: true, ...body }, jsonReplacer) + "\n");
}

/** Print a failure document: `body` (e.g. a verdict) and the error object. */
export function outFailure(e: FwsealError, body: Record<string, unknown> = {}): void {
  outJson({ schema: SCHEMA_ID, command: cliState.command, ok: false, ...body, error: errorObject(e) });
}
