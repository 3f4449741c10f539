// Checks every command's parsed arguments get before its handler runs (wired once, as
// yargs middleware, in cli.ts): a single-value flag given twice, an output that is one of
// the command's inputs, an output that already exists without --force.
import * as fs from "node:fs";
import * as path from "node:path";
import { FwsealError, outputError } from "../errors.js";
import { assertOutputNotInput } from "../io/atomic-write.js";

/** The parts of yargs' option table these checks read (yargs' getOptions()). */
export interface DeclaredOptions {
  key: Record<string, unknown>;
  array: string[];
  boolean: string[];
  alias: Record<string, string[]>;
  number?: string[];
}

/**
 * A flag declared as a number must be one: yargs reads `--baud abc` as NaN and lets it
 * through, to fail later in a library's own words. The raw text is named instead.
 */
export function rejectNonNumbers(a: Record<string, unknown>, declared: DeclaredOptions, argv: readonly string[] = []): void {
  for (const name of declared.number ?? []) {
    const v = a[name];
    for (const x of Array.isArray(v) ? v : [v]) {
      if (typeof x === "number" && !Number.isFinite(x)) throw new FwsealError("USAGE", `--${name} must be a number`);
    }
  }
  // yargs reads an empty or blank value (`--epoch ""`, `--min-seq=`) as 0: the raw text says it was none.
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--") break;
    const m = /^--?([A-Za-z][\w-]*)(?:=(.*))?$/s.exec(argv[i]);
    if (!m) continue;
    const name = declaredName(m[1], declared);
    if (name === undefined || !(declared.number ?? []).includes(name)) continue;
    const value = m[2] ?? argv[i + 1];
    if (value !== undefined && value.trim() === "") throw new FwsealError("USAGE", `--${name} must be a number`);
  }
}

/** The declared option a command-line flag names (through an alias or camelCase), if any. */
function declaredName(flag: string, declared: DeclaredOptions): string | undefined {
  const kebab = flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  for (const name of [flag, kebab, flag.startsWith("no-") ? flag.slice(3) : flag]) {
    for (const [canonical, aliases] of Object.entries(declared.alias)) if (aliases.includes(name)) return canonical;
    if (Object.prototype.hasOwnProperty.call(declared.key, name)) return name;
  }
  return undefined;
}

/**
 * yargs merges a repeated flag: `--fw-version 1.0 --fw-version 2.0` would pack version "1.0,2.0",
 * two --vendor flags give a third vendor ID, and `--seq 2 --seq 1` even adds up to 3. So
 * the check reads the raw command line: only options declared `array` may repeat (and
 * switches, where a repeat changes nothing); any other flag given twice, under any of its
 * names, is a usage error naming it.
 */
export function rejectRepeatedFlags(argv: readonly string[], declared: DeclaredOptions): void {
  const seen = new Set<string>();
  for (const name of flagsOnCommandLine(argv, declared)) {
    if (declared.array.includes(name) || declared.boolean.includes(name)) continue;
    if (seen.has(name)) throw new FwsealError("USAGE", `--${name} given more than once; it takes one value`);
    seen.add(name);
  }
}

/** The declared options the raw command line gives, by their canonical names, in order (repeats kept). */
export function flagsOnCommandLine(argv: readonly string[], declared: DeclaredOptions): string[] {
  const names: string[] = [];
  for (const token of argv) {
    if (token === "--") break; // the rest are operands
    const m = /^--?([A-Za-z][\w-]*)(=.*)?$/.exec(token);
    if (!m || (!token.startsWith("--") && m[1].length !== 1)) continue;
    const name = declaredName(m[1], declared);
    if (name !== undefined) names.push(name);
  }
  return names;
}

/**
 * Node reads the command line as UTF-8 and puts U+FFFD where bytes are not: `--fw-version
 * $'1.\xff'` would be signed as "1.\ufffd", `--vendor $'acme\xff'` derive another vendor ID,
 * a file named with such bytes be reported missing. An argument with U+FFFD is refused,
 * naming its flag, rather than used as something the user did not type.
 */
export function refuseNonUtf8(argv: readonly string[], declared: DeclaredOptions): void {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--") break; // operands passed on as they are (completion's words)
    if (!argv[i].includes("\ufffd")) continue;
    const own = /^--?([A-Za-z][\w-]*)=/.exec(argv[i]);
    const prev = i > 0 ? /^--?([A-Za-z][\w-]*)$/.exec(argv[i - 1]) : null;
    const flag = own ? declaredName(own[1], declared) : prev ? declaredName(prev[1], declared) : undefined;
    const what = flag !== undefined && (own || !declared.boolean.includes(flag)) ? `--${flag}` : `"${argv[i]}"`;
    throw new FwsealError("USAGE", `${what}: not UTF-8 (bytes shown as \ufffd): fwseal reads arguments as UTF-8 text, so a value or file name with other bytes cannot be used as given`);
  }
}

/** Where `-` means stdin (a bundle operand) or stdout (`-o`): everywhere else it would be a file named "-". */
const STDIN_OPERAND = ["inspect", "verify"];
const STDOUT_OUTPUT = ["extract"];

/**
 * `-` is stdin or stdout for a bundle (README "Input and output conventions") in inspect,
 * verify and extract -o. Elsewhere yargs would read a lone `-` operand as "" (then "": no
 * such file) and `-o -` as a file named "-": both are refused, naming what the command
 * needs. `-` as another flag's value (release notes, a name) is that flag's business.
 */
