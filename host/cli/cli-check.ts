// The fwseal command line with the checking commands alone (host/cli/commands/check-commands.ts):
// the entry of the build's small bundle (scripts/build-cli-bundle.mjs), which bin/fwseal.js runs
// for those commands. Same behaviour as cli.ts for them: same runCli, same command modules.
import { runCli } from "./run-cli.js";
import { checkCommandLoaders } from "./commands/check-commands.js";
import { defaultIO, type CliIO } from "./output.js";

/** Run `fwseal inspect ...` or `fwseal verify ...` (`argv` without node and script); resolves to the exit code. */
export function main(argv: string[], io: CliIO = defaultIO): Promise<number> {
  return runCli(argv, io, checkCommandLoaders);
}
