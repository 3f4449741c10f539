// fwseal flash: update a device over a serial line (formats/PROTOCOL.md).
import type { CommandModule } from "yargs";
import { flashDevice, retiredList, type FlashProgress, type FlashResult } from "../../device/flash.js";
import type { DeviceInfo } from "../../device/flash-link.js";
import { cliState, err, out, formatBytes } from "../output.js";
import { deviceDoc, outDocument } from "../json-document.js";
import { FwsealError } from "../../errors.js";
import { refuseDraft } from "../draft-notice.js";
import { reasonName } from "../../../formats/device-safe/reasons.js";
import { formatUuid } from "../../../formats/host-only/uuid.js";

interface Args {
  bundle?: string;
  port: string;
  baud: number;
  resume?: boolean;
  reboot?: boolean;
  confirm?: boolean;
  "retire-root"?: string;
  force?: boolean;
  espruino?: boolean;
  timeout?: number;
  json?: boolean;
}

function clock(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return "--:--";
  const s = Math.round(sec);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** Progress bar on stderr (TTY only). Returns a function that clears the line. */
export function progressBar(label: string): { update(p: FlashProgress): void; done(): void } {
  let last = 0;
  let shown = false;
  return {
    update(p) {
      const now = Date.now();
      if (now - last < 100 && p.acked < p.total) return;
      last = now;
      const width = 30;
      const frac = p.total > 0 ? p.acked / p.total : 0;
      const fill = Math.round(frac * width);
      const bar = "#".repeat(fill) + "-".repeat(width - fill);
      const tail = p.phase === "verify-envelope" ? "device checking signature..." : `${formatBytes(Math.round(p.bytesPerSec))}/s  ETA ${clock(p.etaSec)}`;
      cliState.io.stderr(`\r${label} [${bar}] ${String(Math.floor(frac * 100)).padStart(3)}%  ${formatBytes(p.acked)} / ${formatBytes(p.total)}  ${tail}\x1b[K`);
      shown = true;
    },
    done() {
      if (shown) cliState.io.stderr("\r\x1b[K");
    }
  };
}

/** The command that continues this install (flash resumes by itself; --resume says so). */
function resumeCommand(a: Args): string {
  const q = (s: string): string => (/^[\w./:@=+-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);
  const extra = [a.baud !== 115200 ? `--baud ${a.baud}` : "", a.espruino ? "--espruino" : "", a.reboot ? "--reboot" : "", a.confirm ? "--confirm" : ""].filter((x) => x !== "");
  return ["fwseal flash", q(a.bundle ?? ""), "--port", q(a.port), "--resume", ...extra].join(" ");
}

function slotName(s: number): string {
  return s < 0 ? "-" : "AB"[s];
}

export function describeDevice(d: DeviceInfo): string[] {
  const lines: string[] = [];
  const run = d.runningSlot < 0 ? "no verified image (recovery mode)" : `slot ${slotName(d.runningSlot)} (${d.slots[d.runningSlot].version || "?"}, sequence ${d.slots[d.runningSlot].sequence})${d.runMode === "test" ? ", TEST mode: not confirmed yet" : ""}`;
  lines.push(`device: vendor ${formatUuid(d.vendorId)} class ${formatUuid(d.classId)}`);
  lines.push(`  running: ${run}`);
  for (let s = 0; s < 2; s++) {
    const sl = d.slots[s];
    const chk = d.bootCheck[s];
    const bc = chk === null ? "" : chk === 0 ? ", boot check: verified" : `, boot check: FAILED ${reasonName(chk)}`;
    lines.push(`  slot ${slotName(s)}: ${sl.state}${sl.state !== "empty" ? ` ${sl.version} (sequence ${sl.sequence}, ${formatBytes(sl.imageSize)})` : ""}${bc}`);
  }
  if (d.reverted) lines.push("  the last boot reverted an unconfirmed test image");
  lines.push(`  anti-rollback: minimum sequence ${d.minSequence}, minimum key epoch ${d.minEpoch}`);
  if (d.roots) lines.push(`  root slots: ${d.roots.count}, retired: ${retiredList(d.roots.retiredMask)} (statement counter ${d.roots.statementCounter})`);
  if (d.install) lines.push(`  interrupted install in slot ${slotName(d.install.slot)}: resume point chunk ${d.install.nextChunk} of ${d.install.chunkCount}`);
  return lines;
}

const command: CommandModule<object, Args> = {
  command: "flash [bundle]",
  describe: "Update a device over a serial line (verify-as-you-go, resumable)",
  builder: (y) =>
    y
      .positional("bundle", { type: "string", description: "Bundle to install (omit to only query, --reboot or --confirm)" })
      .option("port", { alias: "p", type: "string", demandOption: true, description: "Serial port path (e.g. /dev/ttyACM0 or a pty)" })
      .option("baud", { type: "number", default: 115200, description: "Baud rate" })
      .option("resume", { type: "boolean", description: "Continue an interrupted install of this bundle from the device's last verified chunk (the default when the device reports one; --no-resume starts over)" })
      .option("reboot", { type: "boolean", description: "Reboot after installing: the device verifies the new image and runs it in test mode" })
      .option("confirm", { type: "boolean", description: "Confirm the running test image (makes it permanent, advances anti-rollback)" })
      .option("retire-root", { type: "string", description: "Apply this root-retirement statement (fwseal retire-root -o ...) after any install/reboot/confirm" })
      .option("force", { type: "boolean", description: "Skip the host-side pre-checks (the device still checks everything)" })
      .option("espruino", { type: "boolean", description: "The port is an Espruino board's console (fwseal espruino provision): switch it to update mode first" })
      .option("timeout", { type: "number", description: "Reply timeout in ms (default 3000)" })
      .example("$0 flash fw.fwseal --port /dev/ttyACM0 --reboot", "Install, reboot into test mode")
      .example("$0 flash --port /dev/ttyACM0 --confirm", "Confirm the running test image")
      .example("$0 flash fw.fwseal --port /dev/ttyACM0 --resume", "Continue after a cable pull")
      .example("$0 flash fw-root1.fwseal --port /dev/ttyACM0 --reboot --confirm --retire-root retire-slot0.cose", "Move to a release signed through root 1, then retire root slot 0") as never,
  handler: async (a) => {
    if (!Number.isSafeInteger(a.baud) || a.baud <= 0) throw new FwsealError("USAGE", "--baud must be a positive integer, e.g. 115200");
    if (a.timeout !== undefined && (!Number.isSafeInteger(a.timeout) || a.timeout <= 0)) throw new FwsealError("USAGE", "--timeout must be a positive number of milliseconds");
    if (a.bundle !== undefined) {
      await refuseDraft(a.bundle);
      // Interrupted (Ctrl-C, a cable pulled): the device keeps every verified chunk.
      cliState.onInterrupt = [`the device keeps what it verified; resume with: ${resumeCommand(a)}`];
    }
    const tty = cliState.io.stderrIsTTY && !a.json && cliState.verbosity >= 1; // -q: no bar
    const bar = progressBar("flashing");
    const logs: string[] = [];
    let result: FlashResult;
    try {
      result = await flashDevice({
        port: a.port,
        baud: a.baud,
        bundle: a.bundle,
        resume: a.resume,
        reboot: a.reboot,
        confirm: a.confirm,
        retireRoot: a["retire-root"],
        force: a.force,
        espruino: a.espruino,
        timeoutMs: a.timeout,
        onProgress: tty ? (p) => bar.update(p) : undefined,
        onLog: (l) => {
          logs.push(l);
          if (!a.json) {
            bar.done();
            err(`fwseal: ${l}`);
          }
        }
      });
    } catch (e) {
      bar.done();
      if (e instanceof FwsealError && e.code === "BUNDLE_REJECTED" && !/^(not sent|root-retirement)/.test(e.message)) {
        throw new FwsealError(e.code, `${e.message}; the active image is untouched`, { exitCode: e.exitCode, reason: e.reason, chunk: e.chunk, details: e.details });
      }
      if (e instanceof FwsealError && e.code === "DEVICE" && (e as { flashResult?: unknown }).flashResult !== undefined) {
        throw new FwsealError(e.code, `${e.message}; the device keeps what it verified: resume with ${resumeCommand(a)}`, { exitCode: e.exitCode, cause: e });
      }
      throw e;
    }
    bar.done();
    if (a.json) {
      outDocument({
        outcome: result.outcome, port: result.port, device: deviceDoc(result.device), bundle: result.bundle ?? null, resumedFrom: result.resumedFrom ?? null,
        transfer: result.transfer ?? null, boot: result.boot ? deviceDoc(result.boot) : null, confirmed: result.confirmed ?? null,
        notConfirmed: result.notConfirmed ?? null, retired: result.retired ?? null, logs
      });
      return;
    }
    if (result.outcome === "installed" && result.transfer && result.bundle) {
      const t = result.transfer;
      out(
        `installed ${result.bundle.version} (sequence ${result.bundle.sequence}) into the device's spare slot: ${formatBytes(t.bytes)} in ${(t.ms / 1000).toFixed(1)} s (${formatBytes(Math.round(t.bytesPerSec))}/s, payload/wire ${t.payloadOverWire.toFixed(3)}, ${t.retransmits} frames resent)` +
          (result.resumedFrom ? `, resumed at byte ${result.resumedFrom}` : "")
      );
    }
    if (result.boot) {
      const b = result.boot;
      const s = b.runningSlot;
      if (s >= 0 && b.bootCheck[s] === 0) out(`rebooted: boot loader verified slot ${"AB"[s]} (signature + chunk chain over ${formatBytes(b.slots[s].imageSize)}) and runs ${b.slots[s].version}${b.runMode === "test" ? " in test mode" : ""}`);
      else out(`rebooted: ${describeDevice(b)[1].trim()}`);
    }
    if (result.notConfirmed) out(result.notConfirmed);
    if (result.confirmed) out(`confirmed: sequence ${result.confirmed.sequence} is now permanent (anti-rollback minimum ${result.device.minSequence})`);
    if (result.retired) {
      const r = result.retired;
      out(
        r.alreadyApplied
          ? `root slot ${r.slot} retired (statement counter ${r.counter} found applied after a lost reply); retired slots: ${retiredList(r.retiredMask)}`
          : `root slot ${r.slot} retired on the device (statement counter ${r.counter}, persisted); retired slots: ${retiredList(r.retiredMask)}`
      );
    }
    if (result.outcome === "info" && !result.boot && !result.confirmed && !result.retired) for (const l of describeDevice(result.device)) out(l);
  }
};
export default command;
