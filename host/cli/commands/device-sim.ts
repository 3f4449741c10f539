// fwseal device-sim: the simulated device on a serial line (a fresh pty pair by default).
// Flash and state persist under --state, so stopping and restarting the simulator is a
// power cycle.
import * as path from "node:path";
import * as fs from "node:fs";
import type { CommandModule } from "yargs";
import { loadPublicKey } from "../../keys/keys.js";
import { vendorUuid, classUuid, formatUuid } from "../../../formats/host-only/uuid.js";
import { SimDevice, SIM_DEFAULTS } from "../../../device-sim/sim/sim-device.js";
import { attachDevice, createPtyPair, type PtyPair } from "../../../device-sim/sim/serial-runner.js";
import { out, err } from "../output.js";
import { bootCheckDoc, outDocumentLine, RUN_MODES, runModeFields } from "../json-document.js";
import { Limits } from "../../../formats/device-safe/limits.js";
import { logPolicyFromArgs } from "../log-keys.js";
import { FwsealError, outputError } from "../../errors.js";
import { computeLayout } from "../../../device-sim/core/boot/flash-layout.js";
import { checkSerialPortPath, serialOpenError } from "../../device/flash-link.js";
import { lockStateDir } from "../state-lock.js";
import { algorithmMask, type DevicePolicyArgs } from "../key-options.js";

/**
 * mkdir -p for --state, one level at a time: Node 20's recursive mkdirSync spins forever
 * on some paths (e.g. under /proc); errors become one line, exit 5.
 */
function makeStateDir(dir: string): void {
  let st: fs.Stats | null = null;
  try {
    st = fs.statSync(dir);
  } catch {
    st = null;
  }
  if (st) {
    if (!st.isDirectory()) throw new FwsealError("OUTPUT_UNWRITABLE", `--state ${dir}: not a directory`);
    return;
  }
  const parent = path.dirname(dir);
  if (parent !== dir) makeStateDir(parent);
  try {
    fs.mkdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw outputError(`--state ${dir}`, e);
  }
}

/** One event: one line of JSON, a document of the same schema per line. */
const outEvent = outDocumentLine;

/** Positive integers where the simulator needs them, and a flash that holds the A/B layout. */
function checkGeometry(a: Args): void {
  for (const flag of ["page-size", "flash-size", "max-data", "window", "baud"] as const) {
    const v = a[flag];
    if (!Number.isSafeInteger(v) || v <= 0) throw new FwsealError("USAGE", `--${flag} must be a positive integer`);
  }
  const mw = a["max-window-bits"];
  if (!Number.isSafeInteger(mw) || (mw !== 0 && (mw < 9 || mw > 15))) throw new FwsealError("USAGE", `--max-window-bits ${mw}: 9..15, or 0 for a device without a decoder`);
  const line = a["line-rate"];
  if (!Number.isSafeInteger(line) || line < 0) throw new FwsealError("USAGE", "--line-rate must be a non-negative integer (0: unthrottled)");
  const page = a["page-size"];
  if (page < 256 || (page & (page - 1)) !== 0) throw new FwsealError("USAGE", `--page-size ${page}: a power of two, at least 256`);
  if (computeLayout(page, a["flash-size"]) === null) {
    let min = page;
    while (computeLayout(page, min) === null) min += page;
    throw new FwsealError("USAGE", `--flash-size ${a["flash-size"]}: too small for the device layout with ${page}-byte pages (two state copies, two envelope areas, two slots): at least ${min} bytes`);
  }
}

interface Args extends DevicePolicyArgs {
  pty?: boolean;
  port?: string;
  state: string;
  "log-key"?: string[];
  "witness-key"?: string[];
  "witness-quorum"?: number;
  "page-size": number;
  "flash-size": number;
  "max-data": number;
  window: number;
  "max-window-bits": number;
  baud: number;
  "line-rate": number;
  json?: boolean;
}

