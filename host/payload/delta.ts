// Delta encoder (payload-encoding 3): the patch stream that turns the precursor image into the
// new one, found the way bsdiff finds it (C. Percival, "Naive differences of executable code").
//
// Small source changes to a program move code and shift addresses, so the new image is mostly
// the old one with its bytes in the same order but with scattered small differences (pointers,
// branch offsets). Rather than exact matches only, the encoder looks for approximate matches:
// regions of the new image that line up with a region of the old one at a fixed offset and agree
// on most bytes. Such a region's diff bytes (new - old, mod 256) are mostly zero: the runs of
// zeros become copies and the rest add ranges (below). Bytes that line up with nothing become
// literal bytes.
//
// The scan walks the new image keeping a current alignment (old offset - new offset). At each
// position it asks the suffix array of the old image for the longest exact match. If that match
// is explained by the current alignment (every byte of it already agrees there) the scan jumps
// over it; if it beats the current alignment by more than a few bytes, the region under the
// current alignment is closed and the new match's alignment takes over. Closing a region extends
// the previous alignment forwards and the new one backwards as far as matching bytes outnumber
// differing ones; what neither covers is literal.
//
// A region's diff bytes are zero wherever the new image still holds the old bytes, and those are
// most of them, so each region is cut where its diff bytes are zero for long enough: a zero run
// at the start of a region, and every later run of at least minCopyRun zero bytes, becomes the
// copy of a record (a varint, where deflate would spend some bits per 258 zero bytes), and the
// diff bytes between runs become the records' add ranges.
import { PatchWriter } from "./patch-format.js";
import { suffixArray } from "./suffix-array.js";

/** The reference applier, next to the encoder whose output it checks. */
export { applyPatch } from "./patch-format.js";

// How many more agreeing bytes a new exact match needs over the current alignment to start a
// new region (bsdiff's published threshold).
const SWITCH_MARGIN = 8;

/**
 * The shortest run of zero diff bytes inside a region that becomes a record of its own (as its
 * copy). Measured on the bench's MCU firmware and JS application updates (bench/payload.mjs),
 * patch deflated at window 12: 2 gives the smallest total; 1 is within 0.5 %, 4 to 8 cost 1-3 %
 * more, 16 3 %, 64 5 %. Deflate codes the repeated short headers of many small records (a
 * shifted address: copy, add 1, 0, 0) more cheaply than the zero bytes between the changes.
 */
export const MIN_COPY_RUN = 2;

/**
 * The patch stream (SPEC §15) that applyPatch(oldImg, patch) turns into newImg. Every record
 * starts inside oldImg (even one with empty copy and add ranges) and every copy and add range lies
 * inside it; the last record's seek is 0. An empty newImg gives an empty patch. minCopyRun: the
 * shortest run of zero diff bytes after a region's start that becomes a copy (at least 1).
 */
export function diffImages(oldImg: Uint8Array, newImg: Uint8Array, minCopyRun = MIN_COPY_RUN): Uint8Array {
  if (!Number.isInteger(minCopyRun) || minCopyRun < 1) throw new RangeError(`minCopyRun ${minCopyRun} is not a positive integer`);
  const out = new RecordQueue(minCopyRun);
  const oldLen = oldImg.length;
  const newLen = newImg.length;
  if (newLen === 0) return out.finish();
  if (oldLen === 0) {
    out.push(new Uint8Array(0), newImg, 0);
    return out.finish();
  }
  const finder = new MatchFinder(oldImg);

  // The open region starts at newImg[regionNew] aligned with oldImg[regionOld].
  let regionNew = 0;
  let regionOld = 0;
  let offset = 0;
  // The latest exact match: newImg[scan, scan + len) === oldImg[matchOld, matchOld + len).
  let scan = 0;
  let len = 0;
  let matchOld = 0;
  while (scan < newLen) {
    // agreeing = bytes of newImg[scan, counted) equal to the old image under the current offset.
    let agreeing = 0;
    scan += len;
    let counted = scan;
    for (; scan < newLen; scan++) {
      len = finder.longestMatch(newImg, scan);
      matchOld = finder.matchPos;
      for (; counted < scan + len; counted++) {
        const j = counted + offset;
        if (j < oldLen && oldImg[j] === newImg[counted]) agreeing++;
      }
      if ((len === agreeing && len !== 0) || len > agreeing + SWITCH_MARGIN) break;
      const j = scan + offset;
      if (j < oldLen && oldImg[j] === newImg[scan]) agreeing--;
    }
    if (len === agreeing && scan !== newLen) continue;

    // Close the region [regionNew, scan) and open one at the new match.
    const atEnd = scan === newLen;
    let fwd = forwardExtent(oldImg, newImg, regionOld, regionNew, scan - regionNew);
    let back = atEnd ? 0 : backwardExtent(oldImg, newImg, matchOld, scan, scan - regionNew);
    const overlap = regionNew + fwd - (scan - back);
    if (overlap > 0) {
      const keep = splitOverlap(oldImg, newImg, regionOld + fwd - overlap, matchOld - back, regionNew + fwd - overlap, overlap);
      fwd += keep - overlap;
      back -= keep;
    }
    const diff = new Uint8Array(fwd);
    for (let k = 0; k < fwd; k++) diff[k] = newImg[regionNew + k] - oldImg[regionOld + k];
    const literal = newImg.subarray(regionNew + fwd, scan - back);
    const seek = atEnd ? 0 : matchOld - back - (regionOld + fwd);
    out.push(diff, literal, seek);
    regionNew = scan - back;
    regionOld = matchOld - back;
    offset = matchOld - scan;
  }
  return out.finish();
}

