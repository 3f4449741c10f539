// Codec 1 (deflate) encoder: the image cut into wire chunks whose data is each ONE raw deflate
// stream (RFC 1951, final block, no header) of the longest input run that compresses into
// chunk-size bytes, zero-padded to chunk-size; the last wire chunk is exact (no padding).
// Every chunk starts with empty history, so a device authenticates one wire chunk and decodes it
// on its own with a window of 2^windowBits bytes.
//
// Finding the run: deflated size grows roughly linearly with the input length, so a guess from
// the previous chunk's ratio is first widened to a bracket (fits / does not fit) with galloping
// steps, then narrowed to one byte alternating interpolation and bisection. The size is not
// strictly monotonic in the length, so "longest" means: this length fits and one more byte does
// not. Each zlib strategy in `strategies` is searched; then the cost-optimised encoder
// (deflate-optimal.ts) starts from the best zlib run and, reading the cost of every prefix off
// one parse, usually fits 2-5 % more input (up to 20 % on delta patches). The encoder consuming
// the most input wins the chunk (zlib's stored blocks win on incompressible data).
import { constants, deflateRawSync } from "node:zlib";
import { deflateOptimalPrefix } from "./deflate-optimal.js";

/** Smallest window codec 1 allows (SPEC §15): back-references reach at most 2^windowBits bytes. */
export const MIN_WINDOW_BITS = 9;
/** Largest window codec 1 allows (deflate's own limit, 32 KiB). */
export const MAX_WINDOW_BITS = 15;

/** Options of encodeChunkedDeflate. */
export interface ChunkedDeflateOptions {
  /**
   * zlib strategies tried for every chunk (default: Z_DEFAULT_STRATEGY, plus Z_FILTERED when the
   * cost-optimised encoder is off; with it on, Z_FILTERED almost never wins a chunk).
   */
  strategies?: readonly number[];
  /**
   * Also try the cost-optimised encoder (deflate-optimal.ts) from the best zlib run, and keep it
   * when it consumes more input (default true; slower, 3-20 % smaller).
   */
  optimal?: boolean;
}

/** How one wire chunk was made (for benchmarks and diagnostics). */
export interface DeflateChunkInfo {
  /** Input bytes this chunk decodes to. */
  inputLen: number;
  /** Deflate bytes before padding. */
  deflatedLen: number;
  /** The zlib strategy that produced it, or OPTIMAL_ENCODER. */
  strategy: number;
}

/** The encoded stream and its per-chunk record. */
export interface ChunkedDeflateResult {
  wire: Uint8Array;
  chunks: DeflateChunkInfo[];
}

/** DeflateChunkInfo.strategy of a chunk made by the cost-optimised encoder. */
export const OPTIMAL_ENCODER = -1;

const DEFAULT_STRATEGIES: readonly number[] = [constants.Z_DEFAULT_STRATEGY, constants.Z_FILTERED];
// First guess of the expansion ratio before any chunk has been measured.
const INITIAL_RATIO = 2;

/**
 * The codec 1 wire stream of `image` for wire chunks of `chunkSize` bytes and a window of
 * 2^windowBits bytes (9..15): chunk data = one raw deflate stream zero-padded to chunkSize, the
 * last chunk unpadded. Throws RangeError for a window outside 9..15 or a chunk too small to hold
 * the deflate stream of a single byte.
 */
export function encodeChunkedDeflate(image: Uint8Array, chunkSize: number, windowBits: number, opts: ChunkedDeflateOptions = {}): Uint8Array {
  return encodeChunkedDeflateDetailed(image, chunkSize, windowBits, opts).wire;
}

