// A raw deflate encoder (RFC 1951) that chooses its matches by cost instead of greedily: its
// LZ77 parse is the cheapest path through the input under a bit-cost model, re-estimated from
// the previous parse's symbol statistics a few times; the parse is then cut into dynamic-Huffman
// blocks where separate codes pay for their headers (the last block final).
//
// zlib's level 9 takes the longest match it finds (with one step of lazy evaluation). On delta
// patches (long zero runs of diff bytes broken by sparse changed bytes and literal code) and on
// code, a shorter match, or a literal, is often cheaper once the Huffman code lengths are known;
// choosing by cost shrinks such streams by 5-20 %. The output is plain deflate: any inflater
// with a window of 2^windowBits bytes decodes it.
//
// Every Huffman code it writes is complete (at least two symbols in each alphabet), so a strict
// decoder that rejects incomplete code sets accepts it.

/** Options of deflateOptimal. */
export interface OptimalDeflateOptions {
  /** Largest back-reference distance is 2^windowBits - 1 (9..15). */
  windowBits: number;
  /** Cost-model refinement passes after the first (default 3). */
  passes?: number;
  /** Candidates examined per position in the match finder (default 128). */
  maxChain?: number;
}

// Longest input the prefix search parses at once (about 20 bytes of working memory per input
// byte); a chunk that would hold more, such as megabytes of zero diff bytes, ends there.
const MAX_PARSE_WINDOW = 8 << 20;
const MIN_MATCH = 3;
const MAX_MATCH = 258;
const LEN_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LEN_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
// Order in which the code-length code's lengths are sent (RFC 1951 §3.2.7).
const CL_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
const LITLEN_SYMBOLS = 286;
const DIST_SYMBOLS = 30;
const END_OF_BLOCK = 256;

// Length -> index into LEN_BASE (symbol 257 + index); distance -> distance symbol.
const LEN_CODE = new Uint8Array(MAX_MATCH + 1);
for (let c = 0; c < LEN_BASE.length; c++) {
  const top = c + 1 < LEN_BASE.length ? LEN_BASE[c + 1] : MAX_MATCH + 1;
  for (let l = LEN_BASE[c]; l < top && l <= MAX_MATCH; l++) LEN_CODE[l] = c;
}
LEN_CODE[MAX_MATCH] = 28; // 258 has its own code (not 227 + 31)
const DIST_CODE = new Uint8Array(32769);
for (let c = 0; c < DIST_BASE.length; c++) {
  const top = c + 1 < DIST_BASE.length ? DIST_BASE[c + 1] : 32769;
  for (let d = DIST_BASE[c]; d < top; d++) DIST_CODE[d] = c;
}

/**
 * Raw deflate of `data`: dynamic-Huffman blocks (the last one final) with a cost-optimised
 * parse, split into blocks where separate Huffman codes pay for their headers.
 */
export function deflateOptimal(data: Uint8Array, opts: OptimalDeflateOptions): Uint8Array {
  const matches = findMatches(data, (1 << opts.windowBits) - 1, opts.maxChain ?? 128);
  return encodePrefix(data, matches, data.length, opts.passes ?? 3, fixedCostModel()).out;
}

/**
 * A long prefix of `data` whose stream (as deflateOptimal makes it) fits `cap` bytes, and that
 * stream; `hint` is a length known to fit with another encoder, where the search starts. The
 * length is 0 when nothing fits.
 *
 * One parse over a window gives the cost of every prefix at once (the shortest-path costs), so
 * the fitting length is read off the cost array under a fixed Huffman code (realisable as it
 * stands); the chosen prefix is then re-encoded with its own codes and block splits (never
 * larger), and the slack this frees is filled by pricing again under that stream's code.
 */
