// The host's side of an Espruino board's JavaScript console: typed command lines with a
// reply marker, and the switch into the binary update protocol.
//
// Every line starts with 0x10 (DLE), which tells Espruino not to echo it, and prints one
// marker line `#<n>:<result>` that the host waits for, so prompts, echo and any output of
// the board's application are skipped rather than parsed. fwsealUpdate() (installed by
// `fwseal espruino provision`) moves the REPL off the console; from its marker line on the
// console carries the framed protocol of formats/PROTOCOL.md unchanged.
import type { SerialPort } from "serialport";
import { FwsealError } from "../errors.js";
import { DeviceLink, openSerialPort } from "./flash-link.js";

const DLE = "\x10";

/** A board's console, read as text, with one reply marker per command line. */
export class EspruinoConsole {
  readonly port: SerialPort;
  readonly path: string;
  private text = "";
  private seq = 0;
  private wake: (() => void) | null = null;
  private readonly listener = (b: Buffer) => {
    this.text += b.toString("latin1");
    if (this.text.length > 1 << 20) this.text = this.text.slice(-65536);
    const w = this.wake;
    this.wake = null;
    if (w) w();
  };

  constructor(port: SerialPort, path: string) {
    this.port = port;
    this.path = path;
    port.on("data", this.listener);
  }

  static async open(path: string, baud = 115200): Promise<EspruinoConsole> {
    return new EspruinoConsole(await openSerialPort(path, baud), path);
  }

  /** Writes raw text to the console. */
  write(s: string): Promise<void> {
    return new Promise((resolve, reject) => this.port.write(Buffer.from(s, "latin1"), (e) => (e ? reject(e) : resolve())));
  }

  /** Waits until `re` matches the text received since the last match; returns the match
   *  and drops the text up to its end. */
  async waitFor(re: RegExp, timeoutMs: number, what: string): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.text);
      if (m && m.index !== undefined) {
        this.text = this.text.slice(m.index + m[0].length);
        return m;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new FwsealError("DEVICE", `${this.path}: no answer from the Espruino console (${what}); last output: ${JSON.stringify(this.text.slice(-200))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Evaluates one JavaScript expression on the board and returns its printed value. */
  async evaluate(expr: string, timeoutMs = 10000): Promise<string> {
    const n = ++this.seq;
    await this.write(`${DLE}print("#${n}:"+(${expr}))\n`);
    const m = await this.waitFor(new RegExp(`#${n}:([^\\r\\n]*)\\r?\\n`), timeoutMs, expr.slice(0, 60));
    return m[1];
  }

  /** Ends any half-typed line, then checks the console answers. (Not Ctrl-C: Espruino's Linux
   *  build keeps its interrupt flag pending and would break the next command instead.) */
  async sync(timeoutMs = 5000): Promise<void> {
    await this.write("\n");
    await new Promise((r) => setTimeout(r, 50));
    this.text = "";
    await this.evaluate("1", timeoutMs);
  }

  /** Stops reading (the port stays open, e.g. for a DeviceLink). */
  detach(): SerialPort {
    this.port.off("data", this.listener);
    return this.port;
  }

  async close(): Promise<void> {
    this.detach();
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }
}

// While the board's console is on the line (before update mode, and while it reboots into
// update mode) 0x03 is Ctrl-C and interrupts whatever runs, the boot check included; the
// Linux build also exits when its stdin reads 0x04. So the host never sends either:
// 0x03 -> 1B 07, 0x04 -> 1B 05, 0x1B -> 1B 1C (about 1 % more bytes on random data; the
// board's glue undoes it with native string operations).
const ESCAPED: Record<number, number> = { 3: 7, 4: 5, 27: 28 };

/** Escapes 0x03, 0x04 and 0x1B for an Espruino board's console. */
export function escapeForEspruino(b: Uint8Array): Uint8Array {
  let extra = 0;
  for (let i = 0; i < b.length; i++) if (ESCAPED[b[i]] !== undefined) extra++;
  if (extra === 0) return b;
  const o = new Uint8Array(b.length + extra);
  let j = 0;
  for (let i = 0; i < b.length; i++) {
    const e = ESCAPED[b[i]];
    if (e !== undefined) {
      o[j++] = 27;
      o[j++] = e;
    } else o[j++] = b[i];
  }
  return o;
}

/** Switches a provisioned board's console into update mode; returns whether it wants the escaping above (esc=1). */
export async function enterUpdateMode(con: EspruinoConsole, timeoutMs = 10000): Promise<boolean> {
  // No sync() first: a board still in update mode from a previous session does not answer
  // command lines, but its glue answers this line with the same marker.
  await con.write(`\n${DLE}fwsealUpdate()\n`);
  const m = await con.waitFor(/FWSEAL update esc=(\d)\n/, timeoutMs, "fwsealUpdate(): is the board provisioned?");
  return m[1] === "1";
}

/** Opens the board's port, switches it to update mode and returns the protocol link over it. */
export async function openEspruinoLink(path: string, baud: number, timeoutMs = 10000): Promise<DeviceLink> {
  const con = await EspruinoConsole.open(path, baud);
  try {
    const esc = await enterUpdateMode(con, timeoutMs);
    return new DeviceLink(con.detach(), path, esc ? escapeForEspruino : null);
  } catch (e) {
    await con.close();
    throw e;
  }
}