export function refuseStdioWhereFilesAreNeeded(argv: readonly string[], a: Record<string, unknown>, declared: DeclaredOptions): void {
  const cmd = commandOf(a);
  const words = (a._ as unknown[] | undefined) ?? [];
  const named = cmd === "log" || cmd === "audit" ? words.slice(0, 2).join(" ") : cmd; // "log append"
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--") break;
    if (argv[i] !== "-") continue;
    const m = i > 0 ? /^--?([A-Za-z][\w-]*)$/.exec(argv[i - 1]) : null;
    const flag = m ? declaredName(m[1], declared) : undefined;
    if (flag !== undefined && declared.boolean.includes(flag)) continue; // a switch: "-" is an operand after it
    if (flag === "output" || flag === "out") {
      if (STDOUT_OUTPUT.includes(cmd)) continue;
      throw new FwsealError("USAGE", `-o -: ${named} writes a file (atomically, so a failure leaves nothing behind), not stdout: give a file name`);
    }
    if (flag !== undefined) continue;
    if (STDIN_OPERAND.includes(cmd) || cmd === "extract") continue; // extract says itself why it needs a file
    throw new FwsealError("USAGE", `-: ${named} reads files, not stdin (only inspect and verify read a bundle from -): give a file name`);
  }
}

function commandOf(a: Record<string, unknown>): string {
  return String((a._ as unknown[] | undefined)?.[0] ?? "");
}

/** sign and attach-signature with --in-place update their draft: `-o <the draft>` (under any spelling) is that too. */
function updatesInPlace(cmd: string, a: Record<string, unknown>, output: string): boolean {
  if ((cmd !== "sign" && cmd !== "attach-signature") || typeof a.draft !== "string" || a["in-place"] !== true) return false;
  if (a.draft === output) return true;
  try {
    const d = fs.statSync(a.draft);
    const o = fs.statSync(output);
    return d.dev === o.dev && d.ino === o.ino;
  } catch {
    return false;
  }
}

/** The files a command writes: --output/-o (keygen's --out prefix names two). */
function outputsOf(a: Record<string, unknown>): string[] {
  const outputs: string[] = [];
  if (typeof a.output === "string" && a.output !== "-" && a.output !== "") outputs.push(a.output); // "-" is stdout
  if (commandOf(a) === "keygen" && typeof a.out === "string") outputs.push(`${a.out}.key`, `${a.out}.pub`);
  return outputs;
}

/**
 * Refuse an output path that names one of the command's inputs (`delegate -o root.key`,
 * `pack fw.bin -o fw.bin`, `extract fw.fwb -o fw.fwb`): writing it would destroy the input.
 * Every string argument other than the outputs that names an existing file is an input
 * (except the draft sign and attach-signature update).
 */
export function refuseOutputThatIsInput(a: Record<string, unknown>): void {
  const cmd = commandOf(a);
  const outputs = outputsOf(a);
  if (outputs.length === 0) return;
  const inputs: string[] = [];
  for (const [k, v] of Object.entries(a)) {
    if (k === "_" || k === "$0" || k === "output" || k === "out" || k === "o") continue;
    if ((cmd === "sign" || cmd === "attach-signature") && k === "draft" && a["in-place"] === true) continue; // updated in place, as asked
    for (const x of Array.isArray(v) ? v : [v]) if (typeof x === "string") inputs.push(x);
  }
  for (const o of outputs) assertOutputNotInput(o, inputs);
  for (const flag of ALSO_WRITTEN) {
    const v = a[flag];
    if (typeof v !== "string") continue;
    for (const o of outputs) {
      if (path.resolve(o) === path.resolve(v)) throw new FwsealError("OUTPUT_UNWRITABLE", `${o}: is also the --${flag} file; choose another output file`);
    }
  }
}

/**
 * Files a command appends to or rewrites besides its output: the audit log, a witness's or
 * monitor's state. One of them named as the output too would be written twice (the audit
 * record of the signing first, then the output refused over it, or the note overwritten by
 * the state): refused before anything is written, even when neither exists yet.
 */
const ALSO_WRITTEN = ["audit", "state"];

/**
 * Refuse, before any key is loaded or byte hashed, to replace an existing output file
 * unless --force (exit 5, one line naming it). The writers also refuse atomically
 * (host/io/atomic-write.ts), so a file appearing meanwhile is not clobbered either.
 * keygen checks its own pair of files.
 */
export function refuseExistingOutput(a: Record<string, unknown>): void {
  const cmd = commandOf(a);
  if (a.force === true || cmd === "keygen" || typeof a.output !== "string" || a.output === "-") return;
  if (updatesInPlace(cmd, a, a.output)) return;
  let st: fs.Stats;
  try {
    st = fs.lstatSync(a.output);
  } catch {
    return; // absent (or unreachable: the writer reports that)
  }
  if (st.isDirectory()) throw outputError(a.output, Object.assign(new Error("directory"), { code: "EISDIR" }));
  throw outputError(a.output, Object.assign(new Error("exists"), { code: "EEXIST" }));
}

/**
 * sign and attach-signature never change their input unless asked: they need -o (a new
 * file) or --in-place (update the draft), and not both.
 */
export function inPlaceOrOutput(a: { draft: string; output?: string; "in-place"?: boolean }): void {
  if (a["in-place"] && a.output !== undefined) throw new FwsealError("USAGE", "--in-place updates the draft itself; -o writes a new file: give one of them");
  if (!a["in-place"] && a.output === undefined) throw new FwsealError("USAGE", `give -o <signed draft> to write a new file, or --in-place to update ${a.draft}`);
}

/** Adds --force to a command that writes a file (the one flag that allows replacing it). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function forceOption(y: any, description = "Overwrite an existing output file"): any {
  return y.option("force", { type: "boolean", description });
}