export function deflateOptimalPrefix(data: Uint8Array, cap: number, hint: number, opts: OptimalDeflateOptions): { len: number; data: Uint8Array } {
  const passes = opts.passes ?? 1;
  const maxDist = (1 << opts.windowBits) - 1;
  let window = Math.min(data.length, MAX_PARSE_WINDOW, Math.max(hint + 256, Math.ceil(hint * 1.2)));
  let matches = findMatches(data.subarray(0, window), maxDist, opts.maxChain ?? 128);
  // Statistics to price symbols with: first those of the hinted prefix.
  let counts = countSymbols(data, refinedParse(data, matches, 0, Math.min(hint, window), fixedCostModel(), 1));
  let best: { len: number; data: Uint8Array } | undefined;
  for (let round = 0; round < 4; ) {
    // The first pricing gives every symbol a code (the window may hold symbols the hinted prefix
    // lacks); later ones use the previous stream's own code, whose header is smaller, and price
    // its unused symbols out.
    const plan = planBlock(best ? counts : smoothed(counts));
    const steps = parseCosts(data, matches, integerCostModel(plan), 0, window);
    const budget = 8 * cap - plan.headerBits - plan.litLens[END_OF_BLOCK];
    let fit = window;
    while (fit > 0 && steps.cost[fit] > budget) fit--;
    if (fit === window && window < data.length && window < MAX_PARSE_WINDOW) {
      // Everything in the window fits: widen it and price again.
      window = Math.min(data.length, MAX_PARSE_WINDOW, window * 2);
      matches = findMatches(data.subarray(0, window), maxDist, opts.maxChain ?? 128);
      continue;
    }
    round++;
    if (fit === 0 || (best && fit <= best.len)) break;
    const seed = backtrack(steps, 0, fit);
    const encoded = encodePrefix(data, matches, fit, passes, costModelOf(countSymbols(data, seed)), seed);
    let out = encoded.out;
    if (fit === data.length) {
      // The whole rest fits: the last chunk is exact, so its size is what counts; a parse refined
      // from the neutral model sometimes ends lower.
      const neutral = encodePrefix(data, matches, fit, 3, fixedCostModel()).out;
      if (neutral.length < out.length) out = neutral;
    }
    if (out.length > cap) {
      // Its own codes came out longer (length limits, header runs): the priced code fits by construction.
      const w = new BitWriter(cap);
      writeBlock(w, data, seed, plan, true);
      out = w.finish();
    }
    best = { len: fit, data: out };
    if (fit === data.length) break;
    counts = encoded.counts;
  }
  if (!best) return { len: 0, data: new Uint8Array(0) };
  return best;
}

/** Deflate stream of data[0, to) using `matches` (found over at least that much), and the symbol counts of its one-block parse. */
function encodePrefix(data: Uint8Array, matches: MatchTable, to: number, passes: number, costs: CostModel, seed?: Parse): { out: Uint8Array; counts: SymbolCounts } {
  const whole = refinedParse(data, matches, 0, to, costs, passes, seed);
  const counts = countSymbols(data, whole);
  const single = new BitWriter(64 + (to >> 1));
  writeBlock(single, data, whole, planBlock(counts), true);
  const one = single.finish();

  // Split the parse where two codes beat one, then re-parse every block under its own statistics.
  const cuts = splitParse(data, whole);
  if (cuts.length === 0) return { out: one, counts };
  const pos = symbolPositions(whole);
  const bounds = [0, ...cuts.map((k) => pos[k]), to];
  const w = new BitWriter(64 + (to >> 1));
  for (let b = 0; b + 1 < bounds.length; b++) {
    const blockSeed = sliceParse(whole, pos, bounds[b], bounds[b + 1]);
    const parse = refinedParse(data, matches, bounds[b], bounds[b + 1], costModelOf(countSymbols(data, blockSeed)), Math.max(1, passes - 1), blockSeed);
    writeBlock(w, data, parse, planBlock(countSymbols(data, parse)), b + 2 === bounds.length);
  }
  const split = w.finish();
  return { out: split.length < one.length ? split : one, counts };
}

/** Counts with every symbol present at least once, so that the planned code can code anything. */
function smoothed({ litFreq, distFreq }: SymbolCounts): SymbolCounts {
  return { litFreq: litFreq.map((f) => 2 * f + 1), distFreq: distFreq.map((f) => 2 * f + 1) };
}

