// The Espruino pieces that can be checked without the interpreter: the board glue is plain
// ES5 (Espruino parses nothing newer), and the console escaping never lets 0x03 (Ctrl-C) or
// 0x04 through and is undone exactly by the glue's three native split/join passes.
import { describe, it, expect } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import * as acorn from "acorn";
import { escapeForEspruino } from "../../host/device/espruino-console.js";
import { REPO } from "../helpers/repo.js";

const BOARD_JS = path.join(REPO, "device-sim/espruino/board.js");

// The glue's decoding (device-sim/espruino/board.js, onData), on a latin1 string.
function glueUnescape(d: string): string {
  return d.split("\x1b\x07").join("\x03").split("\x1b\x05").join("\x04").split("\x1b\x1c").join("\x1b");
}

describe("Espruino board glue", () => {
  it("is ES5 and uses the decoding this test mirrors", () => {
    const src = fs.readFileSync(BOARD_JS, "utf8");
    expect(() => acorn.parse(src, { ecmaVersion: 5, sourceType: "script" })).not.toThrow();
    expect(src).toContain('split("\\x1b\\x07").join("\\x03").split("\\x1b\\x05").join("\\x04").split("\\x1b\\x1c").join("\\x1b")');
  });

  it("escaping removes 0x03 and 0x04 and round-trips every byte pattern", () => {
    const all = new Uint8Array(4096);
    for (let i = 0; i < all.length; i++) all[i] = (i * 7 + (i >> 8)) & 255;
    const tricky = Uint8Array.of(27, 7, 27, 5, 27, 28, 3, 4, 27, 27, 4, 3, 27);
    for (const input of [all, tricky, new Uint8Array(0), Uint8Array.of(1, 2, 255)]) {
      const out = escapeForEspruino(input);
      expect(out.includes(3)).toBe(false);
      expect(out.includes(4)).toBe(false);
      expect(Buffer.from(glueUnescape(Buffer.from(out).toString("latin1")), "latin1")).toEqual(Buffer.from(input));
    }
  });
});
