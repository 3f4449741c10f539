// The CLI run in-process (main() with captured output and a scoped environment) or as a
// real process (node bin/fwseal.js), and temporary directories: shared by the suites that
// drive `fwseal` commands on real files.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { main } from "../../host/cli/cli.js";
import { REPO } from "./repo.js";

/** The command as installed: bin/fwseal.js (runs the build in dist/). */
export const FWSEAL_BIN = path.join(REPO, "bin/fwseal.js");

/** What one command run printed, and its exit code. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `fwseal args...` in this process with extra environment variables (restored after). */
export async function fwseal(args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    const code = await main(args, {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      stderrIsTTY: false
    });
    return { code, stdout, stderr };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/**
 * Run `node bin/fwseal.js args...` as a real process in `cwd`. stdin is not a TTY (it never
 * prompts) and the caller's FWSEAL_PASSPHRASE / FWSEAL_DEBUG do not leak in; killed after
 * `timeout` ms (default 60 s).
 */
export function fwsealProcess(cwd: string, args: string[], opts: { env?: Record<string, string>; timeout?: number } = {}): CliRun {
  const r = spawnSync(process.execPath, [FWSEAL_BIN, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, FWSEAL_PASSPHRASE: "", FWSEAL_DEBUG: "", ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
    timeout: opts.timeout ?? 60_000,
    killSignal: "SIGKILL"
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Like fwseal() but fails the test (with the CLI's stderr) on a non-zero exit. */
export async function fwsealOk(args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  const r = await fwseal(args, env);
  if (r.code !== 0) throw new Error(`fwseal ${args.join(" ")} -> exit ${r.code}: ${r.stderr}`);
  return r;
}

/** A fresh temporary directory named fwseal-<prefix>-XXXXXX. */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `fwseal-${prefix}-`));
}

/** The one error line a failing command prints. */
export function errorLines(r: CliRun): string[] {
  return r.stderr.split("\n").filter((l) => l.length > 0);
}

/** A `fwseal device-sim --pty` process: the host side of its pty, and how to stop it. */
export interface DeviceSimProcess {
  port: string;
  stop(): Promise<void>;
}

/**
 * Starts `node bin/fwseal.js device-sim --pty <args...>` in `cwd` and resolves once it has
 * printed its serial port (fails after 30 s with what it printed).
 */
export async function startDeviceSimProcess(cwd: string, args: string[]): Promise<DeviceSimProcess> {
  const sim = spawn(process.execPath, [FWSEAL_BIN, "device-sim", "--pty", ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  const stop = async (): Promise<void> => {
    if (sim.exitCode !== null || sim.signalCode !== null) return;
    sim.kill("SIGTERM");
    await new Promise((r) => sim.once("exit", r));
  };
  try {
    const port = await new Promise<string>((resolve, reject) => {
      let buf = "";
      const t = setTimeout(() => reject(new Error(`no port printed: ${buf}`)), 30_000);
      sim.stdout.setEncoding("utf8").on("data", (s: string) => {
        buf += s;
        const m = /serial port (\S+)/.exec(buf);
        if (m) {
          clearTimeout(t);
          resolve(m[1]);
        }
      });
    });
    return { port, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