/** encodeChunkedDeflate with the per-chunk input and deflate lengths. */
export function encodeChunkedDeflateDetailed(
  image: Uint8Array,
  chunkSize: number,
  windowBits: number,
  opts: ChunkedDeflateOptions = {}
): ChunkedDeflateResult {
  if (!Number.isInteger(windowBits) || windowBits < MIN_WINDOW_BITS || windowBits > MAX_WINDOW_BITS) {
    throw new RangeError(`window bits must be ${MIN_WINDOW_BITS}..${MAX_WINDOW_BITS}, got ${windowBits}`);
  }
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunk size must be a positive integer, got ${chunkSize}`);
  const strategies = opts.strategies ?? (opts.optimal === false ? DEFAULT_STRATEGIES : [constants.Z_DEFAULT_STRATEGY]);
  if (strategies.length === 0) throw new RangeError("at least one zlib strategy is needed");

  const ratios = strategies.map(() => INITIAL_RATIO);
  const streams: Uint8Array[] = [];
  const chunks: DeflateChunkInfo[] = [];
  let pos = 0;
  do {
    let best: RunFit | undefined;
    let bestIndex = 0;
    // With the cost-optimised encoder on, zlib's run is only its starting point (and the
    // fallback): a bracket to within 1/64 is enough, narrowed to the byte only if zlib wins.
    const slack = opts.optimal === false ? 1 : 64;
    for (let i = 0; i < strategies.length; i++) {
      const fit = longestFittingRun(image, pos, chunkSize, windowBits, strategies[i], ratios[i], slack);
      ratios[i] = fit.len / Math.max(1, fit.data.length);
      if (!best || fit.len > best.len || (fit.len === best.len && fit.data.length < best.data.length)) {
        best = fit;
        bestIndex = i;
      }
    }
    if (opts.optimal !== false) {
      const opt = deflateOptimalPrefix(image.subarray(pos), chunkSize, best!.len, { windowBits });
      if (opt.len > 0 && (opt.len > best!.len || (opt.len === best!.len && opt.data.length < best!.data.length))) {
        best = opt;
        bestIndex = -1;
      } else {
        const exact = longestFittingRun(image, pos, chunkSize, windowBits, strategies[bestIndex], best!.len / Math.max(1, chunkSize), 1);
        if (exact.len > best!.len) best = exact;
      }
    }
    const run = best!;
    pos += run.len;
    streams.push(run.data);
    chunks.push({ inputLen: run.len, deflatedLen: run.data.length, strategy: bestIndex < 0 ? OPTIMAL_ENCODER : strategies[bestIndex] });
  } while (pos < image.length);
  // Chunk i's stream at i * chunkSize; the gaps stay zero (the padding); the last is exact.
  const wire = new Uint8Array((streams.length - 1) * chunkSize + streams[streams.length - 1].length);
  streams.forEach((stream, i) => wire.set(stream, i * chunkSize));
  return { wire, chunks };
}

interface RunFit {
  len: number;
  data: Uint8Array;
}

/**
 * The longest run image[pos, pos + len) whose raw deflate fits `cap` bytes (len >= 1, or the whole
 * empty remainder of an empty image). `ratio` (input bytes per output byte) seeds the guess.
 * With `slack` > 1 the search stops once the failing length is within len/slack of the fitting one.
 */
function longestFittingRun(image: Uint8Array, pos: number, cap: number, windowBits: number, strategy: number, ratio: number, slack: number): RunFit {
  const rem = image.length - pos;
  const zopts = { level: 9, memLevel: 9, windowBits, strategy };
  const deflate = (len: number): Uint8Array => deflateRawSync(image.subarray(pos, pos + len), zopts);
  if (rem === 0) return { len: 0, data: deflate(0) };

  const guess = Math.max(1, Math.min(rem, Math.floor(cap * ratio)));
  const first = deflate(guess);
  // Bracket: lo fits (size loData), hi does not fit (size hiSize), lo < hi.
  let lo = 0;
  let loData: Uint8Array | undefined;
  let hi = 0;
  let hiSize = 0;
  if (first.length <= cap) {
    lo = guess;
    loData = first;
    if (lo === rem) return { len: lo, data: loData };
    let step = Math.max(16, lo >> 5);
    for (;;) {
      const h = Math.min(rem, lo + step);
      const d = deflate(h);
      if (d.length > cap) {
        hi = h;
        hiSize = d.length;
        break;
      }
      lo = h;
      loData = d;
      if (lo === rem) return { len: lo, data: loData };
      step *= 2;
    }
  } else {
    hi = guess;
    hiSize = first.length;
    let step = Math.max(16, hi >> 5);
    for (;;) {
      const l = Math.max(1, hi - step);
      const d = deflate(l);
      if (d.length <= cap) {
        lo = l;
        loData = d;
        break;
      }
      if (l === 1) throw new RangeError(`chunk size ${cap} cannot hold the deflate stream of one byte`);
      hi = l;
      hiSize = d.length;
      step *= 2;
    }
  }
  // Narrow to adjacent lengths. Interpolation converges fast on the near-linear size curve;
  // every other probe bisects so that a noisy curve cannot stall it.
  let interpolate = true;
  while (hi - lo > 1 && (slack <= 1 || (hi - lo) * slack > lo)) {
    let m: number;
    if (interpolate && hiSize > loData!.length) {
      m = lo + Math.floor(((cap - loData!.length) * (hi - lo)) / (hiSize - loData!.length));
    } else {
      m = lo + ((hi - lo) >> 1);
    }
    m = Math.min(hi - 1, Math.max(lo + 1, m));
    interpolate = !interpolate;
    const d = deflate(m);
    if (d.length <= cap) {
      lo = m;
      loData = d;
    } else {
      hi = m;
      hiSize = d.length;
    }
  }
  return { len: lo, data: loData! };
}
