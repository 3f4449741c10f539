// An Espruino "board" for system tests: the Linux build of the interpreter (ESPRUINO_BIN) behind a
// socat pseudo-terminal, in its own directory (its flash is the file espruino.flash there).
// Killing it is a power cut; starting it again in the same directory is the power coming back.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** The interpreter binary named by ESPRUINO_BIN, or null with the reason tests are skipped. */
export function espruinoBinary(): { bin: string | null; why: string } {
  const bin = process.env.ESPRUINO_BIN ?? "";
  if (!bin) return { bin: null, why: "ESPRUINO_BIN is not set (build one with scripts/build-espruino.sh)" };
  if (!fs.existsSync(bin)) return { bin: null, why: `ESPRUINO_BIN=${bin} does not exist` };
  if (!hasQueueLock(bin) && process.env.ESPRUINO_ALLOW_UNPATCHED !== "1") {
    return {
      bin: null,
      why:
        `ESPRUINO_BIN=${bin} is a Linux build without the input-queue lock: its stdin thread races the ` +
        "interpreter and replays console lines (a board's receive interrupt cannot); build it with " +
        "scripts/build-espruino.sh, or set ESPRUINO_ALLOW_UNPATCHED=1 to run anyway"
    };
  }
  return { bin, why: "" };
}

/**
 * Whether the binary was built with scripts/espruino-linux-queue-lock.py applied: its symbol
 * table names the lock (the Linux build is not stripped).
 */
function hasQueueLock(bin: string): boolean {
  return fs.readFileSync(bin).includes("fwsQueueLock");
}

/** A running board: its serial port and the processes behind it. */
export interface EspruinoBoard {
  port: string;
  dir: string;
  /** Cuts the power: SIGKILL to the interpreter and its pty. */
  powerCut(): Promise<void>;
}

/** Starts the interpreter in `dir` on a new pty (dir/tty). */
export async function startBoard(bin: string, dir: string): Promise<EspruinoBoard> {
  fs.mkdirSync(dir, { recursive: true });
  const port = path.join(dir, "tty");
  fs.rmSync(port, { force: true });
  const proc: ChildProcess = spawn("socat", ["-d", "-d", `PTY,link=${port},raw,echo=0`, `EXEC:${bin},pty,raw,echo=0`], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  proc.stderr?.on("data", (b: Buffer) => (log += b.toString()));
  const t0 = Date.now();
  while (!log.includes("starting data transfer loop")) {
    if (proc.exitCode !== null) throw new Error(`socat exited: ${log.trim()}`);
    if (Date.now() - t0 > 10000) throw new Error(`socat did not start the board: ${log.trim()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const child = Number(/forked off child process (\d+)/.exec(log)?.[1] ?? 0);
  return {
    port,
    dir,
    powerCut: async () => {
      if (child) {
        try {
          process.kill(child, "SIGKILL");
        } catch {
          // already gone
        }
      }
      if (proc.exitCode === null && proc.signalCode === null) {
        const done = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGKILL");
        await done;
      }
    }
  };
}