const command: CommandModule<object, Args> = {
  command: "device-sim",
  describe: "Run the simulated device (A/B slots, boot-time verification) on a serial line",
  builder: (y) =>
    y
      .option("pty", { type: "boolean", description: "Create a pseudo-terminal pair with socat and print the host side (default)" })
      .option("port", { type: "string", description: "Serve on this serial device instead" })
      .option("state", { type: "string", demandOption: true, description: "Directory for the flash image (created if missing)" })
      .option("root", { type: "string", array: true, demandOption: true, description: "Burned-in root public key(s), .pub file or hex (up to 4)" })
      .option("vendor", { type: "string", demandOption: true, description: "Vendor domain or UUID" })
      .option("class", { type: "string", demandOption: true, description: "Device class name or UUID" })
      .option("threshold", { type: "number", default: 1, description: "Signatures required (distinct keys)" })
      .option("root-threshold", { type: "number", default: 1, description: "Distinct roots those signatures must come through (2: two-person rule)" })
      .option("require-alg", { type: "string", array: true, description: "Hybrid policy: the counted signatures must include each of these algorithms (ed25519, hss-lms)" })
      .option("boot-alg", { type: "string", array: true, description: "Algorithms whose signatures the boot check verifies (default: the install policy)" })
      .option("log-key", { type: "string", array: true, description: "Require logged bundles: the log's vkey (string or file)" })
      .option("witness-key", { type: "string", array: true, description: "A trusted witness's cosignature vkey (string or file)" })
      .option("witness-quorum", { type: "number", default: 0, description: "Valid cosignatures by distinct trusted witnesses required" })
      .option("page-size", { type: "number", default: SIM_DEFAULTS.pageSize, description: "Flash erase page size" })
      .option("flash-size", { type: "number", default: SIM_DEFAULTS.flashSize, description: "Flash size in bytes" })
      .option("max-data", { type: "number", default: SIM_DEFAULTS.maxData, description: "Largest DATA payload per frame" })
      .option("window", { type: "number", default: SIM_DEFAULTS.window, description: "DATA frames the host may have in flight" })
      .option("max-window-bits", { type: "number", default: SIM_DEFAULTS.maxWindowBits, description: "Compressed and delta payloads: the largest deflate window (bits, 9..15) the device decodes; 0: no decoder" })
      .option("baud", { type: "number", default: 115200, description: "Baud rate (--port)" })
      .option("line-rate", { type: "number", default: 0, description: "Consume input no faster than a UART at this baud rate (a pty has no speed of its own); 0 = unthrottled" })
      .example("$0 device-sim --state /tmp/dev --root root.pub --vendor acme.example --class sensor-v3", "Simulator on a new pty; prints its path")
      .example("$0 device-sim --port /dev/ttyUSB0 --state ./dev --root root.pub --vendor acme.example --class sensor-v3", "Serve on a real serial port") as never,
  handler: async (a) => {
    // Every check that can fail comes before anything is created (state directory, ptys).
    checkGeometry(a);
    if (a.port !== undefined) checkSerialPortPath(a.port);
    if (a.root.length < 1 || a.root.length > 4) throw new FwsealError("USAGE", "--root: give 1 to 4 root public keys");
    const roots: Uint8Array[] = [];
    for (const r of a.root) roots.push(await loadPublicKey(r));
    for (const [flag, v, max] of [["--threshold", a.threshold, Limits.MAX_SIGNERS], ["--root-threshold", a["root-threshold"], a.root.length]] as const) {
      if (!Number.isInteger(v) || v < 1 || v > max) throw new FwsealError("USAGE", `${flag}: must be 1..${max}`);
    }
    const vendorId = vendorUuid(a.vendor);
    const classId = classUuid(vendorId, a.class);
    const logPolicy = logPolicyFromArgs(a);
    makeStateDir(a.state);
    const unlock = lockStateDir(a.state);
    process.on("exit", unlock);
    const device = new SimDevice({
      roots,
      vendorId,
      classId,
      threshold: a.threshold,
      rootThreshold: a["root-threshold"],
      requiredAlgorithms: algorithmMask(a["require-alg"], "--require-alg"),
      bootAlgorithms: algorithmMask(a["boot-alg"], "--boot-alg"),
      pageSize: a["page-size"],
      flashSize: a["flash-size"],
      maxData: a["max-data"],
      window: a.window,
      maxWindowBits: a["max-window-bits"],
      flashFile: path.join(a.state, "flash.bin"),
      ...logPolicy
    });
    let pty: PtyPair | null = null;
    let portPath = a.port;
    if (!portPath) {
      try {
        pty = await createPtyPair(a.state);
      } catch (e) {
        device.close();
        unlock();
        throw new FwsealError("DEVICE", (e as Error).message, { cause: e });
      }
      portPath = pty.devicePath;
      const p = pty;
      process.on("exit", () => p.proc.kill("SIGTERM"));
    }
    const hostPath = pty ? pty.hostPath : portPath;
    device.onBoot = (d) => {
      if (a.json) {
        const slot = d.app.runningSlot;
        outEvent({ event: "boot", runningSlot: slot < 0 ? null : slot, ...runModeFields(RUN_MODES[d.app.runMode] ?? "recovery"), bootCheck: Array.from(d.app.bootReason, bootCheckDoc), text: d.describeBoot() });
      }
      else err(`device-sim: ${d.describeBoot()}`);
    };
    let port;
    try {
      port = await attachDevice(device, portPath, a.baud, a["line-rate"]);
    } catch (e) {
      device.close();
      if (pty) await pty.close(); // no dangling pty links
      unlock();
      throw serialOpenError(portPath, e);
    }
    if (a.json) outEvent({ event: "ready", port: hostPath, devicePort: portPath, vendorId: formatUuid(vendorId), classId: formatUuid(classId), state: a.state });
    else out(pty ? `device-sim: serial port ${hostPath}` : `device-sim: serving on ${portPath}`);
    await new Promise<void>((resolve) => {
      const stop = (): void => resolve();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      port.once("close", stop);
    });
    if (port.isOpen) await new Promise<void>((r) => port.close(() => r()));
    device.close();
    if (pty) await pty.close();
    unlock();
  }
};
export default command;
