// A serial "cable" between two ports, for tests and benchmarks: forwards bytes both ways,
// optionally throttled to a baud rate (10 bits per byte, as 8N1 on a UART), with injected
// faults (corrupted, dropped and duplicated bytes, from a seeded generator so a failing
// run can be replayed) and a plug you can pull and push back.
import type { SerialPort } from "serialport";
import { createSerialPort } from "../../host/device/serial-port.js";

export interface RelayFaults {
  corrupt?: number; // probability per byte of flipping one bit
  drop?: number; // probability per byte of losing it
  dup?: number; // probability per byte of sending it twice
}

export interface RelayOptions {
  baud?: number; // throttle both directions to this rate (default: unthrottled)
  toDevice?: RelayFaults; // faults on the host -> device direction
  toHost?: RelayFaults; // faults on the device -> host direction
  seed?: number;
}

export interface RelayStats {
  toDevice: number;
  toHost: number;
  corrupted: number;
  dropped: number;
  duplicated: number;
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

class Direction {
  private queue: Buffer[] = [];
  private queued = 0;
  private credit = 0;
  private timer: NodeJS.Timeout | null = null;
  private last = 0;

  constructor(
    private readonly out: SerialPort,
    private readonly bytesPerSec: number,
    private readonly faults: RelayFaults,
    private readonly rand: () => number,
    private readonly stats: RelayStats,
    private readonly count: (n: number) => void
  ) {}

  push(b: Buffer, connected: boolean): void {
    if (!connected) return;
    const f = this.faults;
    let data = b;
    if (f.corrupt || f.drop || f.dup) {
      const out: number[] = [];
      for (const x of b) {
        if (f.drop && this.rand() < f.drop) {
          this.stats.dropped++;
          continue;
        }
        let y = x;
        if (f.corrupt && this.rand() < f.corrupt) {
          y ^= 1 << Math.floor(this.rand() * 8);
          this.stats.corrupted++;
        }
        out.push(y);
        if (f.dup && this.rand() < f.dup) {
          out.push(y);
          this.stats.duplicated++;
        }
      }
      data = Buffer.from(out);
    }
    if (this.bytesPerSec <= 0) {
      this.count(data.length);
      this.out.write(data);
      return;
    }
    this.queue.push(data);
    this.queued += data.length;
    if (!this.timer) {
      this.last = performance.now();
      this.timer = setInterval(() => this.tick(), 2);
    }
  }

  private tick(): void {
    const now = performance.now();
    this.credit += ((now - this.last) * this.bytesPerSec) / 1000;
    this.last = now;
    let n = Math.floor(this.credit);
    if (n <= 0) return;
    const parts: Buffer[] = [];
    let sent = 0;
    while (n > 0 && this.queue.length) {
      const head = this.queue[0];
      if (head.length <= n) {
        parts.push(head);
        this.queue.shift();
        n -= head.length;
        sent += head.length;
      } else {
        parts.push(head.subarray(0, n));
        this.queue[0] = head.subarray(n);
        sent += n;
        n = 0;
      }
    }
    this.credit -= sent;
    this.queued -= sent;
    if (sent) {
      this.count(sent);
      this.out.write(Buffer.concat(parts));
    }
    if (!this.queue.length) {
      // Idle: no credit accumulates while nothing waits (a UART does not bank time).
      this.credit = 0;
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
    }
  }

  clear(): void {
    this.queue = [];
    this.queued = 0;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

export class Relay {
  readonly stats: RelayStats = { toDevice: 0, toHost: 0, corrupted: 0, dropped: 0, duplicated: 0 };
  connected = true;
  private a!: SerialPort;
  private b!: SerialPort;
  private dirs: Direction[] = [];

  /** hostSide: the port the relay reads host bytes from; deviceSide: where it writes them. */
  static async start(hostSide: string, deviceSide: string, opts: RelayOptions = {}): Promise<Relay> {
    const r = new Relay();
    const open = (path: string): Promise<SerialPort> =>
      new Promise((resolve, reject) => {
        const p = createSerialPort(path, 115200);
        p.open((e) => (e ? reject(e) : resolve(p)));
      });
    r.a = await open(hostSide);
    r.b = await open(deviceSide);
    const rand = rng(opts.seed ?? 1);
    const bps = opts.baud ? opts.baud / 10 : 0;
    const toDev = new Direction(r.b, bps, opts.toDevice ?? {}, rand, r.stats, (n) => (r.stats.toDevice += n));
    const toHost = new Direction(r.a, bps, opts.toHost ?? {}, rand, r.stats, (n) => (r.stats.toHost += n));
    r.dirs = [toDev, toHost];
    r.a.on("data", (d: Buffer) => toDev.push(d, r.connected));
    r.b.on("data", (d: Buffer) => toHost.push(d, r.connected));
    return r;
  }

  /** Cable pulled: bytes in both directions are lost until plug(). */
  unplug(): void {
    this.connected = false;
    for (const d of this.dirs) d.clear();
  }

  plug(): void {
    this.connected = true;
  }

  async close(): Promise<void> {
    for (const d of this.dirs) d.stop();
    for (const p of [this.a, this.b]) if (p?.isOpen) await new Promise<void>((r) => p.close(() => r()));
  }
}
