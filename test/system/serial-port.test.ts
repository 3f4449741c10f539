// The serial ports the flash link and the simulator open (host/device/serial-port.ts), on a
// real socat pty pair. Their reads and writes must run on the event-loop thread: a read
// left on libuv's thread pool when a port closes keeps the port's lock until it returns,
// and on a loaded machine the next open of that port then fails ("Cannot lock port").
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import type { SerialPort } from "serialport";
import { createPtyPair, type PtyPair } from "../../device-sim/sim/serial-runner.js";
import { createSerialPort } from "../../host/device/serial-port.js";

let dir = "";
let pair: PtyPair;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-serial-port-"));
  pair = await createPtyPair(dir);
});

afterAll(async () => {
  await pair?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function open(p: string): Promise<SerialPort> {
  const port = createSerialPort(p, 115200);
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  return port;
}

function close(port: SerialPort): Promise<void> {
  return new Promise((resolve) => port.close(() => resolve()));
}

/** Resolves with what `port` received once it holds `n` bytes, or after `ms` with what it has. */
function receive(port: SerialPort, n: number, ms: number): Promise<Buffer> {
  const got: Buffer[] = [];
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      port.off("data", onData);
      resolve(Buffer.concat(got));
    };
    const onData = (b: Buffer): void => {
      got.push(b);
      if (Buffer.concat(got).length >= n) done();
    };
    const timer = setTimeout(done, ms);
    port.on("data", onData);
  });
}

/**
 * Occupies every libuv pool thread: each open of a FIFO for reading blocks its thread until
 * a writer opens the FIFO. Returns the release.
 */
async function blockThreadPool(): Promise<() => Promise<void>> {
  const fifo = path.join(dir, "pool-blocker");
  execFileSync("mkfifo", [fifo]);
  const threads = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  const opens = Array.from({ length: threads }, () => fs.promises.open(fifo, "r"));
  await new Promise((r) => setTimeout(r, 100)); // let the pool threads take the opens
  return async () => {
    const writer = fs.openSync(fifo, "r+"); // read-write: never blocks on a FIFO
    for (const h of await Promise.all(opens)) await h.close();
    fs.closeSync(writer);
    fs.rmSync(fifo);
  };
}

describe("serial ports read and write on the event-loop thread", () => {
  it("bytes cross the line both ways while every thread-pool thread is blocked", async () => {
    const host = await open(pair.hostPath);
    const dev = await open(pair.devicePath);
    const release = await blockThreadPool();
    try {
      const toDev = receive(dev, 5, 3000);
      host.write(Buffer.from("hello"));
      expect((await toDev).toString()).toBe("hello");
      const toHost = receive(host, 5, 3000);
      dev.write(Buffer.from("world"));
      expect((await toHost).toString()).toBe("world");
    } finally {
      await release();
      await close(host);
      await close(dev);
    }
  });

  it("a port closed while bytes keep arriving opens again at once", async () => {
    const dev = await open(pair.devicePath);
    const chatter = setInterval(() => dev.write(Buffer.alloc(64, 0x55)), 1);
    try {
      for (let i = 0; i < 50; i++) {
        const host = await open(pair.hostPath);
        const got = await receive(host, 1, 3000);
        expect(got.length).toBeGreaterThan(0);
        await close(host);
      }
    } finally {
      clearInterval(chatter);
      await close(dev);
    }
  });
});
