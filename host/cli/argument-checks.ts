// Checks every command's parsed arguments get before its handler runs (wired once, as
// yargs middleware, in cli.ts): a single-value flag given twice, an output that is one of
// the command's inputs, an output that already exists without --force.
import * as fs from "node:fs";
import { FwsealError, outputError } from "../errors.js";
import { assertOutputNotInput } from "../io/atomic-write.js";

/** The parts of yargs' option table these checks read (yargs' getOptions()). */
export interface DeclaredOptions {
  key: Record<string, unknown>;
  array: string[];
  alias: Record<string, string[]>;
}

/**
 * yargs merges a repeated flag into an array: `--version 1.0 --version 2.0` would pack
 * version "1.0,2.0" and two --vendor flags a third vendor ID. Only options declared
 * `array` may repeat; any other given twice is a usage error naming the flag.
 */
export function rejectRepeatedFlags(a: Record<string, unknown>, declared: DeclaredOptions): void {
  const repeatable = new Set(declared.array);
  for (const name of declared.array) for (const al of declared.alias[name] ?? []) repeatable.add(al);
  for (const name of Object.keys(declared.key)) {
    if (repeatable.has(name) || !Array.isArray(a[name])) continue;
    throw new FwsealError("USAGE", `--${name} given more than once; it takes one value`);
  }
}

function commandOf(a: Record<string, unknown>): string {
  return String((a._ as unknown[] | undefined)?.[0] ?? "");
}

/** sign and attach-signature update their draft in place by design: `-o <the draft>` is that. */
function updatesInPlace(cmd: string, a: Record<string, unknown>, output: string): boolean {
  return (cmd === "sign" || cmd === "attach-signature") && typeof a.draft === "string" && a.draft === output;
}

/** The files a command writes: --output/-o (keygen's --out prefix names two). */
function outputsOf(a: Record<string, unknown>): string[] {
  const outputs: string[] = [];
  if (typeof a.output === "string") outputs.push(a.output);
  if (commandOf(a) === "keygen" && typeof a.out === "string") outputs.push(`${a.out}.key`, `${a.out}.pub`);
  return outputs;
}

/**
 * Refuse an output path that names one of the command's inputs (`delegate -o root.key`,
 * `pack fw.bin -o fw.bin`, `extract fw.fwb -o fw.fwb`): writing it would destroy the input.
 * Every string argument other than the outputs that names an existing file is an input.
 */
export function refuseOutputThatIsInput(a: Record<string, unknown>): void {
  const cmd = commandOf(a);
  const outputs = outputsOf(a).filter((o) => !updatesInPlace(cmd, a, o));
  if (outputs.length === 0) return;
  const inputs: string[] = [];
  for (const [k, v] of Object.entries(a)) {
    if (k === "_" || k === "$0" || k === "output" || k === "out" || k === "o") continue;
    for (const x of Array.isArray(v) ? v : [v]) if (typeof x === "string") inputs.push(x);
  }
  for (const o of outputs) assertOutputNotInput(o, inputs);
}

/**
 * Refuse, before any key is loaded or byte hashed, to replace an existing output file
 * unless --force (exit 5, one line naming it). The writers also refuse atomically
 * (host/io/atomic-write.ts), so a file appearing meanwhile is not clobbered either.
 * keygen checks its own pair of files.
 */
export function refuseExistingOutput(a: Record<string, unknown>): void {
  const cmd = commandOf(a);
  if (a.force === true || cmd === "keygen" || typeof a.output !== "string") return;
  if (updatesInPlace(cmd, a, a.output)) return;
  let st: fs.Stats;
  try {
    st = fs.lstatSync(a.output);
  } catch {
    return; // absent (or unreachable: the writer reports that)
  }
  if (st.isDirectory()) return; // the writer says "is a directory"
  throw outputError(a.output, Object.assign(new Error("exists"), { code: "EEXIST" }));
}

/** Adds --force to a command that writes a file (the one flag that allows replacing it). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function forceOption(y: any, description = "Overwrite an existing output file"): any {
  return y.option("force", { type: "boolean", description });
}
