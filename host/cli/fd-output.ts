// The CLI's stdout and stderr text, written with fs.writeSync on descriptors 1 and 2.
// Touching process.stdout or process.stderr builds a stream (for a pipe, a socket through
// node:net) at a cost of milliseconds on every start, for a few lines of text; on Linux
// writes to files, pipes and terminals are synchronous either way, so order and completeness
// are the same. A descriptor that turns out non-blocking (EAGAIN: its other end shares a
// non-blocking file description) hands the rest to the stream, which then carries every
// later write so nothing is reordered.
import * as fs from "node:fs";
import { createRequire } from "node:module";

/** A writer of text to `fd`; `stream()` gives the fallback stream, `onClosed` runs on EPIPE. */
export function fdWriter(fd: number, stream: () => NodeJS.WritableStream, onClosed: () => void): (text: string) => void {
  let viaStream = false;
  return (text) => {
    if (viaStream) {
      stream().write(text);
      return;
    }
    const bytes = Buffer.from(text, "utf8");
    let done = 0;
    while (done < bytes.length) {
      try {
        done += fs.writeSync(fd, bytes, done, bytes.length - done);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "EAGAIN") {
          viaStream = true;
          stream().write(bytes.subarray(done));
        } else if (code === "EPIPE") {
          onClosed();
        } else {
          throw e;
        }
        return;
      }
    }
  };
}

/**
 * Whether `fd` is a terminal. Files and pipes are told apart by one fstat; only a character
 * device (a terminal, or /dev/null) loads node:tty, which brings node:net with it.
 */
export function isTerminal(fd: number): boolean {
  try {
    if (!fs.fstatSync(fd).isCharacterDevice()) return false;
  } catch {
    return false;
  }
  return (createRequire(import.meta.url)("node:tty") as typeof import("node:tty")).isatty(fd);
}
