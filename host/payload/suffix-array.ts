// Suffix array construction by induced sorting (SA-IS, Nong, Zhang and Chan 2009): linear time,
// so the delta encoder can index precursor images of several MiB in well under a second.
//
// Outline, on a string whose last symbol is a unique smallest sentinel: every suffix is S-type
// (smaller than the next suffix) or L-type (larger); an LMS position is an S-type position right
// after an L-type one. Sorting the LMS substrings by one induced pass, naming them, and sorting
// the reduced string of names (recursively when names repeat) gives the order of the LMS
// suffixes, from which a second induced pass sorts all suffixes.

/** The suffix array of `bytes`: the start offsets of its suffixes in lexicographic order. */
export function suffixArray(bytes: Uint8Array): Int32Array {
  const n = bytes.length;
  // Shift the alphabet by one so that 0 is free for the sentinel.
  const s = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) s[i] = bytes[i] + 1;
  s[n] = 0;
  const withSentinel = sortSuffixes(s, 257);
  // The sentinel's suffix sorts first.
  return withSentinel.slice(1);
}

/**
 * Suffix array of `s` (values 0..alphabet-1) whose last symbol is the only 0.
 * Returns a new Int32Array of s.length entries.
 */
function sortSuffixes(s: Int32Array, alphabet: number): Int32Array {
  const n = s.length;
  const sa = new Int32Array(n);
  if (n === 1) return sa;
  // sType[i] = 1 when suffix i is smaller than suffix i + 1.
  const sType = new Uint8Array(n);
  sType[n - 1] = 1;
  for (let i = n - 2; i >= 0; i--) {
    sType[i] = s[i] < s[i + 1] || (s[i] === s[i + 1] && sType[i + 1] === 1) ? 1 : 0;
  }
  const isLms = (i: number): boolean => i > 0 && sType[i] === 1 && sType[i - 1] === 0;

  const counts = new Int32Array(alphabet);
  for (let i = 0; i < n; i++) counts[s[i]]++;
  const bucket = new Int32Array(alphabet);
  const bucketStarts = (): void => {
    let sum = 0;
    for (let c = 0; c < alphabet; c++) {
      bucket[c] = sum;
      sum += counts[c];
    }
  };
  const bucketEnds = (): void => {
    let sum = 0;
    for (let c = 0; c < alphabet; c++) {
      sum += counts[c];
      bucket[c] = sum;
    }
  };
  // From LMS suffixes placed at their bucket ends, L-type suffixes are placed left to right at
  // their bucket starts, then S-type suffixes right to left at their bucket ends.
  const induce = (): void => {
    bucketStarts();
    for (let i = 0; i < n; i++) {
      const j = sa[i] - 1;
      if (j >= 0 && sType[j] === 0) sa[bucket[s[j]]++] = j;
    }
    bucketEnds();
    for (let i = n - 1; i >= 0; i--) {
      const j = sa[i] - 1;
      if (j >= 0 && sType[j] === 1) sa[--bucket[s[j]]] = j;
    }
  };

  // Pass 1: sort the LMS substrings.
  sa.fill(-1);
  bucketEnds();
  for (let i = 1; i < n; i++) if (isLms(i)) sa[--bucket[s[i]]] = i;
  induce();

  // Name the LMS substrings in sorted order; equal substrings share a name.
  let lmsCount = 0;
  for (let i = 0; i < n; i++) if (isLms(sa[i])) sa[lmsCount++] = sa[i];
  const nameAt = new Int32Array(n).fill(-1);
  let names = 0;
  let prev = -1;
  for (let k = 0; k < lmsCount; k++) {
    const p = sa[k];
    if (prev < 0 || !sameLmsSubstring(s, sType, isLms, p, prev)) {
      names++;
      prev = p;
    }
    nameAt[p] = names - 1;
  }
  // The reduced string: names in text order, ending with the sentinel's (the unique 0).
  const lmsPositions = new Int32Array(lmsCount);
  const reduced = new Int32Array(lmsCount);
  for (let i = 1, k = 0; i < n; i++) {
    if (isLms(i)) {
      lmsPositions[k] = i;
      reduced[k++] = nameAt[i];
    }
  }
  let reducedSa: Int32Array;
  if (names < lmsCount) reducedSa = sortSuffixes(reduced, names);
  else {
    reducedSa = new Int32Array(lmsCount);
    for (let k = 0; k < lmsCount; k++) reducedSa[reduced[k]] = k;
  }

  // Pass 2: LMS suffixes in their true order at the bucket ends, then induce all.
  sa.fill(-1);
  bucketEnds();
  for (let k = lmsCount - 1; k >= 0; k--) {
    const p = lmsPositions[reducedSa[k]];
    sa[--bucket[s[p]]] = p;
  }
  induce();
  return sa;
}

/** Whether the LMS substrings starting at a and b (up to and including the next LMS position) are equal. */
function sameLmsSubstring(s: Int32Array, sType: Uint8Array, isLms: (i: number) => boolean, a: number, b: number): boolean {
  for (let d = 0; ; d++) {
    // The sentinel is unique, so a mismatch stops the walk before either end runs off the string.
    if (s[a + d] !== s[b + d] || sType[a + d] !== sType[b + d]) return false;
    if (d > 0 && (isLms(a + d) || isLms(b + d))) return true;
  }
}
