// The fwseal command line, every command (host/cli/commands/index.ts). bin/fwseal.js runs it
// (as the single-file build, scripts/build-cli-bundle.mjs, when that is current).
import { runCli } from "./run-cli.js";
import { commandLoaders } from "./commands/index.js";
import { defaultIO, type CliIO } from "./output.js";

/** Run the CLI with `argv` (without node and script); resolves to the exit code. */
export function main(argv: string[], io: CliIO = defaultIO): Promise<number> {
  return runCli(argv, io, commandLoaders);
}
