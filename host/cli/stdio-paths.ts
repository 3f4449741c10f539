// `-` as a bundle input or output: stdin or stdout, never a file named "-". yargs turns a
// lone "-" positional into "", so commands pass their operands through stdinPath first.
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { FwsealError } from "../errors.js";
import { stdoutStream } from "./output.js";

/** The name stdin and stdout go by on the command line. */
export const STDIO = "-";

/** A bundle operand as given: "" (yargs' reading of a lone "-") is "-". */
export function stdinPath(p: string): string {
  return p === "" ? STDIO : p;
}

/** True for the operand that means stdin / stdout. */
export function isStdio(p: string | undefined): boolean {
  return p === STDIO || p === "";
}

/** A private temporary file path for output that goes to stdout only once it is complete. */
export function stagingPath(what: string): { file: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-stdout-"));
  return { file: path.join(dir, what), remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Copy a finished file to stdout (binary, in order, waiting for the pipe to drain). */
export async function copyFileToStdout(file: string): Promise<void> {
  const fh = await fsp.open(file, "r");
  try {
    for await (const chunk of fh.createReadStream()) {
      const stdout = stdoutStream();
      if (!stdout.write(chunk)) await new Promise<void>((r) => stdout.once("drain", () => r()));
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** `-o -` with --json would mix the image and the document on stdout. */
export function refuseStdoutWithJson(output: string, json: boolean | undefined): void {
  if (isStdio(output) && json) throw new FwsealError("USAGE", "-o - writes the image to stdout, where --json writes its document: use one of them");
}