/** The exact code lengths of a plan as a cost model (symbols without a code cannot be used). */
function integerCostModel(plan: BlockPlan): CostModel {
  const cost = (l: number): number => (l === 0 ? Infinity : l);
  return { lit: Float64Array.from(plan.litLens, cost), dist: Float64Array.from(plan.distLens, cost) };
}

/**
 * The cheapest of `passes` + 1 parses of data[from, to): the first under `costs`, each next one
 * under the statistics of the one before. `seed`, when given, competes as well.
 */
function refinedParse(data: Uint8Array, m: MatchTable, from: number, to: number, costs: CostModel, passes: number, seed?: Parse): Parse {
  let best = seed;
  let bestBits = seed ? planBlock(countSymbols(data, seed)).bits : Infinity;
  for (let p = 0; p <= passes; p++) {
    const parse = cheapestParse(data, m, costs, from, to);
    const counts = countSymbols(data, parse);
    const bits = planBlock(counts).bits;
    if (bits < bestBits) {
      best = parse;
      bestBits = bits;
    }
    costs = costModelOf(counts);
  }
  return best!;
}

/**
 * For every position, the matches worth considering: pairs (length, distance) with increasing
 * length. A match of length L at distance d also offers every shorter length at d; the parser
 * takes, for each length, the first pair long enough.
 */
interface MatchTable {
  start: Int32Array; // pairs of position i: [start[i], start[i + 1])
  len: Int32Array;
  dist: Int32Array;
}

const HASH_BITS = 15;
const HASH_MASK = (1 << HASH_BITS) - 1;
// Runs this long or longer are keyed as "long" (any of them offers a full 258-byte match).
const LONG_RUN = MAX_MATCH + 1;

/**
 * Hash-chain match finder that is not blinded by runs of one byte value (the zero runs of delta
 * patches). Positions starting a run of 3 or more equal bytes are chained by (byte, run length,
 * byte after the run) instead of by their first three bytes: a hash chain of "000" would hold
 * every position of every zero run, and the earlier occurrence of "0000 X" that gives a long
 * match would lie thousands of entries down. Inside a run the match at distance 1 covers the
 * rest of the run; at a run's start, the previous run of the same byte offers its tail.
 */
function findMatches(data: Uint8Array, maxDist: number, maxChain: number): MatchTable {
  const n = data.length;
  const head = new Int32Array(1 << HASH_BITS).fill(-1);
  const runHead = new Int32Array(1 << HASH_BITS).fill(-1);
  const prev = new Int32Array(Math.max(1, n));
  const runLen = new Int32Array(Math.max(1, n));
  for (let i = n - 1; i >= 0; i--) runLen[i] = i + 1 < n && data[i + 1] === data[i] ? Math.min(runLen[i + 1] + 1, LONG_RUN) : 1;
  const lastRunStart = new Int32Array(256).fill(-1);
  const lastRunLen = new Int32Array(256);
  const start = new Int32Array(n + 1);
  let len = new Int32Array(Math.max(16, n >> 2));
  let dist = new Int32Array(len.length);
  let count = 0;
  let bestLen = 0;
  let limit = 0;
  const offer = (i: number, cand: number): void => {
    if (cand < 0 || i - cand > maxDist) return;
    let l = 0;
    while (l < limit && data[cand + l] === data[i + l]) l++;
    if (l <= bestLen || l < MIN_MATCH) return;
    bestLen = l;
    if (count === len.length) {
      const grownLen = new Int32Array(len.length * 2);
      grownLen.set(len);
      len = grownLen;
      const grownDist = new Int32Array(dist.length * 2);
      grownDist.set(dist);
      dist = grownDist;
    }
    len[count] = l;
    dist[count] = i - cand;
    count++;
  };
  for (let i = 0; i < n; i++) {
    start[i] = count;
    if (i + MIN_MATCH > n) continue;
    limit = Math.min(MAX_MATCH, n - i);
    bestLen = MIN_MATCH - 1;
    const v = data[i];
    const run = runLen[i];
    const h = ((v << 10) ^ (data[i + 1] << 5) ^ data[i + 2]) & HASH_MASK;
    if (run >= MIN_MATCH) {
      const after = run < LONG_RUN && i + run < n ? data[i + run] : 256;
      const key = (v * 40503 + run * 2654435 + after * 97) & HASH_MASK;
      if (i > 0 && data[i - 1] === v) offer(i, i - 1);
      else if (lastRunStart[v] >= 0) {
        // The previous run of v: its last `run` bytes (or all of it, if shorter).
        const ps = lastRunStart[v];
        const pl = lastRunLen[v];
        offer(i, ps + Math.max(0, pl - run));
      }
      if (i === 0 || data[i - 1] !== v) {
        lastRunStart[v] = i;
        lastRunLen[v] = run;
      }
      let cand = runHead[key];
      for (let steps = 0; bestLen < limit && cand >= 0 && i - cand <= maxDist && steps < maxChain; steps++) {
        offer(i, cand);
        cand = prev[cand];
      }
      prev[i] = runHead[key];
      runHead[key] = i;
    } else {
      let cand = head[h];
      for (let steps = 0; bestLen < limit && cand >= 0 && i - cand <= maxDist && steps < maxChain; steps++) {
        if (data[cand + bestLen] === data[i + bestLen]) offer(i, cand);
        cand = prev[cand];
      }
      prev[i] = head[h];
      head[h] = i;
    }
  }
  start[n] = count;
  return { start, len, dist };
}

