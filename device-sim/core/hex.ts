// Hex text <-> bytes for the ES5 drivers around the core (engine conformance runner, the
// Duktape heap-capped runner, the MCU firmware's console, board provisioning): policy and
// test data reach those engines as hex strings, and results leave as hex. Not used by the
// verifiers themselves. Lenient by design: a non-hex digit reads as 0; callers pass hex
// they produced.

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return 0;
}

const HEX_DIGITS = "0123456789abcdef";

/** The bytes of a hex string (two digits per byte; a trailing odd digit is ignored). */
export function hexToBytes(h: string): Uint8Array {
  const n = h.length >> 1;
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (nibble(h.charCodeAt(2 * i)) << 4) | nibble(h.charCodeAt(2 * i + 1));
  return b;
}

/** b[off .. off+len) as lower-case hex. */
export function bytesToHex(b: Uint8Array, off: number, len: number): string {
  let s = "";
  for (let i = off; i < off + len; i++) s += HEX_DIGITS.charAt(b[i] >> 4) + HEX_DIGITS.charAt(b[i] & 15);
  return s;
}
