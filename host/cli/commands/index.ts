// Every fwseal command, one module each, loaded on demand: `fwseal pack ...` imports only
// pack's module (and what it needs), which keeps start-up fast; `fwseal --help` and unknown
// commands load them all. Owners of other commands add ONE line here:
//   "<command name as typed>": () => import("../../commands/<module>.js"),
import { checkCommandLoaders } from "./check-commands.js";
import type { CommandTable } from "./table.js";

export const commandLoaders: CommandTable = {
  keygen: () => import("./keygen.js"),
  pubkey: () => import("./pubkey.js"),
  delegate: () => import("./delegate.js"),
  pack: () => import("./pack.js"),
  inspect: checkCommandLoaders.inspect,
  verify: checkCommandLoaders.verify,
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