/** Bit costs of literal/length symbols and distance symbols (extra bits excluded). */
interface CostModel {
  lit: Float64Array;
  dist: Float64Array;
}

/** The fixed Huffman code's lengths: a neutral first guess. */
function fixedCostModel(): CostModel {
  const lit = new Float64Array(LITLEN_SYMBOLS);
  for (let s = 0; s < LITLEN_SYMBOLS; s++) lit[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
  return { lit, dist: new Float64Array(DIST_SYMBOLS).fill(5) };
}

/** Entropy costs from a parse's symbol counts; unseen symbols cost as if seen half a time. */
function costModelOf({ litFreq, distFreq }: SymbolCounts): CostModel {
  const model = (freq: Uint32Array): Float64Array => {
    let total = 0;
    for (const f of freq) total += f;
    const out = new Float64Array(freq.length);
    for (let s = 0; s < freq.length; s++) out[s] = Math.log2(total / (freq[s] || 0.5));
    return out;
  };
  return { lit: model(litFreq), dist: model(distFreq) };
}

/** A parse of data[from, ...): one entry per symbol, length 0 for a literal (the byte at its position). */
interface Parse {
  from: number;
  lens: Uint16Array;
  dists: Uint16Array;
  count: number;
}

/**
 * The cheapest parse of data[from, to) under `costs`: shortest path over positions, each step a
 * literal or a match of any available length. Deep inside a long repetition (a 258-byte match
 * here and at the previous position) only the full-length match is tried: shorter ones there
 * only lead to positions that the neighbouring full-length matches reach as cheaply.
 */
function cheapestParse(data: Uint8Array, m: MatchTable, costs: CostModel, from: number, to: number): Parse {
  return backtrack(parseCosts(data, m, costs, from, to), from, to - from);
}

/** Shortest-path state of a parse: cost[r] = cheapest bits for data[from, from + r), and the last step there. */
interface ParseSteps {
  cost: Float32Array;
  stepLen: Uint16Array;
  stepDist: Uint16Array;
}

/** The shortest-path costs behind cheapestParse, for every prefix of data[from, to). */
function parseCosts(data: Uint8Array, m: MatchTable, costs: CostModel, from: number, to: number): ParseSteps {
  const n = to - from;
  // Float32 halves the memory of long windows; integer costs (the fitting search's) stay exact.
  const cost = new Float32Array(n + 1).fill(Infinity);
  const stepLen = new Uint16Array(n + 1);
  const stepDist = new Uint16Array(n + 1);
  // Cost of a match by length (symbol + extra bits), and by distance symbol.
  const lenCost = new Float64Array(MAX_MATCH + 1);
  for (let l = MIN_MATCH; l <= MAX_MATCH; l++) lenCost[l] = costs.lit[257 + LEN_CODE[l]] + LEN_EXTRA[LEN_CODE[l]];
  const distCost = new Float64Array(DIST_SYMBOLS);
  for (let c = 0; c < DIST_SYMBOLS; c++) distCost[c] = costs.dist[c] + DIST_EXTRA[c];
  cost[0] = 0;
  let prevFull = false;
  for (let r = 0; r < n; r++) {
    const i = from + r;
    const here = cost[r];
    const lit = here + costs.lit[data[i]];
    if (lit < cost[r + 1]) {
      cost[r + 1] = lit;
      stepLen[r + 1] = 0;
    }
    const first = m.start[i];
    const last = m.start[i + 1] - 1;
    const room = n - r;
    const full = last >= first && m.len[last] === MAX_MATCH && room >= MAX_MATCH;
    if (full && prevFull) {
      const d = m.dist[last];
      const c = here + distCost[DIST_CODE[d]] + lenCost[MAX_MATCH];
      if (c < cost[r + MAX_MATCH]) {
        cost[r + MAX_MATCH] = c;
        stepLen[r + MAX_MATCH] = MAX_MATCH;
        stepDist[r + MAX_MATCH] = d;
      }
    } else {
      let l = MIN_MATCH;
      for (let k = first; k <= last && l <= room; k++) {
        const d = m.dist[k];
        const base = here + distCost[DIST_CODE[d]];
        for (const top = Math.min(m.len[k], room); l <= top; l++) {
          const c = base + lenCost[l];
          if (c < cost[r + l]) {
            cost[r + l] = c;
            stepLen[r + l] = l;
            stepDist[r + l] = d;
          }
        }
      }
    }
    prevFull = full;
  }
  return { cost, stepLen, stepDist };
}

/** The parse of data[from, from + n) that `steps` ends with: walked back from n, in emission order. */
function backtrack({ stepLen, stepDist }: ParseSteps, from: number, n: number): Parse {
  let count = 0;
  for (let r = n; r > 0; r -= stepLen[r] || 1) count++;
  const lens = new Uint16Array(count);
  const dists = new Uint16Array(count);
  for (let r = n, k = count - 1; r > 0; k--) {
    lens[k] = stepLen[r];
    dists[k] = stepDist[r];
    r -= stepLen[r] || 1;
  }
  return { from, lens, dists, count };
}

/** Byte position of every symbol of `parse` (and of its end, at index count). */
function symbolPositions(parse: Parse): Int32Array {
  const pos = new Int32Array(parse.count + 1);
  pos[0] = parse.from;
  for (let k = 0; k < parse.count; k++) pos[k + 1] = pos[k] + (parse.lens[k] || 1);
  return pos;
}

/** The symbols of `parse` covering data[from, to) (both symbol boundaries). */
function sliceParse(parse: Parse, pos: Int32Array, from: number, to: number): Parse {
  let a = 0;
  while (pos[a] < from) a++;
  let b = a;
  while (pos[b] < to) b++;
  return { from, lens: parse.lens.slice(a, b), dists: parse.dists.slice(a, b), count: b - a };
}

/**
 * Symbol indices where `parse` is best cut into blocks: a range is halved at the cut that
 * minimises the two blocks' exact sizes (coarse candidates, then refined around the best) when
 * that beats one block, recursively.
 */
function splitParse(data: Uint8Array, parse: Parse): number[] {
  const pos = symbolPositions(parse);
  // Candidates are compared by an entropy estimate (cheap); a cut is kept only when the exact
  // sizes of the two blocks beat the one block's.
  const estimateOf = (a: number, b: number): number => estimateBits(countRange(data, parse, pos, a, b));
  const bitsOf = (a: number, b: number): number => planBlock(countRange(data, parse, pos, a, b)).bits;
  const cuts: number[] = [];
  const MIN_SYMBOLS = 64;
  const split = (a: number, b: number, whole: number): void => {
    if (b - a < 2 * MIN_SYMBOLS) return;
    let lo = a + MIN_SYMBOLS;
    let hi = b - MIN_SYMBOLS;
    let bestCut = -1;
    let bestEstimate = Infinity;
    for (;;) {
      const step = Math.max(1, Math.floor((hi - lo) / 8));
      for (let c = lo; c <= hi; c += step) {
        const e = estimateOf(a, c) + estimateOf(c, b);
        if (e < bestEstimate) {
          bestEstimate = e;
          bestCut = c;
        }
      }
      if (step === 1) break;
      lo = Math.max(a + MIN_SYMBOLS, bestCut - step);
      hi = Math.min(b - MIN_SYMBOLS, bestCut + step);
    }
    const left = bitsOf(a, bestCut);
    const right = bitsOf(bestCut, b);
    if (left + right >= whole) return;
    split(a, bestCut, left);
    cuts.push(bestCut);
    split(bestCut, b, right);
  };
  split(0, parse.count, bitsOf(0, parse.count));
  return cuts;
}

/** Approximate size in bits of a block with these counts: entropy, extra bits, ~5 header bits per used symbol. */
function estimateBits({ litFreq, distFreq }: SymbolCounts): number {
  let bits = 17;
  for (const freq of [litFreq, distFreq]) {
    let total = 0;
    for (const f of freq) total += f;
    for (let s = 0; s < freq.length; s++) {
      const f = freq[s];
      if (f > 0) bits += f * Math.log2(total / f) + 5;
    }
  }
  for (let c = 0; c < LEN_EXTRA.length; c++) bits += litFreq[257 + c] * LEN_EXTRA[c];
  for (let c = 0; c < DIST_SYMBOLS; c++) bits += distFreq[c] * DIST_EXTRA[c];
  return bits;
}

/** How often each literal/length and distance symbol occurs in a parse (end-of-block included). */
interface SymbolCounts {
  litFreq: Uint32Array;
  distFreq: Uint32Array;
}

/** Symbol counts of a parse over `data` (literal bytes looked up by position). */
function countSymbols(data: Uint8Array, parse: Parse): SymbolCounts {
  return countRange(data, parse, undefined, 0, parse.count);
}

/** Symbol counts of the symbols a..b-1 of `parse`; `positions` (symbolPositions) saves a walk from the start. */
function countRange(data: Uint8Array, parse: Parse, positions: Int32Array | undefined, a: number, b: number): SymbolCounts {
  const litFreq = new Uint32Array(LITLEN_SYMBOLS);
  const distFreq = new Uint32Array(DIST_SYMBOLS);
  litFreq[END_OF_BLOCK] = 1;
  let pos = positions ? positions[a] : parse.from;
  for (let k = a; k < b; k++) {
    const l = parse.lens[k];
    if (l === 0) {
      litFreq[data[pos]]++;
      pos++;
    } else {
      litFreq[257 + LEN_CODE[l]]++;
      distFreq[DIST_CODE[parse.dists[k]]]++;
      pos += l;
    }
  }
  return { litFreq, distFreq };
}

/** A dynamic block's codes, header content and exact size in bits. */
interface BlockPlan {
  litLens: Uint8Array;
  distLens: Uint8Array;
  hlit: number;
  hdist: number;
  runs: Array<{ sym: number; extra: number }>;
  clLens: Uint8Array;
  hclen: number;
  /** Block header (type, code lengths) bits. */
  headerBits: number;
  /** Whole block: header, symbols with their extra bits, end-of-block. */
  bits: number;
}

const CL_EXTRA_BITS = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 7];

