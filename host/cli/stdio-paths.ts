// `-` as a bundle input or output: stdin or stdout, never a file named "-". yargs turns a
// lone "-" positional into "", so commands pass their operands through stdinPath first.
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { Limits } from "../../formats/device-safe/limits.js";
import { FwsealError } from "../errors.js";

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

/** The first `Limits.MAX_ENVELOPE` bytes of stdin and how many bytes it held in all (the rest is read and counted, not kept). */
export async function readStdinHead(input: AsyncIterable<Uint8Array | string> = process.stdin): Promise<{ head: Uint8Array; size: number }> {
  const parts: Buffer[] = [];
  let kept = 0;
  let size = 0;
  for await (const c of input) {
    const b = typeof c === "string" ? Buffer.from(c) : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    size += b.length;
    if (kept < Limits.MAX_ENVELOPE) {
      const take = b.subarray(0, Limits.MAX_ENVELOPE - kept);
      parts.push(Buffer.from(take));
      kept += take.length;
    }
  }
  return { head: new Uint8Array(Buffer.concat(parts)), size };
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
      if (!process.stdout.write(chunk)) await new Promise<void>((r) => process.stdout.once("drain", () => r()));
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** `-o -` with --json would mix the image and the document on stdout. */
export function refuseStdoutWithJson(output: string, json: boolean | undefined): void {
  if (isStdio(output) && json) throw new FwsealError("USAGE", "-o - writes the image to stdout, where --json writes its document: use one of them");
}
