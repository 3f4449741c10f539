// Every fwseal command, one module each, loaded on demand: `fwseal pack ...` imports only
// pack's module (and what it needs), which keeps start-up fast; `fwseal --help` and unknown
// commands load them all. Owners of other commands add ONE line here:
//   "<command name as typed>": () => import("../../commands/<module>.js"),
import type { CommandModule } from "yargs";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCommand = CommandModule<any, any>;
type Loader = () => Promise<{ default: AnyCommand }>;

export const commandLoaders: Record<string, Loader> = {
  keygen: () => import("./keygen.js"),
  pubkey: () => import("./pubkey.js"),
  delegate: () => import("./delegate.js"),
  pack: () => import("./pack.js"),
  inspect: () => import("./inspect.js"),
  verify: () => import("./verify.js"),
  extract: () => import("./extract.js"),
  flash: () => import("./flash.js"),
  "device-sim": () => import("./device-sim.js"),
  "device-conformance": () => import("./device-conformance.js"),
  sign: () => import("./sign.js"),
  "attach-signature": () => import("./attach-signature.js"),
  tbs: () => import("./tbs.js"),
  finalize: () => import("./finalize.js"),
  "retire-root": () => import("./retire-root.js"),
  audit: () => import("./audit.js"),
  espruino: () => import("./espruino.js"),
  init: () => import("./init.js"),
  completion: () => import("./completion.js"),
  log: () => import("./log.js"),
  witness: () => import("./witness.js")
};

/** The command modules needed for `name` (all of them when unknown or absent), in table order. */
export async function loadCommands(name?: string): Promise<AnyCommand[]> {
  const one = name !== undefined && Object.prototype.hasOwnProperty.call(commandLoaders, name) ? commandLoaders[name] : undefined;
  const loaders = one ? [one] : Object.values(commandLoaders);
  return (await Promise.all(loaders.map((l) => l()))).map((m) => m.default);
}