/** Huffman codes and header for a block with these symbol counts, and its size in bits. */
function planBlock({ litFreq, distFreq }: SymbolCounts): BlockPlan {
  const litLens = huffmanLengths(atLeastTwo(litFreq), 15);
  const distLens = huffmanLengths(atLeastTwo(distFreq), 15);
  let hlit = LITLEN_SYMBOLS;
  while (hlit > 257 && litLens[hlit - 1] === 0) hlit--;
  let hdist = DIST_SYMBOLS;
  while (hdist > 1 && distLens[hdist - 1] === 0) hdist--;
  // The two length sequences are run-length coded separately (no run crosses from one to the other).
  const runs = [...runLengthCode(litLens.subarray(0, hlit)), ...runLengthCode(distLens.subarray(0, hdist))];
  const clFreq = new Uint32Array(19);
  for (const r of runs) clFreq[r.sym]++;
  const clLens = huffmanLengths(atLeastTwo(clFreq), 7);
  let hclen = 19;
  while (hclen > 4 && clLens[CL_ORDER[hclen - 1]] === 0) hclen--;

  let headerBits = 3 + 5 + 5 + 4 + 3 * hclen;
  for (const r of runs) headerBits += clLens[r.sym] + CL_EXTRA_BITS[r.sym];
  let bits = headerBits;
  for (let sym = 0; sym < LITLEN_SYMBOLS; sym++) {
    if (litFreq[sym] === 0) continue;
    bits += litFreq[sym] * (litLens[sym] + (sym > 256 ? LEN_EXTRA[sym - 257] : 0));
  }
  for (let c = 0; c < DIST_SYMBOLS; c++) bits += distFreq[c] * (distLens[c] + DIST_EXTRA[c]);
  return { litLens, distLens, hlit, hdist, runs, clLens, hclen, headerBits, bits };
}

