// Every fwseal command, one module each. Owners of other commands add one import line
// and one array entry here.
import type { CommandModule } from "yargs";
import keygen from "./keygen.js";
import pubkey from "./pubkey.js";
import delegate from "./delegate.js";
import pack from "./pack.js";
import inspect from "./inspect.js";
import verify from "./verify.js";
import extract from "./extract.js";
import flash from "./flash.js";
import deviceSim from "./device-sim.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [keygen, pubkey, delegate, pack, inspect, verify, extract, flash, deviceSim];
