// Canonical Huffman codes of deflate (RFC 1951 §3.2.2), in constrained TS.
//
// A code is described by its code lengths. It is kept as:
// - count[L]: how many symbols have a code of length L (1..15);
// - symbols[]: the symbols ordered by (code length, symbol value), which is the order of
//   their canonical codes;
// - fast[]: a first-level table indexed by the next `fastBits` bits of the stream (deflate
//   sends Huffman codes most significant bit first into a least-significant-bit-first bit
//   stream, so the index is the code bit-reversed). An entry is (symbol << 4) | length for a
//   code of at most fastBits bits; an entry whose length field is 0 holds the fastBits bits,
//   most significant first (code order), for decodeLongCode to continue from.
// Nothing is allocated here: the caller owns every table.

/** Longest code length deflate allows. */
export const MAX_CODE_BITS = 15;

/** Shape of one decoding table: its arrays and the canonical state after fastBits lengths. */
export class HuffmanTable {
  count: Uint16Array;
  symbols: Uint16Array;
  fast: Uint16Array;
  fastBits: number;
  /** First canonical code of length fastBits + 1, before that length's own bit is appended. */
  firstAfterFast: number;
  /** Index in symbols of the first symbol whose code is longer than fastBits. */
  indexAfterFast: number;

  constructor(maxSymbols: number, fastBits: number) {
    this.count = new Uint16Array(MAX_CODE_BITS + 1);
    this.symbols = new Uint16Array(maxSymbols);
    this.fast = new Uint16Array(1 << fastBits);
    this.fastBits = fastBits;
    this.firstAfterFast = 0;
    this.indexAfterFast = 0;
  }
}

/** Bytes of typed arrays one HuffmanTable(maxSymbols, fastBits) holds. */
export function huffmanTableBytes(maxSymbols: number, fastBits: number): number {
  return 2 * (MAX_CODE_BITS + 1) + 2 * maxSymbols + 2 * (1 << fastBits);
}

/** `len` low bits of `code`, in reverse order. */
function reverseBits(code: number, len: number): number {
  let r = 0;
  while (len > 0) {
    r = (r << 1) | (code & 1);
    code >>>= 1;
    len--;
  }
  return r;
}

/**
 * Builds table t from the code lengths lens[off .. off + n) (0 = symbol unused); next is
 * scratch of MAX_CODE_BITS + 1 entries. Returns how much of the code space is left unused,
 * in units of 2^-15: 0 for a complete code, > 0 for an incomplete one, -1 when the lengths
 * over-subscribe the code space (no prefix code has them). The table is usable only when the
 * result is >= 0.
 */
export function buildHuffmanTable(t: HuffmanTable, lens: Uint8Array, off: number, n: number, next: Uint16Array): number {
  const count = t.count;
  const symbols = t.symbols;
  let L = 0;
  let i = 0;
  for (L = 0; L <= MAX_CODE_BITS; L++) count[L] = 0;
  for (i = 0; i < n; i++) count[lens[off + i]]++;
  count[0] = 0;
  // Code space check: each length-L code uses 2^(15-L) of the 2^15 leaves.
  let left = 1;
  for (L = 1; L <= MAX_CODE_BITS; L++) {
    left = (left << 1) - count[L];
    if (left < 0) return -1;
  }
  // Place the symbols in canonical order: by length, then by value.
  next[1] = 0;
  for (L = 1; L < MAX_CODE_BITS; L++) next[L + 1] = next[L] + count[L];
  for (i = 0; i < n; i++) {
    L = lens[off + i];
    if (L !== 0) symbols[next[L]++] = i;
  }
  // First-level table: every entry first says "continue in code order", then each code of
  // at most fastBits bits claims the entries whose low bits are its reversed code.
  const fast = t.fast;
  const fastBits = t.fastBits;
  const size = 1 << fastBits;
  for (i = 0; i < size; i++) fast[i] = reverseBits(i, fastBits) << 4;
  let code = 0;
  let k = 0;
  let first = 0;
  let index = 0;
  let c = 0;
  let j = 0;
  let step = 0;
  for (L = 1; L <= fastBits; L++) {
    step = 1 << L;
    for (c = count[L]; c > 0; c--) {
      for (j = reverseBits(code, L); j < size; j += step) fast[j] = (symbols[k] << 4) | L;
      k++;
      code++;
    }
    code <<= 1;
    index += count[L];
    first = (first + count[L]) << 1;
  }
  t.firstAfterFast = first;
  t.indexAfterFast = index;
  return left;
}

/**
 * Continues a canonical decode after the first fastBits bits of a code (prefix: those bits,
 * most significant first, as the fast table's entry holds them). bits: the stream's next
 * bits, least significant first (at least MAX_CODE_BITS - fastBits of them). Returns
 * (symbol << 4) | bits used, or -1 when no code of at most MAX_CODE_BITS bits matches.
 */
export function decodeLongCode(t: HuffmanTable, prefix: number, bits: number): number {
  const count = t.count;
  let code = prefix;
  let first = t.firstAfterFast;
  let index = t.indexAfterFast;
  let used = 0;
  let c = 0;
  // Invariant (canonical codes): code >= first, since no shorter code is a prefix of it.
  for (let L = t.fastBits + 1; L <= MAX_CODE_BITS; L++) {
    code = (code << 1) | (bits & 1);
    bits >>>= 1;
    used++;
    c = count[L];
    if (code - first < c) return (t.symbols[index + code - first] << 4) | used;
    index += c;
    first = (first + c) << 1;
  }
  return -1;
}
