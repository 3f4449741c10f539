// device-sim and flash as a pipeline sees them: their --json documents against the schema
// (schema/fwseal-1.schema.json, Ajv), one simulator per state directory, and interrupted
// installs that say how to resume and resume when flash runs again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import { fwseal, fwsealOk, fwsealProcess, tempDir, FWSEAL_BIN } from "../helpers/cli.js";
import { writeImage } from "../helpers/images.js";
import { schemaValidator, type SchemaProblem } from "../../dev/json-schema-check.js";
import { flashDevice } from "../../host/device/flash.js";
import { ExitCode } from "../../host/exit-codes.js";

const dir = tempDir("flash-resume");
const f = (name: string): string => path.join(dir, name);
const TARGET = ["--vendor", "acme.example", "--class", "sensor-v3"];
let validate: (doc: unknown) => SchemaProblem[];

interface Sim {
  proc: ChildProcess;
  port: string;
  lines: string[];
  stop(): Promise<void>;
}

/** `fwseal device-sim --json` as a process; resolves once its ready event names the port. */
async function startSim(state: string, extra: string[] = []): Promise<Sim> {
  const proc = spawn(process.execPath, [FWSEAL_BIN, "device-sim", "--json", "--state", state, "--root", f("root.pub"), ...TARGET, ...extra], { stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let err = "";
  proc.stderr?.setEncoding("utf8").on("data", (s: string) => (err += s));
  const port = await new Promise<string>((resolve, reject) => {
    let buf = "";
    const t = setTimeout(() => reject(new Error(`no ready event: ${buf} ${err}`)), 30_000);
    proc.once("exit", (code) => reject(new Error(`device-sim exited ${code}: ${err}`)));
    proc.stdout?.setEncoding("utf8").on("data", (s: string) => {
      buf += s;
      for (;;) {
        const i = buf.indexOf("\n");
        if (i < 0) break;
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
        const doc = JSON.parse(lines[lines.length - 1]) as { event?: string; port?: string };
        if (doc.event === "ready" && doc.port) {
          clearTimeout(t);
          resolve(doc.port);
        }
      }
    });
  });
  return {
    proc,
    port,
    lines,
    stop: async () => {
      if (proc.exitCode !== null) return;
      const done = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGINT");
      await done;
    }
  };
}

beforeAll(async () => {
  validate = schemaValidator();
  await fwsealOk(["keygen", "-o", f("root")]);
  for (const [name, size, seq] of [["v0", 20_000, 0], ["v1", 60_000, 1], ["v2", 200_000, 2], ["v3", 200_000, 3]] as const) {
    writeImage(dir, `${name}.bin`, size, seq);
    await fwsealOk(["pack", f(`${name}.bin`), "-k", f("root.key"), "-r", f("root.pub"), "--seq", String(seq), ...TARGET, "--fw-version", `1.0.${seq}`, "--chunk-size", "1024", "-o", f(`${name}.fwb`)]);
  }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("device-sim and flash --json (schema fwseal/1)", () => {
  it("ready and boot events, flash documents, nothing-to-confirm: all conform; a second simulator on the same state is refused", async () => {
    const sim = await startSim(f("dev-a"));
    try {
      const second = fwsealProcess(dir, ["device-sim", "--state", f("dev-a"), "--root", f("root.pub"), ...TARGET], { timeout: 20_000 });
      expect(second.code).toBe(ExitCode.OUTPUT);
      expect(second.stderr.trim()).toMatch(/^fwseal: error: --state .*dev-a: in use by another simulator \(process \d+\); stop it first or give another --state$/);
      const installed = await fwseal(["flash", f("v1.fwb"), "--port", sim.port, "--reboot", "--confirm", "--json"]);
      expect(installed.code, installed.stderr).toBe(0);
      const doc = JSON.parse(installed.stdout);
      expect(validate(doc)).toEqual([]);
      expect(doc).toMatchObject({ command: "flash", outcome: "installed", confirmed: { sequence: 1 }, notConfirmed: null, device: { runMode: "normal", runModeCode: 1, runningSlot: 0 } });
      expect(doc.boot).toMatchObject({ runMode: "test", runModeCode: 2, bootCheck: [{ reason: 0, reasonName: "OK" }, null] });
      // --confirm on a device already running a confirmed image: says so, sends nothing.
      const again = await fwseal(["flash", "--port", sim.port, "--confirm"]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/^nothing to confirm: the device runs a confirmed image \(slot A, 1\.0\.1, sequence 1\), not a test image$/m);
      const againJson = JSON.parse((await fwseal(["flash", "--port", sim.port, "--confirm", "--json"])).stdout);
      expect(validate(againJson)).toEqual([]);
      expect(againJson).toMatchObject({ outcome: "info", confirmed: null, notConfirmed: expect.stringMatching(/^nothing to confirm/) });
      // A rejection through the device: the same error object as verify's.
      const draft = await fwseal(["flash", f("v0.fwb"), "--port", sim.port, "--json"]);
      expect(draft.code).toBe(ExitCode.POLICY);
      const rej = JSON.parse(draft.stdout);
      expect(validate(rej)).toEqual([]);
      expect(rej.error).toMatchObject({ code: "BUNDLE_REJECTED", reasonName: "ROLLBACK", chunk: null, details: { summary: expect.any(String) } });
    } finally {
      await sim.stop();
    }
    const events = sim.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => e.event)).toEqual(["boot", "ready", "boot"]);
    for (const e of events) expect(validate(e)).toEqual([]);
    expect(fs.existsSync(path.join(f("dev-a"), "device-sim.lock")), "lock released on exit").toBe(false);
  });

  it("a cable pulled mid-install: flash run again resumes by itself; another bundle starts over and says why", async () => {
    const sim = await startSim(f("dev-b"));
    try {
      await expect(flashDevice({ port: sim.port, bundle: f("v2.fwb"), stopAfter: 100_000 })).rejects.toThrow(/transfer stopped/);
      const resumed = await fwseal(["flash", f("v2.fwb"), "--port", sim.port]);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stderr).toMatch(/^fwseal: resuming at chunk \d+ of \d+ \(byte \d+ of \d+\)$/m);
      expect(resumed.stdout).toMatch(/^installed 1\.0\.2 .*, resumed at byte \d+$/m);
      await expect(flashDevice({ port: sim.port, bundle: f("v2.fwb"), stopAfter: 100_000 })).rejects.toThrow(/transfer stopped/);
      const other = await fwseal(["flash", f("v3.fwb"), "--port", sim.port]);
      expect(other.code, other.stderr).toBe(0);
      expect(other.stderr).toMatch(/^fwseal: the device holds no resume point for this bundle: starting from the beginning$/m);
      expect(other.stdout).not.toMatch(/resumed at/);
    } finally {
      await sim.stop();
    }
  });

  it("Ctrl-C during an install prints the command that resumes it", async () => {
    const sim = await startSim(f("dev-c"), ["--line-rate", "19200"]);
    try {
      const flash = spawn(process.execPath, [FWSEAL_BIN, "flash", f("v2.fwb"), "--port", sim.port], { stdio: ["ignore", "pipe", "pipe"] });
      let err = "";
      flash.stderr?.setEncoding("utf8").on("data", (s: string) => (err += s));
      await new Promise((r) => setTimeout(r, 3000)); // the envelope is in, chunks are flowing
      const code = await new Promise<number | null>((resolve) => {
        flash.once("exit", (c) => resolve(c));
        flash.kill("SIGINT");
      });
      expect(code).toBe(130);
      expect(err).toContain(`fwseal: the device keeps what it verified; resume with: fwseal flash ${f("v2.fwb")} --port ${sim.port} --resume`);
    } finally {
      await sim.stop();
    }
  });
});
