#!/usr/bin/env node
// Runs the fwseal MCU firmware in QEMU (mps2-an385) with its UART on a pseudo-terminal
// and its flash in a host file, so a test can talk to it like a board and cut its power.
//
// QEMU's stderr, with the firmware's semihosting log, goes to <dir>/qemu.log (appended).
// Library: startMcu(opts) -> Mcu { port, log(), waitLog(re), kill(), boot(), powerCycle(), stop() }
// CLI (for shell-driven suites; state lives in <dir>):
//   node hw-test/mcu/qemu.mjs start <dir> [word=value ...]   boot, print the port path
//   node hw-test/mcu/qemu.mjs power-cycle <dir>              kill -9 (power cut), boot again
//   node hw-test/mcu/qemu.mjs stop <dir>
// The port is a symlink <dir>/tty that always points at the current QEMU's pty, so a
// client that reopens it after a power cycle reaches the new instance. Words after <dir>
// go to the firmware's semihosting command line (mode=, roots=, vendor=, class=, ...).
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const defaultElf = path.resolve(here, "../../build/mcu/fw.elf");

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// QEMUs started through the library die with this process (a crashed test must not leave
// emulators running); the CLI's `start` hands its QEMU over to later `stop` calls instead.
const owned = new Set();
let exitHook = false;
function own(pid) {
  owned.add(pid);
  if (exitHook) return;
  exitHook = true;
  process.on("exit", () => {
    for (const p of owned) {
      try {
        process.kill(p, "SIGKILL");
      } catch {
        /* gone */
      }
    }
  });
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * opts: { dir, elf?, args?: string[] (firmware words), icount?: boolean, bootTimeoutMs?,
 *         detach?: boolean (outlive this process; default: killed when it exits) }
 * Flash file: <dir>/flash.bin (kept across power cycles). QEMU log: <dir>/qemu.log.
 */
export async function startMcu(opts) {
  const dir = path.resolve(opts.dir);
  fs.mkdirSync(dir, { recursive: true });
  const cfg = {
    elf: path.resolve(opts.elf ?? defaultElf),
    args: opts.args ?? [],
    icount: !!opts.icount,
    bootTimeoutMs: opts.bootTimeoutMs ?? 120000,
  };
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(cfg));
  return attach(dir, { ...cfg, owned: !opts.detach }, true);
}

async function launch(dir, cfg) {
  const logPath = path.join(dir, "qemu.log");
  // Appended across power cycles, so high-water marks of every boot stay in one log.
  const logStart = fs.existsSync(logPath) ? fs.statSync(logPath).size : 0;
  const logFd = fs.openSync(logPath, "a");
  const semi = ["enable=on", "target=native", "arg=fw.elf", `arg=flash=${path.join(dir, "flash.bin")}`]
    .concat(cfg.args.map((a) => `arg=${a}`))
    .join(",");
  const qargs = ["-M", "mps2-an385", "-nographic", "-monitor", "none", "-kernel", cfg.elf,
    "-semihosting-config", semi, "-serial", "pty"];
  if (cfg.icount) qargs.push("-icount", "shift=0");
  const child = spawn("qemu-system-arm", qargs, { cwd: dir, detached: true, stdio: ["ignore", logFd, logFd] });
  fs.closeSync(logFd);
  child.unref();
  if (cfg.owned) own(child.pid);
  fs.writeFileSync(path.join(dir, "qemu.pid"), String(child.pid));
  const t0 = Date.now();
  let pty = null;
  for (;;) {
    const log = fs.readFileSync(logPath).subarray(logStart).toString("utf8");
    if (!pty) {
      const m = /redirected to (\/dev\/pts\/\d+)/.exec(log);
      if (m) {
        pty = m[1];
        const link = path.join(dir, "tty");
        fs.rmSync(link, { force: true });
        fs.symlinkSync(pty, link);
      }
    }
    if (/fwseal-mcu: booted/.test(log) && pty) break;
    if (!alive(child.pid) || /fwseal-mcu: (FATAL|HARDFAULT|ERROR)/.test(log)) {
      throw new Error(`fwseal-mcu did not boot:\n${log}`);
    }
    if (Date.now() - t0 > cfg.bootTimeoutMs) throw new Error(`fwseal-mcu boot timeout:\n${log}`);
    await sleep(20);
  }
  return child.pid;
}

async function kill(dir) {
  const pidFile = path.join(dir, "qemu.pid");
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, "utf8"));
  if (pid > 0 && alive(pid)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
    while (alive(pid)) await sleep(10);
  }
  fs.rmSync(pidFile, { force: true });
}

async function attach(dir, cfg, fresh) {
  if (fresh) await launch(dir, cfg);
  const logPath = path.join(dir, "qemu.log");
  return {
    port: path.join(dir, "tty"),
    dir,
    log: () => fs.readFileSync(logPath, "utf8"),
    async waitLog(re, timeoutMs = 60000) {
      const t0 = Date.now();
      for (;;) {
        const m = re.exec(fs.readFileSync(logPath, "utf8"));
        if (m) return m;
        if (Date.now() - t0 > timeoutMs) throw new Error(`timeout waiting for ${re} in the QEMU log`);
        await sleep(20);
      }
    },
    /** Power off now: SIGKILL QEMU (the flash file keeps whatever was written). */
    async kill() {
      await kill(dir);
    },
    /** Power on again after kill(). */
    async boot() {
      await launch(dir, cfg);
    },
    /** Power cut: SIGKILL QEMU, then boot again. */
    async powerCycle() {
      await kill(dir);
      await launch(dir, cfg);
    },
    async stop() {
      await kill(dir);
    },
  };
}

async function cli(argv) {
  const [cmd, dir, ...words] = argv;
  if (!cmd || !dir) {
    process.stderr.write("usage: qemu.mjs start|power-cycle|stop <dir> [word=value ...]\n");
    return 2;
  }
  if (cmd === "start") {
    const m = await startMcu({ dir, args: words, detach: true });
    process.stdout.write(m.port + "\n");
    return 0;
  }
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8"));
  const m = await attach(path.resolve(dir), cfg, false);
  if (cmd === "power-cycle") await m.powerCycle();
  else if (cmd === "stop") await m.stop();
  else {
    process.stderr.write(`unknown command ${cmd}\n`);
    return 2;
  }
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`qemu.mjs: ${e.message}\n`);
      process.exit(1);
    },
  );
}
