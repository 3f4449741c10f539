// The checking commands: the ones a release pipeline or an update server runs once per
// artifact, so their start-up is what users feel most. The build gives them a bundle of their
// own (scripts/build-cli-bundle.mjs, host/cli/cli-check.ts) without the other commands' code,
// which bin/fwseal.js runs for these names (bin/cli-loader.js CHECK_COMMANDS, held equal to
// this table's names by test/system/cli-bundle.test.ts).
import type { CommandTable } from "./table.js";

export const checkCommandLoaders: CommandTable = {
  inspect: () => import("./inspect.js"),
  verify: () => import("./verify.js")
};
