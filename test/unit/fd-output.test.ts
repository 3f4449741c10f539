// The CLI writes its text straight to descriptors 1 and 2 (host/cli/fd-output.ts). On a real
// FIFO: everything arrives in order; a non-blocking descriptor that fills up (EAGAIN) hands the
// rest, and every later write, to the stream; a reader that has gone (EPIPE) ends the output
// through the caller's hook instead of an exception.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { PassThrough } from "node:stream";
import { fdWriter, isTerminal } from "../../host/cli/fd-output.js";

let dir = "";
let n = 0;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-fd-output-"));
});
afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** A FIFO opened non-blocking at both ends (the read end first, as open requires). */
function fifo(): { r: number; w: number } {
  const p = path.join(dir, `f${n++}`);
  execFileSync("mkfifo", [p]);
  const r = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const w = fs.openSync(p, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  return { r, w };
}

function drain(fd: number): Buffer {
  const parts: Buffer[] = [];
  const buf = Buffer.alloc(1 << 16);
  for (;;) {
    let k = 0;
    try {
      k = fs.readSync(fd, buf);
    } catch {
      break; // EAGAIN: empty
    }
    if (k === 0) break;
    parts.push(Buffer.from(buf.subarray(0, k)));
  }
  return Buffer.concat(parts);
}

describe("fd output", () => {
  it("writes whole texts to the descriptor, in order", () => {
    const { r, w } = fifo();
    const write = fdWriter(w, () => {
      throw new Error("no stream expected");
    }, () => undefined);
    write("fwseal: first line\n");
    write("é ✓ second line\n");
    expect(drain(r).toString("utf8")).toBe("fwseal: first line\né ✓ second line\n");
    fs.closeSync(r);
    fs.closeSync(w);
  });

  it("a full non-blocking descriptor: the rest and every later text go to the stream", () => {
    const { r, w } = fifo();
    const stream = new PassThrough();
    const viaStream: Buffer[] = [];
    stream.on("data", (d: Buffer) => viaStream.push(d));
    let streams = 0;
    const write = fdWriter(w, () => {
      streams++;
      return stream;
    }, () => undefined);
    const big = Buffer.alloc(200 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = 0x41 + (i % 26);
    write(big.toString("latin1"));
    write("after\n");
    const inFifo = drain(r);
    expect(inFifo.length).toBeGreaterThan(0);
    expect(inFifo.length).toBeLessThan(big.length);
    expect(Buffer.concat([inFifo, ...viaStream]).toString("latin1")).toBe(big.toString("latin1") + "after\n");
    expect(streams).toBe(2);
    fs.closeSync(r);
    fs.closeSync(w);
  });

  it("a reader that has gone: the closed hook runs, nothing is thrown", () => {
    const { r, w } = fifo();
    fs.closeSync(r);
    let closed = 0;
    const write = fdWriter(w, () => new PassThrough(), () => void closed++);
    expect(() => write("nobody reads this\n")).not.toThrow();
    expect(closed).toBe(1);
    fs.closeSync(w);
  });

  it("files and pipes are not terminals", () => {
    const f = fs.openSync(path.join(dir, "plain"), "w");
    const { r, w } = fifo();
    expect(isTerminal(f)).toBe(false);
    expect(isTerminal(w)).toBe(false);
    expect(isTerminal(9999)).toBe(false);
    for (const fd of [f, r, w]) fs.closeSync(fd);
  });
});
