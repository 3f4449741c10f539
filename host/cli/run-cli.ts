// The fwseal command line over a table of commands (host/cli/commands/table.ts): every
// command is a yargs CommandModule in host/cli/commands/; this file only wires them up and
// turns every failure into ONE line on stderr and an exit code from host/exit-codes.ts. No
// stack traces reach the user. host/cli/cli.ts runs it with every command; host/cli/cli-check.ts
// with the checking commands alone (the build's small bundle, scripts/build-cli-bundle.mjs).
import yargs from "yargs";
import { loadCommands, type CommandTable } from "./commands/table.js";
import { ExitCode } from "../exit-codes.js";
import { FwsealError } from "../errors.js";
import { cleanupPendingSync } from "../io/atomic-write.js";
import { cliState, defaultIO, detail, err, note, type CliIO } from "./output.js";
import { FWSEAL_VERSION } from "../version.js";
import { outFailure } from "./json-document.js";
import { refuseExistingOutput, refuseNonUtf8, refuseOutputThatIsInput, refuseStdioWhereFilesAreNeeded, rejectNonNumbers, rejectRepeatedFlags, type DeclaredOptions } from "./argument-checks.js";
import { applyProfileDefaults } from "./profile-defaults.js";
import { colorWanted } from "./color.js";
import { setUnauditedNotice } from "../audit/unaudited-notice.js";

const EPILOG = [
  "Exit codes: 0 ok, 1 internal error, 2 usage, 3 input file, 4 key, 5 output,",
  "10 bundle malformed/unsupported, 11 trust (signature, key, certificate),",
  "12 policy (vendor, class, rollback), 13 payload integrity (chunks), 14 device/link.",
  "Encrypted keys: passphrase from FWSEAL_PASSPHRASE, --passphrase-file, or a prompt.",
  "Defaults: flags > FWSEAL_* variables > the project profile (fwseal.json or package.json \"fwseal\"; fwseal init).",
  "Colour: NO_COLOR=1 turns it off, FORCE_COLOR=1 on (FORCE_COLOR wins)."
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
    refuseNonUtf8(argv, y.getOptions());
    refuseStdioWhereFilesAreNeeded(argv, a, y.getOptions());
    rejectNonNumbers(a, y.getOptions(), argv);
    refuseOutputThatIsInput(a);
    refuseExistingOutput(a);
  };
}

/**
 * Option values the command line leaves out, from FWSEAL_* variables and the project profile
 * (host/cli/profile-defaults.ts); runs before validation so a profile can supply a required
 * option. With -v, says which profile and which values were used.
 */
function profileDefaults(argv: readonly string[]): (a: Record<string, unknown>, y: { getOptions(): DeclaredOptions }) => void {
  return (a, y) => {
    cliState.verbosity = a.quiet === true ? 0 : a.verbose === true ? 2 : 1; // as parsed (a "-q" may be another flag's value)
    const { profile, applied } = applyProfileDefaults(argv, a, y.getOptions());
    if (profile) detail(`fwseal: profile ${profile.file}`);
    for (const x of applied) detail(`fwseal: --${x.flag} from ${x.from}`);
  };
}

function isYargsError(e: unknown): boolean {
  return e instanceof Error && e.name === "YError";
}

/** Commands with actions of their own: their documents name both words ("audit verify"). */
const GROUP_COMMANDS: Record<string, readonly string[]> = {
  audit: ["verify", "list"],
  log: ["init", "append", "publish", "proof", "attach", "monitor"]
};

/** The command a JSON document names: the first word (two for a group's action; the group alone for an unknown one), or null. */
function commandOf(argv: readonly string[], commands: CommandTable): string | null {
  const words = argv.filter((w) => !w.startsWith("-"));
  if (words.length === 0 || !Object.prototype.hasOwnProperty.call(commands, words[0])) return null;
  const actions = Object.prototype.hasOwnProperty.call(GROUP_COMMANDS, words[0]) ? GROUP_COMMANDS[words[0]] : [];
  if (words.length > 1 && actions.includes(words[1])) return `${words[0]} ${words[1]}`;
  return words[0];
}

/** What yargs' "Did you mean" is about: an unknown command, or an unknown action of a group (`log frob`). */
function unknownWord(argv: readonly string[]): string {
  const words = argv.filter((w) => !w.startsWith("-"));
  if (words.length > 1 && Object.prototype.hasOwnProperty.call(GROUP_COMMANDS, words[0])) {
    return `${words[0]}: unknown action "${words[1]}" (${GROUP_COMMANDS[words[0]].join(", ")})`;
  }
  return `unknown command "${argv[0]}"`;
}

/** Run the CLI with `argv` (without node and script) and `table`'s commands; resolves to the exit code. */
export async function runCli(argv: string[], io: CliIO, table: CommandTable): Promise<number> {
  cliState.exitCode = ExitCode.OK;
  cliState.io = io;
  cliState.onInterrupt = [];
  cliState.command = null;
  // `fwseal help <command>` is `fwseal <command> --help`.
  if (argv[0] === "help") {
    if (argv.length > 1 && !Object.prototype.hasOwnProperty.call(table, argv[1])) {
      return reportError(new FwsealError("USAGE", `unknown command "${argv[1]}" (see fwseal --help)`), argv.includes("--json"));
    }
    argv = argv.length > 1 ? [...argv.slice(1), "--help"] : ["--help"];
  }
  cliState.command = commandOf(argv, table);
  cliState.verbosity = argv.includes("-q") || argv.includes("--quiet") ? 0 : argv.includes("-v") || argv.includes("--verbose") ? 2 : 1;
  cliState.color = colorWanted(io.stderrIsTTY);
  // Signing without an audit log is said once, where someone reads it: on a terminal, or with -v.
  let unauditedSaid = false;
  setUnauditedNotice((line) => {
    if (unauditedSaid || !(io.stderrIsTTY || cliState.verbosity >= 2)) return;
    unauditedSaid = true;
    note(line);
  });
  if (io === defaultIO) installSignalCleanup();
  const wantsJson = argv.includes("--json");
  let usageFailure: string | null = null;
  let commands;
  try {
    commands = await loadCommands(table, argv.length > 0 && !argv[0].startsWith("-") ? argv[0] : undefined);
  } catch (e) {
    return reportError(e, wantsJson);
  }

  const parser = yargs(argv)
    .scriptName("fwseal")
    .usage("$0 <command> [options]\n\nSign firmware updates on the host, verify them chunk by chunk on the device.")
    .command(commands)
    .option("json", { type: "boolean", description: "Machine-readable output on stdout", global: true })
    .option("quiet", { alias: "q", type: "boolean", description: "No progress bars or notes on stderr (errors and warnings stay)", global: true })
    .option("verbose", { alias: "v", type: "boolean", description: "Also say which profile and defaults were used, and why signing was not audited", global: true })
    .option("profile", { type: "string", description: "Project profile file (default: the nearest fwseal.json or package.json \"fwseal\" key; \"none\": no profile; or $FWSEAL_PROFILE)", global: true })
    .conflicts("quiet", "verbose")
    .middleware(profileDefaults(argv) as unknown as (a: object) => void, true)
    .middleware(argumentChecks(argv) as unknown as (a: object) => void)
    .demandCommand(1, "no command given")
    .recommendCommands()
    .strict()
    .help()
    .alias("h", "help")
    .version(FWSEAL_VERSION)
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
      if (usageFailure.startsWith("Did you mean")) usageFailure = `${unknownWord(argv)}. ${usageFailure}`;
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