/** Appends `parse` as one dynamic block coded by `plan`. */
function writeBlock(w: BitWriter, data: Uint8Array, parse: Parse, plan: BlockPlan, final: boolean): void {
  const { litLens, distLens, hlit, hdist, runs, clLens, hclen } = plan;
  const litCodes = canonicalCodes(litLens);
  const distCodes = canonicalCodes(distLens);
  const clCodes = canonicalCodes(clLens);
  w.bits(final ? 1 : 0, 1); // BFINAL
  w.bits(2, 2); // BTYPE = dynamic Huffman
  w.bits(hlit - 257, 5);
  w.bits(hdist - 1, 5);
  w.bits(hclen - 4, 4);
  for (let k = 0; k < hclen; k++) w.bits(clLens[CL_ORDER[k]], 3);
  for (const r of runs) {
    w.code(clCodes[r.sym], clLens[r.sym]);
    if (CL_EXTRA_BITS[r.sym] > 0) w.bits(r.extra, CL_EXTRA_BITS[r.sym]);
  }
  let pos = parse.from;
  for (let k = 0; k < parse.count; k++) {
    const l = parse.lens[k];
    if (l === 0) {
      const b = data[pos++];
      w.code(litCodes[b], litLens[b]);
      continue;
    }
    const lc = LEN_CODE[l];
    w.code(litCodes[257 + lc], litLens[257 + lc]);
    if (LEN_EXTRA[lc] > 0) w.bits(l - LEN_BASE[lc], LEN_EXTRA[lc]);
    const d = parse.dists[k];
    const dc = DIST_CODE[d];
    w.code(distCodes[dc], distLens[dc]);
    if (DIST_EXTRA[dc] > 0) w.bits(d - DIST_BASE[dc], DIST_EXTRA[dc]);
    pos += l;
  }
  w.code(litCodes[END_OF_BLOCK], litLens[END_OF_BLOCK]);
}

