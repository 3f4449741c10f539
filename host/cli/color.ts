// Colour on the CLI's stderr lines: only the "fwseal: error:" / "warning:" / "rejected:" /
// "note:" prefix is coloured, so a line reads the same without colour. FORCE_COLOR (any value
// but "0" or "false") turns it on, NO_COLOR (any non-empty value) off, else it follows whether
// stderr is a terminal (and TERM is not "dumb"). FORCE_COLOR wins when both are set.

/** Whether stderr lines get colour, from the environment and whether stderr is a terminal. */
export function colorWanted(stderrIsTTY: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== "") return force !== "0" && force !== "false";
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return stderrIsTTY && env.TERM !== "dumb";
}

const PREFIX_COLORS: readonly [RegExp, string][] = [
  [/^fwseal: (error|rejected):/, "\x1b[31m"], // red
  [/^fwseal: warning:/, "\x1b[33m"], // yellow
  [/^fwseal: note:/, "\x1b[36m"] // cyan
];

/** `line` with its fwseal prefix coloured (unchanged when it has none). */
export function colorPrefix(line: string): string {
  for (const [re, code] of PREFIX_COLORS) {
    const m = re.exec(line);
    if (m) return `${code}${m[0]}\x1b[0m${line.slice(m[0].length)}`;
  }
  return line;
}
