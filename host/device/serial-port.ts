// Serial ports whose reads and writes run on the event-loop thread.
//
// serialport's Unix binding reads and writes with fs.read / fs.write on libuv's thread
// pool, and closing a port does not wait for a read still in flight there. The descriptor
// is closed while a pool thread is inside read() on it; the kernel keeps the open file, and
// with it the exclusive lock serialport takes at open (flock), until that read returns. On
// a loaded machine the pool thread can stay descheduled long enough for the next open of
// the same port (the next flash after a rejection, a simulator that is power-cycled) to
// fail with EAGAIN "Cannot lock port". A freed descriptor number can also be reused by that
// next open, so a late pool read could take bytes meant for the new port.
// Here the port's descriptor is read and written without blocking on the loop thread once
// the binding's poller reports it readable: nothing is in flight on it when it is closed,
// so the lock is gone as soon as the close completes.
import * as fs from "node:fs";
import { createRequire } from "node:module";
import type { SerialPort } from "serialport";

type Binding = typeof SerialPort.binding;
type PortBinding = Awaited<ReturnType<Binding["open"]>>;
type OpenOptions = Parameters<Binding["open"]>[0];
type ReadResult = { buffer: Buffer; bytesRead: number };

// serialport (and its native binding) is loaded on the first port, not at import: commands
// that never open a port (pack, verify, inspect...) start without it, also from the CLI's
// single-file build where a static import would be evaluated at start-up.
let serialPortClass: typeof SerialPort | null = null;
function serialPort(): typeof SerialPort {
  if (serialPortClass === null) serialPortClass = (createRequire(import.meta.url)("serialport") as { SerialPort: typeof SerialPort }).SerialPort;
  return serialPortClass;
}

/** The parts of serialport's Unix port binding used here (absent on Windows). */
interface UnixPortBinding {
  fd: number | null;
  poller: { once(event: "readable", cb: (err: Error | null) => void): unknown };
  writeOperation: Promise<void> | null;
}

function unixPart(p: PortBinding): UnixPortBinding | null {
  const u = p as unknown as Partial<UnixPortBinding>;
  return typeof u.fd === "number" && u.poller ? (u as UnixPortBinding) : null;
}

function wouldBlock(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "EAGAIN" || code === "EWOULDBLOCK" || code === "EINTR";
}

/** The error a read or write in progress ends with when its port is closed. */
function canceled(): Error {
  return Object.assign(new Error("Port is not open"), { canceled: true });
}

function readable(u: UnixPortBinding): Promise<void> {
  return new Promise((resolve, reject) => {
    u.poller.once("readable", (err) => (err ? reject(err) : resolve()));
  });
}

async function readOnLoop(u: UnixPortBinding, buffer: Buffer, offset: number, length: number): Promise<ReadResult> {
  for (;;) {
    if (u.fd === null) throw canceled();
    let n = 0;
    try {
      n = fs.readSync(u.fd, buffer, offset, length, null);
    } catch (e) {
      if (!wouldBlock(e)) throw e;
    }
    if (n > 0) return { buffer, bytesRead: n };
    await readable(u);
  }
}

// A full output buffer is retried on a short timer, not by polling "writable": the binding's
// poller watches one event set at a time, and waiting for "writable" would stop it reporting
// "readable", so replies would be read only in clumps while a window of frames is queued.
async function writeOnLoop(u: UnixPortBinding, buffer: Buffer): Promise<void> {
  let off = 0;
  while (off < buffer.length) {
    if (u.fd === null) throw canceled();
    try {
      off += fs.writeSync(u.fd, buffer, off, buffer.length - off);
      continue;
    } catch (e) {
      if (!wouldBlock(e)) throw e;
    }
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** serialport's platform binding, with the port's reads and writes moved to the loop thread. */
function loopThreadBinding(): Binding {
  // The binding serialport picked for this platform (its type is the union of all of them).
  const platform = serialPort().binding as unknown as { open(options: OpenOptions): Promise<PortBinding> };
  return {
    ...serialPort().binding,
    async open(options: OpenOptions): Promise<PortBinding> {
      const port = await platform.open(options);
      const u = unixPart(port);
      if (u) {
        port.read = (buffer, offset, length) => readOnLoop(u, buffer, offset, length);
        // writeOperation: the binding's drain() waits for it before it drains the line.
        port.write = (buffer) => {
          const op = writeOnLoop(u, buffer).finally(() => {
            if (u.writeOperation === op) u.writeOperation = null;
          });
          u.writeOperation = op;
          return op;
        };
      }
      return port;
    }
  } as Binding;
}

let loopBinding: Binding | null = null;

/** A serial port (not yet open) whose close leaves no I/O in flight on its descriptor. */
export function createSerialPort(path: string, baudRate: number): SerialPort {
  if (loopBinding === null) loopBinding = loopThreadBinding();
  const SerialPortClass = serialPort();
  const options = { path, baudRate, autoOpen: false, binding: loopBinding };
  return new SerialPortClass(options as ConstructorParameters<typeof SerialPort>[0]);
}
