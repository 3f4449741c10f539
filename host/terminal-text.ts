// Text from a bundle is attacker-controlled: a version string or release notes could hold
// terminal escapes (ESC [2J clears the screen, CR overwrites a line, BEL rings) or Unicode
// bidi controls that make a line read differently from what it holds. Before such text
// reaches an operator's terminal, these characters are shown as visible escapes instead.
// The same holds for every error and warning line: a user's input carried into a message (a
// newline in a --name, an escape in a file name) must leave it one line.

// C0 controls, DEL, C1 controls (0x9b is CSI on some terminals), the bidi marks,
// embeddings, overrides and isolates, and the Unicode line / paragraph separators.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;
// The subset JSON.stringify leaves raw (it escapes C0 controls inside strings itself; raw C0
// outside strings is the layout's own whitespace).
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;
const SHORT: Record<string, string> = { "\t": "\\t", "\n": "\\n", "\r": "\\r" };

function hex(c: string, digits: number): string {
  return c.charCodeAt(0).toString(16).padStart(digits, "0");
}

/** `s` with every control or bidi character written as a visible escape (\x1b, \u202e, \n). */
export function escapeForTerminal(s: string): string {
  return s.replace(UNSAFE, (c) => SHORT[c] ?? (c.charCodeAt(0) < 0x100 ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`));
}

/**
 * JSON text safe to print: JSON.stringify already escapes C0 controls, but leaves DEL, C1
 * and bidi controls raw. They can only occur inside JSON strings, where a \uXXXX escape
 * is the same character: the parsed value is unchanged, the printed text is inert.
 */
export function terminalSafeJson(json: string): string {
  return json.replace(UNSAFE_IN_JSON, (c) => `\\u${hex(c, 4)}`);
}
