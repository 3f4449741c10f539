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
import demo from "./demo.js";
import deviceConformance from "./device-conformance.js";
import sign from "./sign.js";
import attachSignature from "./attach-signature.js";
import tbs from "./tbs.js";
import finalize from "./finalize.js";
import retireRoot from "./retire-root.js";
import audit from "./audit.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [keygen, pubkey, delegate, pack, inspect, verify, extract, flash, deviceSim, demo, deviceConformance, sign, attachSignature, tbs, finalize, retireRoot, audit];
