// Shared plumbing for CLI command modules: where output goes, how a command sets the
// exit code, JSON output, a TTY-only progress bar. Commands import this, never
// process.stdout directly, so main() can run in-process in tests.
import { ExitCode, type ExitCodeValue } from "../exit-codes.js";
import { colorPrefix } from "./color.js";
import { escapeForTerminal } from "../terminal-text.js";
import { fdWriter, isTerminal } from "./fd-output.js";

export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** stderr is a terminal (progress bars, prompts). */
  stderrIsTTY: boolean;
}

/** The process's stdout and stderr (host/cli/fd-output.ts: no stream is built for them). */
export const defaultIO: CliIO = {
  // `fwseal inspect ... | head`: a closed pipe is not an error worth a trace.
  stdout: fdWriter(1, stdoutStream, () => process.exit(cliState.exitCode)),
  stderr: fdWriter(2, () => process.stderr, () => undefined),
  get stderrIsTTY(): boolean {
    return stderrTerminal ?? (stderrTerminal = isTerminal(2));
  }
};
let stderrTerminal: boolean | undefined;

/** process.stdout, ending the process quietly when its reader has gone (EPIPE). */
export function stdoutStream(): NodeJS.WriteStream {
  if (process.stdout.listenerCount("error") === 0) {
    process.stdout.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(cliState.exitCode);
    });
  }
  return process.stdout;
}

/**
 * State of the running CLI invocation (reset by main()): the exit code, where output goes,
 * the command's name as JSON documents give it ("pack", "audit verify"; null before one is
 * known), lines to print if the process is interrupted (e.g. how to resume), verbosity (0 with
 * -q, 1 normally, 2 with -v) and whether stderr prefixes are coloured.
 */
export const cliState: { exitCode: ExitCodeValue | number; io: CliIO; command: string | null; onInterrupt: string[]; verbosity: number; color: boolean } = {
  exitCode: ExitCode.OK,
  io: defaultIO,
  command: null,
  onInterrupt: [],
  verbosity: 1,
  color: false
};

/** One line on stderr that is neither an error nor a warning (hidden by -q). */
export function note(line: string): void {
  if (cliState.verbosity >= 1) err(line);
}

/** One line on stderr shown only with -v. */
export function detail(line: string): void {
  if (cliState.verbosity >= 2) err(line);
}

export function setExitCode(code: ExitCodeValue | number): void {
  cliState.exitCode = code;
}

/** One line on stdout. */
export function out(line = ""): void {
  cliState.io.stdout(line + "\n");
}

/** One line on stderr (its fwseal prefix coloured when colour is on: host/cli/color.ts). */
export function err(text: string): void {
  const line = escapeForTerminal(text); // one line, whatever a user's input carried into it (a newline in a --name)
  cliState.io.stderr((cliState.color ? colorPrefix(line) : line) + "\n");
}

/** Pretty JSON on stdout; Uint8Array values become lowercase hex. */
export function outJson(value: unknown): void {
  cliState.io.stdout(JSON.stringify(value, jsonReplacer, 2) + "\n");
}

export function jsonReplacer(_key: string, v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
  if (typeof v === "bigint") return v.toString();
  return v;
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

/** Human size: 1536 -> "1.5 KiB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/**
 * A progress bar on stderr, drawn only when stderr is a terminal and the total is
 * worth showing. Returns an update callback and a finish function.
 */
export function progressBar(label: string, total: number, minTotal = 8 * 1024 * 1024): { update: (done: number) => void; finish: () => void } {
  const io = cliState.io;
  if (total < minTotal || cliState.verbosity < 1 || !io.stderrIsTTY) return { update: () => undefined, finish: () => undefined };
  let lastPct = -1;
  let lastDraw = 0;
  const width = 30;
  const draw = (done: number) => {
    const pct = total > 0 ? Math.floor((done * 100) / total) : 100;
    const now = Date.now();
    if (pct === lastPct || (now - lastDraw < 100 && pct < 100)) return;
    lastPct = pct;
    lastDraw = now;
    const filled = Math.round((pct * width) / 100);
    io.stderr(`\r${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(pct).padStart(3)}% ${formatBytes(done)} / ${formatBytes(total)}`);
  };
  return {
    update: draw,
    finish: () => {
      if (lastPct >= 0) io.stderr("\r\x1b[K");
    }
  };
}