/** `freq` with the first unused symbols given a count of 1 until at least two are used (a complete code). */
function atLeastTwo(freq: Uint32Array): Uint32Array {
  let used = 0;
  for (const f of freq) if (f > 0) used++;
  const out = Uint32Array.from(freq);
  for (let s = 0; used < 2 && s < out.length; s++) {
    if (out[s] === 0) {
      out[s] = 1;
      used++;
    }
  }
  return out;
}

/**
 * Huffman code lengths for `freq` (at least two symbols used), none longer than `limit`: a
 * plain Huffman tree, rebuilt from flattened counts while it is too deep.
 */
function huffmanLengths(freq: Uint32Array, limit: number): Uint8Array {
  let counts = Uint32Array.from(freq);
  for (;;) {
    const lens = huffmanTreeDepths(counts);
    let max = 0;
    for (const l of lens) if (l > max) max = l;
    if (max <= limit) return lens;
    counts = counts.map((f) => (f === 0 ? 0 : (f >> 1) | 1));
  }
}

/** Depth of every used symbol in a Huffman tree built by the two-queue method. */
function huffmanTreeDepths(freq: Uint32Array): Uint8Array {
  const symbols: number[] = [];
  for (let s = 0; s < freq.length; s++) if (freq[s] > 0) symbols.push(s);
  symbols.sort((a, b) => freq[a] - freq[b] || a - b);
  const leaves = symbols.length;
  // Nodes 0..leaves-1 are the sorted leaves, then internal nodes in creation order.
  const weight = new Float64Array(2 * leaves);
  const parent = new Int32Array(2 * leaves).fill(-1);
  for (let k = 0; k < leaves; k++) weight[k] = freq[symbols[k]];
  let leaf = 0;
  let inner = leaves;
  let next = leaves;
  const takeSmallest = (): number => {
    if (leaf < leaves && (inner >= next || weight[leaf] <= weight[inner])) return leaf++;
    return inner++;
  };
  while (next < 2 * leaves - 1) {
    const a = takeSmallest();
    const b = takeSmallest();
    weight[next] = weight[a] + weight[b];
    parent[a] = next;
    parent[b] = next;
    next++;
  }
  const depth = new Int32Array(2 * leaves);
  for (let k = 2 * leaves - 3; k >= 0; k--) depth[k] = depth[parent[k]] + 1;
  const lens = new Uint8Array(freq.length);
  for (let k = 0; k < leaves; k++) lens[symbols[k]] = depth[k];
  return lens;
}

