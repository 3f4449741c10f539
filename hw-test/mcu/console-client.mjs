// Line client for the firmware's console mode (main.js runCommand) over a serial port or
// pty: one command line out, the reply line starting with the command's word back.
// Used by mcu.test.ts and bench/mcu.mjs.
import { SerialPort } from "serialport";

export class McuConsole {
  constructor(sp) {
    this.sp = sp;
    this.buf = "";
    sp.on("data", (b) => (this.buf += b.toString("latin1")));
  }

  /** Opens the port and handshakes (bytes sent before the host opened a pty are lost).
   *  createPort(path, baud): an unopened SerialPort (the tests pass host/device/serial-port's,
   *  whose close leaves no read in flight, so the port can be opened again at once). */
  static async open(port, createPort = (path, baudRate) => new SerialPort({ path, baudRate, autoOpen: false })) {
    const sp = createPort(port, 115200);
    await new Promise((res, rej) => sp.open((e) => (e ? rej(e) : res())));
    const c = new McuConsole(sp);
    for (let i = 0; ; i++) {
      try {
        await c.cmd("ping", 1000);
        return c;
      } catch (e) {
        if (i >= 30) throw e;
      }
    }
  }

  /** Sends one command; resolves with its reply line. */
  async cmd(line, timeoutMs = 30000) {
    const word = line.split(" ")[0];
    const want = word === "ping" ? "pong" : word;
    this.buf = "";
    this.sp.write(line + "\n");
    return this.waitLine(want, timeoutMs, line);
  }

  /** Writes raw bytes (after e.g. "sink N"); forgets what was received so far. */
  write(bytes) {
    this.buf = "";
    return new Promise((res, rej) => this.sp.write(Buffer.from(bytes), (e) => (e ? rej(e) : res())));
  }

  async waitLine(word, timeoutMs, what = word) {
    const t0 = Date.now();
    for (;;) {
      const lines = this.buf.split("\n");
      for (let i = 0; i < lines.length - 1; i++) {
        if (lines[i] === word || lines[i].startsWith(word + " ")) return lines[i];
      }
      if (Date.now() - t0 > timeoutMs) {
        throw new Error(`no reply to "${what.slice(0, 40)}" (got ${JSON.stringify(this.buf.slice(0, 200))})`);
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  async close() {
    if (this.sp.isOpen) await new Promise((r) => this.sp.close(() => r()));
  }
}

/** The value of `name=` in a reply line. */
export function field(reply, name) {
  const m = new RegExp(`(?:^| )${name}=(\\S*)`).exec(reply);
  if (!m) throw new Error(`no ${name}= in ${reply}`);
  return m[1];
}

/** The firmware's pattern(len, seed) (main.js), to hash the same bytes on the host. */
export function pattern(len, seed) {
  const b = new Uint8Array(len);
  let x = seed >>> 0;
  for (let i = 0; i < len; i++) {
    x = (x * 1103515245 + 12345) % 4294967296;
    b[i] = (x >>> 16) & 255;
  }
  return b;
}
