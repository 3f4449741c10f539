// A table of commands: name as typed -> a loader importing the command's module on demand,
// so that a command run evaluates only its own module (and what that needs). The CLI runs
// over one table (host/cli/run-cli.ts): every command (./index.ts), or the checking commands
// alone (./check-commands.ts).
import type { CommandModule } from "yargs";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCommand = CommandModule<any, any>;
export type CommandLoader = () => Promise<{ default: AnyCommand }>;
export type CommandTable = Record<string, CommandLoader>;

/** The command modules needed for `name` (all of the table's when unknown or absent), in table order. */
export async function loadCommands(table: CommandTable, name?: string): Promise<AnyCommand[]> {
  const one = name !== undefined && Object.prototype.hasOwnProperty.call(table, name) ? table[name] : undefined;
  const loaders = one ? [one] : Object.values(table);
  return (await Promise.all(loaders.map((l) => l()))).map((m) => m.default);
}
