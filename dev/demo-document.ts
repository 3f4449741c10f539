// The demo's `--json` document: one fwseal/1 document (command "demo") with every step and the
// document of every fwseal command the step ran; on failure, the same error object as any
// fwseal command beside the steps that did run.
import { SCHEMA_ID, errorObject } from "../host/documents.js";
import { FwsealError } from "../host/errors.js";
import type { DemoReport } from "./demo.js";

/** The document of a finished demo run: ok when every command exited as expected. */
export function demoDocument(report: DemoReport): Record<string, unknown> {
  const body = { dir: report.dir, steps: report.steps };
  if (!report.failures.length) return { schema: SCHEMA_ID, command: "demo", ok: true, ...body };
  // A step that did not do what it should is a fault of the toolchain (exit 1, INTERNAL).
  const e = new FwsealError("INTERNAL", `demo: ${report.failures.length} command(s) did not exit as expected: ${report.failures.join("; ")}`);
  return { schema: SCHEMA_ID, command: "demo", ok: false, ...body, error: errorObject(e) };
}

/** The document of a demo that could not run (bad options, a directory in use, a device that did not start). */
export function demoErrorDocument(e: FwsealError): Record<string, unknown> {
  return { schema: SCHEMA_ID, command: "demo", ok: false, error: errorObject(e) };
}
