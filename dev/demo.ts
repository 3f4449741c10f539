// `npm run demo`: the whole job on built-in defaults, as a scripted terminal
// session. Every step prints the exact fwseal command it runs and that command's real
// output: keys, packing, a simulated device on a pseudo-terminal, flashing over that serial
// line with the progress bar, reboot with boot-time verification, confirm; then a tampered
// bundle and a rollback rejected, with the active image untouched.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { inspectBytes } from "../host/bundle/inspect.js";
import { FwsealError } from "../host/errors.js";

const CLI = findCli();
const VENDOR = "acme.example";
const DEFAULT_DIR = ".fwseal-demo";
const CLASS = "sensor-v3";

/** Settings of one demo run; every field has a default. */
export interface DemoOptions {
  dir?: string; // working directory (default ./.fwseal-demo, recreated; kept for inspection)
  lineRate?: number; // simulated UART speed of the device (default 921600 baud)
  imageSize?: number; // sample firmware size (default 192 KiB)
  write?: (s: string) => void;
  /**
   * Run every fwseal command with --json and keep its document in the report; the commands'
   * own output is not shown, and the transcript goes to `write` (default: stderr).
   */
  json?: boolean;
}

/** One fwseal command a demo step ran, with its exit code and (JSON mode) its document. */
export interface DemoCommand {
  args: string[];
  exitCode: number;
  expectedExitCode: number;
  ok: boolean;
  /** The command's fwseal/1 document (JSON mode; null in text mode or when it printed none). */
  result: unknown;
}

/** One numbered step of the demo and the commands it ran. */
export interface DemoStep {
  number: number;
  title: string;
  ok: boolean;
  commands: DemoCommand[];
}

/** What a demo run did: its directory, its steps, and every command that did not exit as expected. */
export interface DemoReport {
  dir: string;
  steps: DemoStep[];
  failures: string[];
}

interface Ctx {
  dir: string;
  w: (s: string) => void;
  json: boolean;
  failures: string[];
  deviceLog: string[];
  steps: DemoStep[];
}

// Styling only when the transcript goes to a terminal (stdout in text mode, stderr in JSON mode).
let styled = process.stdout.isTTY === true;
const bold = (s: string): string => (styled ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string): string => (styled ? `\x1b[2m${s}\x1b[0m` : s);

// The demo runs the real, built CLI: the first bin/fwseal.js above this module (from
// build/dev/dev/ once compiled, from dev/ when run as TypeScript).
function findCli(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = path.join(dir, "bin", "fwseal.js");
    if (fs.existsSync(p)) return p;
    const up = path.dirname(dir);
    if (up === dir) return "bin/fwseal.js";
    dir = up;
  }
}

function rel(ctx: Ctx, p: string): string {
  return path.relative(ctx.dir, p) || ".";
}

/** A command's stdout as its fwseal/1 document; null when it printed none (or not one). */
function documentOf(stdout: string): unknown {
  try {
    return stdout.trim() ? JSON.parse(stdout) : null;
  } catch {
    return null;
  }
}

/**
 * Runs `fwseal <args>` in the demo dir and records it in the current step; returns its exit
 * code. Text mode: the command's output goes straight to the terminal. JSON mode: the command
 * runs with --json, its document is kept, and its messages (stderr) go to stderr.
 */
function fwseal(ctx: Ctx, args: string[], expectCode = 0, why = ""): Promise<number> {
  ctx.w(`${bold("$ fwseal " + args.join(" "))}\n`);
  const argv = ctx.json ? [...args, "--json"] : args;
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...argv], { cwd: ctx.dir, stdio: ["ignore", ctx.json ? "pipe" : "inherit", "inherit"] });
    let out = "";
    p.stdout?.on("data", (b: Buffer) => (out += b.toString()));
    p.on("close", (code) => {
      const c = code ?? 1;
      const ok = c === expectCode;
      if (!ok) ctx.failures.push(`fwseal ${args[0]}: exit ${c}, expected ${expectCode}`);
      else if (expectCode !== 0) ctx.w(dim(`  (exit ${c}${why ? ": " + why : ""}, as expected)`) + "\n");
      const current = ctx.steps[ctx.steps.length - 1];
      current.commands.push({ args, exitCode: c, expectedExitCode: expectCode, ok, result: ctx.json ? documentOf(out) : null });
      if (!ok) current.ok = false;
      resolve(c);
    });
  });
}

function flushDevice(ctx: Ctx): void {
  for (const l of ctx.deviceLog) ctx.w(dim(`  [device] ${l}`) + "\n");
  ctx.deviceLog.length = 0;
}

function step(ctx: Ctx, n: number, title: string, text: string[] = []): void {
  ctx.steps.push({ number: n, title, ok: true, commands: [] });
  ctx.w(`\n${bold(`── ${n}. ${title}`)}\n`);
  for (const t of text) ctx.w(`${t}\n`);
}

