// The fwseal command line. Every command is a yargs CommandModule in host/cli/commands/;
// this file only wires them up and turns every failure into ONE line on stderr and an
// exit code from host/exit-codes.ts. No stack traces reach the user.
import yargs from "yargs";
import { commandLoaders, loadCommands } from "./commands/index.js";
import { ExitCode } from "../exit-codes.js";
import { FwsealError } from "../errors.js";
import { cleanupPendingSync } from "../io/atomic-write.js";
import { cliState, defaultIO, err, type CliIO } from "./output.js";
import { outFailure } from "./json-document.js";
import { refuseExistingOutput, refuseOutputThatIsInput, rejectNonNumbers, rejectRepeatedFlags, type DeclaredOptions } from "./argument-checks.js";

const EPILOG = [
  "Exit codes: 0 ok, 1 internal error, 2 usage, 3 input file, 4 key, 5 output,",
  "10 bundle malformed/unsupported, 11 trust (signature, key, certificate),",
  "12 policy (vendor, class, rollback), 13 payload integrity (chunks), 14 device/link.",
  "Encrypted keys: passphrase from FWSEAL_PASSPHRASE, --passphrase-file, or a prompt."
].join("\n");

let signalsInstalled = false;
function installSignalCleanup(): void {
  if (signalsInstalled) return;
  signalsInstalled = true;
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(sig, () => {
      cleanupPendingSync(); // no partial output files
      process.stderr.write(`\nfwseal: interrupted\n`);
      for (const line of cliState.onInterrupt) process.stderr.write(`fwseal: ${line}\n`); // e.g. how to resume
      process.exit(sig === "SIGINT" ? 130 : 143);
    });
  }
  // `fwseal inspect ... | head`: a closed pipe is not an error worth a trace.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(cliState.exitCode);
  });
}

function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message.split("\n")[0];
  return String(e).split("\n")[0];
}

/**
 * The checks every command's arguments get before its handler (host/cli/argument-checks.ts).
 * yargs passes the instance that parsed the command as the middleware's second argument:
 * its option table names the command's own flags (the published typings omit it).
 */
function argumentChecks(argv: readonly string[]): (a: Record<string, unknown>, y: { getOptions(): DeclaredOptions }) => void {
  return (a, y) => {
    rejectRepeatedFlags(argv, y.getOptions());
    rejectNonNumbers(a, y.getOptions());
    refuseOutputThatIsInput(a);
    refuseExistingOutput(a);
  };
}

function isYargsError(e: unknown): boolean {
  return e instanceof Error && e.name === "YError";
}

/** Commands with actions of their own: their documents name both words ("audit verify"). */
const GROUP_COMMANDS = ["audit"];

/** The command a JSON document names: the first word (two for a group), or null. */
function commandOf(argv: readonly string[]): string | null {
  const words = argv.filter((w) => !w.startsWith("-"));
  if (words.length === 0 || !Object.prototype.hasOwnProperty.call(commandLoaders, words[0])) return null;
  if (GROUP_COMMANDS.includes(words[0]) && words.length > 1) return `${words[0]} ${words[1]}`;
  return words[0];
}

/** Run the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[], io: CliIO = defaultIO): Promise<number> {
  cliState.exitCode = ExitCode.OK;
  cliState.io = io;
  cliState.onInterrupt = [];
  cliState.command = null;
  // `fwseal help <command>` is `fwseal <command> --help`.
  if (argv[0] === "help") {
    if (argv.length > 1 && !Object.prototype.hasOwnProperty.call(commandLoaders, argv[1])) {
      return reportError(new FwsealError("USAGE", `unknown command "${argv[1]}" (see fwseal --help)`), argv.includes("--json"));
    }
    argv = argv.length > 1 ? [...argv.slice(1), "--help"] : ["--help"];
  }
  cliState.command = commandOf(argv);
  if (io === defaultIO) installSignalCleanup();
  const wantsJson = argv.includes("--json");
  let usageFailure: string | null = null;
  let commands;
  try {
    commands = await loadCommands(argv.length > 0 && !argv[0].startsWith("-") ? argv[0] : undefined);
  } catch (e) {
    return reportError(e, wantsJson);
  }

  const parser = yargs(argv)
    .scriptName("fwseal")
    .usage("$0 <command> [options]\n\nSign firmware updates on the host, verify them chunk by chunk on the device.")
    .command(commands)
    .option("json", { type: "boolean", description: "Machine-readable output on stdout", global: true })
    .middleware(argumentChecks(argv) as unknown as (a: object) => void)
    .demandCommand(1, "no command given")
    .recommendCommands()
    .strict()
    .help()
    .alias("h", "help")
    .version()
    // Unwrapped: an example broken over two lines cannot be copied and run.
    .wrap(null)
    .epilog(EPILOG)
    .exitProcess(false)
    .showHelpOnFail(false)
    .fail((msg, e) => {
      // Validation failures (unknown flag, missing argument...) arrive here with msg;
      // errors thrown by handlers arrive with e: rethrow those to the catch below.
      if (e && !isYargsError(e)) throw e;
      usageFailure = (msg ?? messageOf(e)).replace(/\s*\n\s*/g, " ");
      if (usageFailure.startsWith("Did you mean")) usageFailure = `unknown command "${argv[0]}". ${usageFailure}`;
      throw new FwsealError("USAGE", usageFailure);
    });

  try {
    await parser.parseAsync();
  } catch (e) {
    if (usageFailure === null && isYargsError(e)) usageFailure = messageOf(e);
    if (usageFailure === null) return reportError(e, wantsJson);
  }
  if (usageFailure !== null) {
    const hint = / \(see fwseal --help\)$/.test(usageFailure) ? "" : " (see fwseal --help)";
    return reportError(new FwsealError("USAGE", `${usageFailure}${hint}`), wantsJson);
  }
  return cliState.exitCode;
}

function reportError(e: unknown, json: boolean): number {
  let fe: FwsealError;
  if (e instanceof FwsealError) fe = e;
  else fe = new FwsealError("INTERNAL", `internal error: ${messageOf(e)}`);
  if (process.env.FWSEAL_DEBUG && e instanceof Error && e.stack) cliState.io.stderr(e.stack + "\n");
  if (json) outFailure(fe);
  err(`fwseal: error: ${fe.message}`);
  cliState.exitCode = fe.exitCode;
  return fe.exitCode;
}
