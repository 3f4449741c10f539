// NOR-flash model for the simulator: page-granular erase, program only erased bytes
// (a second write without erase is a bug and throws), optionally backed by a file so the
// flash survives a restart of the simulator. A power-cut injector interrupts the N-th
// flash operation (half of it done, or all of it) by throwing PowerCut: the device core
// never catches it, exactly as a real CPU never returns from losing power.
import * as fs from "node:fs";
import type { FlashHal } from "../core/boot/flash-layout.js";

export class PowerCut extends Error {
  constructor(op: number) {
    super(`power cut at flash operation ${op}`);
    this.name = "PowerCut";
  }
}

export class FlashMisuse extends Error {}

export type CutMode = "partial" | "complete";

export interface SimFlashOptions {
  pageSize: number;
  flashSize: number;
  /** Backing file (created erased if missing, or if its size differs). */
  file?: string;
}

export class SimFlash implements FlashHal {
  readonly pageSize: number;
  readonly flashSize: number;
  readonly mem: Uint8Array;
  private fd: number | null = null;
  /** Flash operations (erase + write) performed so far. */
  ops = 0;
  writes = 0;
  erases = 0;
  /** When > 0: the operation with this 1-based number is cut. */
  cutAt = 0;
  cutMode: CutMode = "partial";

  constructor(opts: SimFlashOptions) {
    this.pageSize = opts.pageSize;
    this.flashSize = opts.flashSize;
    this.mem = new Uint8Array(opts.flashSize).fill(0xff);
    if (opts.file) {
      let existing: Buffer | null = null;
      try {
        existing = fs.readFileSync(opts.file);
      } catch {
        existing = null;
      }
      if (existing && existing.length === opts.flashSize) this.mem.set(existing);
      else fs.writeFileSync(opts.file, this.mem);
      this.fd = fs.openSync(opts.file, "r+");
    }
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }

  private persist(addr: number, len: number): void {
    if (this.fd !== null && len > 0) fs.writeSync(this.fd, this.mem, addr, len, addr);
  }

  private check(addr: number, len: number): void {
    if (!Number.isInteger(addr) || !Number.isInteger(len) || addr < 0 || len < 0 || addr + len > this.flashSize) {
      throw new FlashMisuse(`flash access out of range: ${addr} + ${len}`);
    }
  }

  /** Counts an operation; returns true when this one is to be cut. */
  private tick(): boolean {
    this.ops++;
    return this.cutAt > 0 && this.ops === this.cutAt;
  }

  flashRead(addr: number, dst: Uint8Array, off: number, len: number): void {
    this.check(addr, len);
    dst.set(this.mem.subarray(addr, addr + len), off);
  }

  flashErase(pageAddr: number): void {
    this.check(pageAddr, this.pageSize);
    if (pageAddr % this.pageSize !== 0) throw new FlashMisuse(`erase of unaligned address ${pageAddr}`);
    this.erases++;
    const cut = this.tick();
    const n = cut && this.cutMode === "partial" ? this.pageSize >> 1 : this.pageSize;
    this.mem.fill(0xff, pageAddr, pageAddr + n);
    this.persist(pageAddr, n);
    if (cut) throw new PowerCut(this.ops);
  }

  flashWrite(addr: number, src: Uint8Array, off: number, len: number): void {
    this.check(addr, len);
    for (let i = 0; i < len; i++) {
      if (this.mem[addr + i] !== 0xff) throw new FlashMisuse(`write to non-erased flash at ${addr + i}`);
    }
    this.writes++;
    const cut = this.tick();
    const n = cut && this.cutMode === "partial" ? len >> 1 : len;
    this.mem.set(src.subarray(off, off + n), addr);
    this.persist(addr, n);
    if (cut) throw new PowerCut(this.ops);
  }
}