function sampleFirmware(size: number, release: number): Uint8Array {
  // A recognisable "firmware": a header line, then deterministic pseudo-random bytes.
  const out = new Uint8Array(size);
  const head = Buffer.from(`ACME sensor-v3 firmware release ${release}\n`);
  out.set(head);
  let x = 0x9e3779b9 ^ release;
  for (let i = head.length; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function startDevice(ctx: Ctx, stateDir: string, lineRate: number): Promise<{ port: string; proc: ChildProcess }> {
  const args = ["device-sim", "--state", rel(ctx, stateDir), "--root", "keys/root.pub", "--vendor", VENDOR, "--class", CLASS, "--line-rate", String(lineRate)];
  ctx.w(`${bold("$ fwseal " + args.join(" ") + " &")}\n`);
  const proc = spawn(process.execPath, [CLI, ...args], { cwd: ctx.dir, stdio: ["ignore", "pipe", "pipe"] });
  let port = "";
  let buf = "";
  const onLine = (line: string): void => {
    const m = /serial port (\S+)/.exec(line);
    if (m && !port) {
      // device-sim prints an absolute path; the transcript shows it relative to the demo dir
      port = rel(ctx, path.resolve(ctx.dir, m[1]));
      ctx.w(`${line.replace(m[1], port)}\n`);
    } else if (line.trim()) ctx.deviceLog.push(line.replace(/^device-sim: /, ""));
  };
  const feed = (b: Buffer): void => {
    buf += b.toString();
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  };
  proc.stdout?.on("data", feed);
  proc.stderr?.on("data", feed);
  const t0 = Date.now();
  while (!port) {
    if (proc.exitCode !== null) throw new Error(`device-sim exited (${proc.exitCode}): ${ctx.deviceLog.join(" ")}`);
    if (Date.now() - t0 > 15000) throw new Error("device-sim did not start");
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 100));
  return { port, proc };
}

/**
 * Runs the demo; resolves to an exit code (0 = every step did what it should).
 * Throws FwsealError OUTPUT_EXISTS when a given `dir` is not empty.
 */
export async function runDemo(opts: DemoOptions = {}): Promise<number> {
  return (await runDemoReport(opts)).failures.length ? 1 : 0;
}

/** Runs the demo and reports its steps (see runDemo). */
export async function runDemoReport(opts: DemoOptions = {}): Promise<DemoReport> {
  // Default: ./.fwseal-demo, recreated at every run (git-ignored). A given --dir must be new or empty.
  const dir = path.resolve(opts.dir ?? DEFAULT_DIR);
  if (!opts.dir) fs.rmSync(dir, { recursive: true, force: true });
  else if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) throw new FwsealError("OUTPUT_EXISTS", `${dir}: not empty (the demo needs a new or empty directory)`);
  fs.mkdirSync(path.join(dir, "keys"), { recursive: true });
  fs.mkdirSync(path.join(dir, "firmware"), { recursive: true });
  const json = opts.json === true;
  const stream = json ? process.stderr : process.stdout;
  styled = stream.isTTY === true;
  const ctx: Ctx = { dir, w: opts.write ?? ((s) => void stream.write(s)), json, failures: [], deviceLog: [], steps: [] };
  const lineRate = opts.lineRate ?? 921600;
  const size = opts.imageSize ?? 192 * 1024;
  let device: ChildProcess | null = null;
  try {
    ctx.w(bold("fwseal demo: sign firmware on the host, verify it chunk by chunk on the device") + "\n");
    ctx.w(dim(`working directory: ${dir}`) + "\n");

    step(ctx, 1, "Keys", [
      "A root key whose public half is burned into the device, and a release key that the",
      "root delegates to (epoch 1). The root key can stay offline; releases are signed with",
      "the release key, and the device accepts them because of the root's certificate."
    ]);
    await fwseal(ctx, ["keygen", "--out", "keys/root"]);
    await fwseal(ctx, ["keygen", "--out", "keys/release"]);
    // A bounded delegation: this vendor and class only, for one year.
    const notAfter = new Date(Date.now() + 365 * 86400 * 1000).toISOString().slice(0, 10);
    await fwseal(ctx, ["delegate", "--root", "keys/root.key", "--pub", "keys/release.pub", "--epoch", "1", "--vendor", VENDOR, "--class", CLASS, "--not-after", notAfter, "-o", "keys/release.cert"]);

    step(ctx, 2, "Pack three releases", [
      `Sample ${size / 1024} KiB images, signed into bundles: an envelope (COSE, the manifest with`,
      "vendor, class, sequence, size and the hash of chunk 0), then 4 KiB chunks that each",
      "carry the hash of the next one. With --root, pack checks the finished bundle as a",
      "device holding that root would, before writing it."
    ]);
    const releases = [
      { v: "1.0.0", seq: 1 },
      { v: "1.1.0", seq: 2 },
      { v: "1.2.0", seq: 3 }
    ];
    for (const r of releases) {
      fs.writeFileSync(path.join(dir, "firmware", `sensor-${r.v}.bin`), sampleFirmware(size, r.seq));
      await fwseal(ctx, ["pack", `firmware/sensor-${r.v}.bin`, "-k", "keys/release.key", "-c", "keys/release.cert", "--root", "keys/root.pub", "--seq", String(r.seq), "--vendor", VENDOR, "--class", CLASS, "--fw-version", r.v, "-o", `sensor-${r.v}.fwb`]);
    }
    await fwseal(ctx, ["verify", "sensor-1.0.0.fwb", "--root", "keys/root.pub", "--vendor", VENDOR, "--class", CLASS]);

    step(ctx, 3, "Start a simulated device on a serial line", [
      "A device model with NOR flash (page erase, no rewrite without erase), two image slots,",
      "a power-safe state area and the root public key in its boot ROM. It listens on a",
      `pseudo-terminal at a simulated ${lineRate} baud. It has no firmware yet.`
    ]);
    const dev = await startDevice(ctx, path.join(dir, "device"), lineRate);
    device = dev.proc;
    flushDevice(ctx);
    const port = dev.port;

    step(ctx, 4, "Flash 1.0.0 over the serial line, reboot", [
      "fwseal asks the device who it is, checks vendor, class and sequence, then streams the",
      "bundle. The device checks the signature before it erases anything and each chunk's",
      "hash before writing it. On reboot its boot loader re-verifies the whole image in flash."
    ]);
    await fwseal(ctx, ["flash", "sensor-1.0.0.fwb", "--port", port, "--reboot"]);
    flushDevice(ctx);

    step(ctx, 5, "Confirm", [
      "The new image runs in test mode: had it failed to confirm, the next reset would revert",
      "it. Confirming makes it permanent and raises the device's anti-rollback floor."
    ]);
    await fwseal(ctx, ["flash", "--port", port, "--confirm"]);

    step(ctx, 6, "Update to 1.1.0 (installed into the other slot while 1.0.0 keeps running)");
    await fwseal(ctx, ["flash", "sensor-1.1.0.fwb", "--port", port, "--reboot", "--confirm"]);
    flushDevice(ctx);

    step(ctx, 7, "A tampered bundle is rejected mid-stream", [
      "One bit flipped in chunk 20 of 1.2.0. The signature still verifies (the envelope is",
      "intact), chunks 0-19 are accepted, and chunk 20 fails its hash before a byte of it is",
      "written. The running image is never touched."
    ]);
    const good = new Uint8Array(fs.readFileSync(path.join(dir, "sensor-1.2.0.fwb")));
    const env = inspectBytes(good.subarray(0, 8192), good.length).envelopeSize;
    const bad = good.slice();
    bad[env + 20 * (4096 + 32) + 1000] ^= 0x04;
    fs.writeFileSync(path.join(dir, "sensor-1.2.0-tampered.fwb"), bad);
    ctx.w(dim("  (flipped bit 2 of byte 1000 of chunk 20 -> sensor-1.2.0-tampered.fwb)") + "\n");
    await fwseal(ctx, ["flash", "sensor-1.2.0-tampered.fwb", "--port", port], 13, "payload integrity");

    step(ctx, 8, "A rollback is rejected", [
      "1.0.0 is validly signed, but its sequence (1) is below the device's floor (2). fwseal",
      "refuses to send it; with --force it is sent anyway and the device itself rejects it",
      "as soon as the envelope is in."
    ]);
    await fwseal(ctx, ["flash", "sensor-1.0.0.fwb", "--port", port], 12, "policy");
    await fwseal(ctx, ["flash", "sensor-1.0.0.fwb", "--port", port, "--force"], 12, "policy");

    step(ctx, 9, "The device is untouched: reboot, boot-time verification, still 1.1.0");
    await fwseal(ctx, ["flash", "--port", port, "--reboot"]);
    flushDevice(ctx);
    await fwseal(ctx, ["flash", "--port", port]);
  } finally {
    if (device && device.exitCode === null) {
      const done = new Promise((r) => device!.once("exit", r));
      device.kill("SIGTERM");
      await done;
    }
  }
  ctx.w("\n");
  const report: DemoReport = { dir, steps: ctx.steps, failures: ctx.failures };
  if (ctx.failures.length) {
    ctx.w(bold("demo FAILED:") + "\n");
    for (const f of ctx.failures) ctx.w(`  ${f}\n`);
    return report;
  }
  ctx.w(bold("demo complete.") + ` Everything is in ${dir}:\n`);
  ctx.w("  keys/ (root, release, certificate), firmware/, *.fwb bundles, device/flash.bin (the device's flash)\n");
  ctx.w(`  Try: fwseal inspect ${path.join(dir, "sensor-1.1.0.fwb")}\n`);
  return report;
}
