// Runs a SimDevice on a serial line: a given port, or a fresh pseudo-terminal pair made by
// socat (`pty,raw,echo=0` on both ends; the device opens one end, the host the other).
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { SerialPort } from "serialport";
import type { SimDevice } from "./sim-device.js";
import { PowerCut } from "./sim-flash.js";
import { createSerialPort } from "../../host/device/serial-port.js";

export interface PtyPair {
  hostPath: string;
  devicePath: string;
  proc: ChildProcess;
  close(): Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Creates two linked ptys with socat; the links live in `dir`. Their paths are absolute, so
 * a path printed for the user works from any working directory.
 */
export async function createPtyPair(dir: string, hostName = "dev-host", deviceName = "dev-device"): Promise<PtyPair> {
  fs.mkdirSync(dir, { recursive: true });
  const hostPath = path.resolve(dir, hostName);
  const devicePath = path.resolve(dir, deviceName);
  for (const p of [hostPath, devicePath]) fs.rmSync(p, { force: true });
  const proc = spawn("socat", ["-d", "-d", `pty,raw,echo=0,link=${hostPath}`, `pty,raw,echo=0,link=${devicePath}`], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  proc.stderr?.on("data", (b: Buffer) => (log += b.toString()));
  let spawnError: Error | null = null;
  proc.on("error", (e) => (spawnError = e));
  const t0 = Date.now();
  while (!log.includes("starting data transfer loop")) {
    if (spawnError) throw new Error(`cannot run socat (install the Debian package socat): ${(spawnError as Error).message}`);
    if (proc.exitCode !== null) throw new Error(`socat exited: ${log.trim()}`);
    if (Date.now() - t0 > 10000) throw new Error(`socat did not create the pty pair: ${log.trim()}`);
    await sleep(10);
  }
  return {
    hostPath,
    devicePath,
    proc,
    close: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        const done = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        await done;
      }
    }
  };
}

/**
 * Opens `portPath` and connects it to the device's UART. Powers the device on.
 * lineRate (baud, optional): the device consumes received bytes no faster than a UART at
 * that rate would deliver them (10 bits per byte), so a pty behaves like a real line.
 */
export async function attachDevice(device: SimDevice, portPath: string, baudRate = 115200, lineRate = 0): Promise<SerialPort> {
  const port = createSerialPort(portPath, baudRate);
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  device.setOutput((b) => {
    if (port.isOpen) port.write(Buffer.from(b));
  });
  device.powerOn();
  const deliver = (b: Uint8Array): void => {
    try {
      device.receive(b);
    } catch (e) {
      // An injected power cut: the device comes back up from flash, RAM lost.
      if (!(e instanceof PowerCut)) throw e;
      device.flash.cutAt = 0;
      device.powerOn();
    }
  };
  if (lineRate <= 0) {
    port.on("data", (b: Buffer) => deliver(new Uint8Array(b.buffer, b.byteOffset, b.length)));
    return port;
  }
  const bytesPerMs = lineRate / 10 / 1000;
  const queue: Buffer[] = [];
  let credit = 0;
  let last = 0;
  let timer: NodeJS.Timeout | null = null;
  const tick = (): void => {
    const now = performance.now();
    credit += (now - last) * bytesPerMs;
    last = now;
    while (queue.length && credit >= 1) {
      const head = queue[0];
      const n = Math.min(head.length, Math.floor(credit));
      deliver(new Uint8Array(head.buffer, head.byteOffset, n));
      credit -= n;
      if (n === head.length) queue.shift();
      else queue[0] = head.subarray(n);
    }
    if (!queue.length && timer) {
      clearInterval(timer);
      timer = null;
      credit = 0;
    }
  };
  port.on("data", (b: Buffer) => {
    queue.push(Buffer.from(b));
    if (!timer) {
      last = performance.now();
      timer = setInterval(tick, 2);
    }
  });
  port.on("close", () => {
    if (timer) clearInterval(timer);
  });
  return port;
}
