// fwseal espruino provision: make an Espruino board an fwseal device over its console
// (host/device/espruino-provision.ts). Updates then go through `fwseal flash --espruino`.
import type { CommandModule } from "yargs";
import { loadPublicKey } from "../../keys/keys.js";
import { vendorUuid, classUuid } from "../../../formats/host-only/uuid.js";
import { Limits } from "../../../formats/device-safe/limits.js";
import { provisionEspruino, espruinoConfig } from "../../device/espruino-provision.js";
import { out, err } from "../output.js";
import { outDocument } from "../json-document.js";
import { FwsealError } from "../../errors.js";
import { algorithmMask, type DevicePolicyArgs } from "../key-options.js";

interface Args extends DevicePolicyArgs {
  action: string;
  port: string;
  baud: number;
  "slot-size": number;
  "max-chunk": number;
  "max-window-bits": number;
  "max-data": number;
  window: number;
  idle: number;
  raw?: boolean;
  "boot-check": string;
  force?: boolean;
  json?: boolean;
}

const command: CommandModule<object, Args> = {
  command: "espruino <action>",
  describe: "Espruino boards: provision (upload the device core, roots, identity and boot check over the console)",
  builder: (y) =>
    y
      .positional("action", { type: "string", choices: ["provision"], description: "What to do" })
      .option("port", { alias: "p", type: "string", demandOption: true, description: "The board's serial port (its JavaScript console)" })
      .option("baud", { type: "number", default: 115200, description: "Baud rate" })
      .option("root", { type: "string", array: true, demandOption: true, description: "Root public key(s) to burn in, .pub file or hex (up to 4)" })
      .option("vendor", { type: "string", demandOption: true, description: "Vendor domain or UUID" })
      .option("class", { type: "string", demandOption: true, description: "Device class name or UUID" })
      .option("threshold", { type: "number", default: 1, description: "Signatures required (distinct keys)" })
      .option("root-threshold", { type: "number", default: 1, description: "Distinct roots those signatures must come through" })
      .option("require-alg", { type: "string", array: true, description: "Hybrid policy: the counted signatures must include each of these algorithms (ed25519, hss-lms)" })
      .option("boot-alg", { type: "string", array: true, description: "Algorithms whose signatures the boot check verifies (default: the install policy)" })
      .option("slot-size", { type: "number", default: 68 * 1024, description: "Bytes per A/B slot (Storage pages are used only as written)" })
      .option("max-chunk", { type: "number", default: 4096, description: "Largest bundle chunk the board accepts (its verifier buffer)" })
      .option("max-data", { type: "number", default: 2048, description: "DATA payload per frame" })
      .option("max-window-bits", { type: "number", default: 12, description: "Compressed and delta payloads: the largest deflate window (bits, 9..15) the board decodes (a ring of 2^bits bytes); 0: no decoder" })
      .option("window", { type: "number", default: 4, description: "DATA frames in flight" })
      .option("idle", { type: "number", default: 5, description: "Seconds of silence that end an update session and give the console back" })
      .option("boot-check", { type: "string", choices: ["recorded", "full"], default: "recorded", description: "recorded: signatures checked at install, each start re-hashes the image against the recorded signed chain head; full: signatures at every start too (minutes on a 64 MHz board)" })
      .option("raw", { type: "boolean", description: "Slots hold raw images (verified, not run) instead of a JavaScript application" })
      .option("force", { type: "boolean", description: "Replace other roots or identity (erases the board's slots and state)" })
      .example("$0 espruino provision --port /dev/ttyACM0 --root root.pub --vendor acme.example --class sensor-v3", "Provision a board; then: fwseal flash app.fwseal --port /dev/ttyACM0 --espruino --reboot --confirm") as never,
  handler: async (a) => {
    if (a.root.length < 1 || a.root.length > 4) throw new FwsealError("USAGE", "--root: give 1 to 4 root public keys");
    if (!Number.isSafeInteger(a.baud) || a.baud <= 0) throw new FwsealError("USAGE", "--baud must be a positive integer, e.g. 115200");
    const mw = a["max-window-bits"];
    if (!Number.isSafeInteger(mw) || (mw !== 0 && (mw < 9 || mw > 15))) throw new FwsealError("USAGE", `--max-window-bits ${mw}: 9..15, or 0 for a board without a decoder`);
    for (const [flag, v, max] of [["--threshold", a.threshold, Limits.MAX_SIGNERS], ["--root-threshold", a["root-threshold"], a.root.length]] as const) {
      if (!Number.isInteger(v) || v < 1 || v > max) throw new FwsealError("USAGE", `${flag}: must be 1..${max}`);
    }
    const pageSize = 4096;
    if (!Number.isInteger(a["slot-size"]) || a["slot-size"] < pageSize || a["slot-size"] % pageSize !== 0) throw new FwsealError("USAGE", `--slot-size: a positive multiple of ${pageSize}`);
    const roots: Uint8Array[] = [];
    for (const r of a.root) roots.push(await loadPublicKey(r));
    const vendorId = vendorUuid(a.vendor);
    const classId = classUuid(vendorId, a.class);
    const config = espruinoConfig(roots, vendorId, classId, {
      threshold: a.threshold,
      rootThreshold: a["root-threshold"],
      requiredAlgorithms: algorithmMask(a["require-alg"], "--require-alg"),
      bootAlgorithms: algorithmMask(a["boot-alg"], "--boot-alg"),
      flashSize: 2 * pageSize + 2 * Limits.MAX_ENVELOPE + 2 * a["slot-size"],
      maxChunk: a["max-chunk"],
      maxWindowBits: a["max-window-bits"],
      maxData: a["max-data"],
      window: a.window,
      idle: a.idle,
      launch: !a.raw,
      bootCheck: a["boot-check"] === "full" ? "full" : "recorded"
    });
    const r = await provisionEspruino({ port: a.port, baud: a.baud, config, force: a.force, onLog: a.json ? undefined : (l) => err(`fwseal: ${l}`) });
    if (a.json) outDocument({ port: a.port, ...r });
    else out(`provisioned ${a.port}: ${r.bytes} bytes in ${(r.ms / 1000).toFixed(1)} s; ${r.bootLine}`);
  }
};
export default command;