/** Canonical Huffman codes for code lengths (RFC 1951 §3.2.2). */
function canonicalCodes(lens: Uint8Array): Uint16Array {
  const blCount = new Uint16Array(16);
  for (const l of lens) if (l > 0) blCount[l]++;
  const nextCode = new Uint16Array(16);
  let code = 0;
  for (let bits = 1; bits <= 15; bits++) {
    code = (code + blCount[bits - 1]) << 1;
    nextCode[bits] = code;
  }
  const codes = new Uint16Array(lens.length);
  for (let s = 0; s < lens.length; s++) if (lens[s] > 0) codes[s] = nextCode[lens[s]]++;
  return codes;
}

/** Code-length sequence as code-length-code symbols: 0-15 as is, 16 repeat previous, 17/18 zero runs. */
function runLengthCode(lens: Uint8Array): Array<{ sym: number; extra: number }> {
  const out: Array<{ sym: number; extra: number }> = [];
  for (let i = 0; i < lens.length; ) {
    const v = lens[i];
    let run = 1;
    while (i + run < lens.length && lens[i + run] === v) run++;
    i += run;
    if (v === 0) {
      while (run >= 11) {
        const r = Math.min(run, 138);
        out.push({ sym: 18, extra: r - 11 });
        run -= r;
      }
      if (run >= 3) {
        out.push({ sym: 17, extra: run - 3 });
        run = 0;
      }
    } else {
      out.push({ sym: v, extra: 0 });
      run--;
      while (run >= 3) {
        const r = Math.min(run, 6);
        out.push({ sym: 16, extra: r - 3 });
        run -= r;
      }
    }
    for (; run > 0; run--) out.push({ sym: v, extra: 0 });
  }
  return out;
}

/** Deflate's bit order: values LSB first, Huffman codes MSB first. */
class BitWriter {
  private buf: Uint8Array;
  private len = 0;
  private acc = 0;
  private nacc = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(16, capacity));
  }

  bits(value: number, count: number): void {
    this.acc |= value << this.nacc;
    this.nacc += count;
    while (this.nacc >= 8) {
      this.byte(this.acc & 0xff);
      this.acc >>>= 8;
      this.nacc -= 8;
    }
  }

  code(code: number, length: number): void {
    let rev = 0;
    for (let k = 0; k < length; k++) rev |= ((code >> k) & 1) << (length - 1 - k);
    this.bits(rev, length);
  }

  finish(): Uint8Array {
    if (this.nacc > 0) this.byte(this.acc & 0xff);
    this.acc = 0;
    this.nacc = 0;
    return this.buf.slice(0, this.len);
  }

  private byte(b: number): void {
    if (this.len === this.buf.length) {
      const grown = new Uint8Array(this.buf.length * 2);
      grown.set(this.buf);
      this.buf = grown;
    }
    this.buf[this.len++] = b;
  }
}