/**
 * Length of the prefix of the alignment newImg[n..] ~ oldImg[o..] (at most `limit` bytes) that
 * maximises agreeing minus differing bytes.
 */
function forwardExtent(oldImg: Uint8Array, newImg: Uint8Array, o: number, n: number, limit: number): number {
  const max = Math.min(limit, oldImg.length - o);
  let score = 0;
  let best = 0;
  let bestLen = 0;
  for (let i = 0; i < max; i++) {
    score += oldImg[o + i] === newImg[n + i] ? 1 : -1;
    if (score > best) {
      best = score;
      bestLen = i + 1;
    }
  }
  return bestLen;
}

/**
 * Length of the suffix of the alignment ending before newImg[n] ~ oldImg[o] (at most `limit`
 * bytes, never before oldImg[0]) that maximises agreeing minus differing bytes.
 */
function backwardExtent(oldImg: Uint8Array, newImg: Uint8Array, o: number, n: number, limit: number): number {
  const max = Math.min(limit, o);
  let score = 0;
  let best = 0;
  let bestLen = 0;
  for (let i = 1; i <= max; i++) {
    score += oldImg[o - i] === newImg[n - i] ? 1 : -1;
    if (score > best) {
      best = score;
      bestLen = i;
    }
  }
  return bestLen;
}

/**
 * Where the forward extension (old at `fwdOld`) should hand over to the backward one (old at
 * `backOld`) within `overlap` new bytes starting at newImg[n]: the number of overlap bytes the
 * forward alignment keeps, chosen to maximise the bytes that agree under their alignment.
 */
function splitOverlap(oldImg: Uint8Array, newImg: Uint8Array, fwdOld: number, backOld: number, n: number, overlap: number): number {
  let score = 0;
  let best = 0;
  let keep = 0;
  for (let i = 0; i < overlap; i++) {
    if (newImg[n + i] === oldImg[fwdOld + i]) score++;
    if (newImg[n + i] === oldImg[backOld + i]) score--;
    if (score > best) {
      best = score;
      keep = i + 1;
    }
  }
  return keep;
}

/** Longest exact matches of a position of the new image in the old one, by binary search of its suffix array. */
class MatchFinder {
  private readonly sa: Int32Array;
  /** Old image offset of the match found by the last longestMatch call. */
  matchPos = 0;

  constructor(private readonly old: Uint8Array) {
    this.sa = suffixArray(old);
  }

  /** Length of the longest prefix of newImg[at..] occurring in the old image; its offset is left in matchPos. */
  longestMatch(newImg: Uint8Array, at: number): number {
    const { old, sa } = this;
    // Invariant: suffix sa[lo] < pattern <= suffix sa[hi], with the common prefix lengths
    // known; a probe starts comparing after the shorter of the two (both bounds share it).
    let lo = -1;
    let hi = sa.length;
    let lcpLo = 0;
    let lcpHi = 0;
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      const o = sa[mid];
      let l = Math.min(lcpLo, lcpHi);
      while (o + l < old.length && at + l < newImg.length && old[o + l] === newImg[at + l]) l++;
      const patternDone = at + l === newImg.length;
      if (!patternDone && (o + l === old.length || old[o + l] < newImg[at + l])) {
        lo = mid;
        lcpLo = l;
      } else {
        hi = mid;
        lcpHi = l;
      }
    }
    if (lo >= 0 && (hi >= sa.length || lcpLo >= lcpHi)) {
      this.matchPos = sa[lo];
      return lcpLo;
    }
    this.matchPos = sa[hi];
    return lcpHi;
  }
}

/**
 * Patch records held back by one so that a record with no bytes (a pure seek, which the scan
 * produces when it switches alignment right at a region start) folds into its predecessor. Each
 * region arrives whole (diff, literal, seek) and leaves as records whose copies are its zero runs.
 */
class RecordQueue {
  private readonly writer = new PatchWriter();
  private held: { copy: number; diff: Uint8Array; literal: Uint8Array; seek: number } | undefined;

  constructor(private readonly minCopyRun: number) {}

  /** Queues a region: diff bytes over the precursor at the current position, literal bytes, then the seek. */
  push(diff: Uint8Array, literal: Uint8Array, seek: number): void {
    if (this.held && diff.length === 0 && literal.length === 0) {
      this.held.seek += seek;
      return;
    }
    // copy = the zero run the next record starts with; addStart = where its add range starts.
    let at = 0;
    while (at < diff.length && diff[at] === 0) at++;
    let copy = at;
    let addStart = at;
    while (at < diff.length) {
      if (diff[at] !== 0) {
        at++;
        continue;
      }
      let run = at;
      while (run < diff.length && diff[run] === 0) run++;
      if (run - at >= this.minCopyRun) {
        this.hold(copy, diff.subarray(addStart, at), new Uint8Array(0), 0);
        copy = run - at;
        addStart = run;
      }
      at = run;
    }
    this.hold(copy, diff.subarray(addStart), literal, seek);
  }

  /** The records written so far, and the last one held. */
  finish(): Uint8Array {
    this.flush();
    return this.writer.finish();
  }

  private hold(copy: number, diff: Uint8Array, literal: Uint8Array, seek: number): void {
    this.flush();
    this.held = { copy, diff, literal, seek };
  }

  private flush(): void {
    if (this.held) this.writer.record(this.held.copy, this.held.diff, this.held.literal, this.held.seek);
    this.held = undefined;
  }
}
