// The host's side of an Espruino board's JavaScript console: typed command lines with a
// reply marker, and the switch into the binary update protocol.
//
// Every line starts with ESC [ 2 H (the REPL's "erase the current input line", so a half-typed
// or mangled earlier line cannot swallow it) and 0x10 (DLE: no echo), and prints one marker
// line `#<n>:<result>` that the host waits for, so prompts, echo and any output of the board's
// application are skipped rather than parsed. A console line can arrive mangled (a noisy
// cable; on Espruino's Linux build, a data race between its stdin thread and its event queue
// drops, repeats or replays bytes when the host is busy), so commands that change the board
// are written to be checked on the board before they act (see espruino-provision.ts) and
// repeatable; evaluateRetrying() re-sends one with a new marker after re-synchronising.
// fwsealUpdate() (installed by `fwseal espruino provision`) moves the REPL off the console;
// from its marker line on the console carries the framed protocol of formats/PROTOCOL.md
// unchanged (CRC-checked frames, retransmitted when lost).
import type { SerialPort } from "serialport";
import { FwsealError } from "../errors.js";
import { DeviceLink, openSerialPort } from "./flash-link.js";

const DLE = "\x10";
/** ESC [ 2 H: Espruino's REPL erases its whole input line (all continuation lines too). */
const ERASE_LINE = "\x1b[2H";

/** How evaluateRetrying() tries a repeatable command. */
export interface RetryOptions {
  /** Attempts in all (default 4). */
  attempts?: number;
  /** Time for one attempt's marker (default 10 s). */
  timeoutMs?: number;
  /** Whether a printed result is the command's real answer; anything else counts as a failed attempt (default: any). */
  accept?: (result: string) => boolean;
  /** Told about each failed attempt. */
  onRetry?: (why: string) => void;
}

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
    await this.write(`${ERASE_LINE}${DLE}print("#${n}:"+(${expr}))\n`);
    const m = await this.waitFor(new RegExp(`#${n}:([^\\r\\n]*)\\r?\\n`), timeoutMs, expr.slice(0, 60));
    return m[1];
  }

  /** Evaluates a repeatable expression (one whose second run changes nothing, or that checks
   *  itself on the board) until it prints an accepted result: each failed attempt (no marker
   *  in time, or a result `accept` refuses) re-synchronises the console and tries again with a
   *  new marker, so a late answer to an earlier attempt is never taken for this one. */
  async evaluateRetrying(expr: string, o: RetryOptions = {}): Promise<string> {
    const attempts = o.attempts ?? 4;
    let last: unknown = null;
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await this.sync(o.timeoutMs ?? 10000);
      try {
        const r = await this.evaluate(expr, o.timeoutMs ?? 10000);
        if (!o.accept || o.accept(r)) return r;
        last = new FwsealError("DEVICE", `${this.path}: the board answered ${JSON.stringify(r.slice(0, 80))} to ${expr.slice(0, 60)}`);
      } catch (e) {
        if (!(e instanceof FwsealError)) throw e;
        last = e;
      }
      o.onRetry?.((last as Error).message);
    }
    throw last;
  }

  /** Brings the console to a known state: erases any half-typed line, waits until the board
   *  has been quiet for a moment (a mangled line may still be printing errors), then checks a
   *  fresh marker comes back; repeats that a few times before giving up. (Not Ctrl-C: on
   *  Espruino's Linux build it leaves the interrupt flag pending, breaking the next command,
   *  and two on an empty line end the interpreter.) */
  async sync(timeoutMs = 5000): Promise<void> {
    let last: unknown = null;
    for (let i = 0; i < 5; i++) {
      await this.write(`${ERASE_LINE}\n`);
      await this.quiet(100 + 200 * i, timeoutMs);
      try {
        await this.evaluate("1", i === 0 ? timeoutMs : Math.min(timeoutMs, 3000));
        return;
      } catch (e) {
        if (!(e instanceof FwsealError)) throw e;
        last = e;
      }
    }
    throw last;
  }

  /** Waits until nothing has arrived for `ms` (at most `maxMs`), then drops what arrived. */
  private async quiet(ms: number, maxMs: number): Promise<void> {
    const end = Date.now() + maxMs;
    for (;;) {
      const seen = this.text.length;
      await new Promise((r) => setTimeout(r, ms));
      if (this.text.length === seen || Date.now() > end) break;
    }
    this.text = "";
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
