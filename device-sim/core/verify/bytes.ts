// Byte helpers shared by the verifiers. CONSTRAINED TS: index loops over typed arrays
// (Duktape has no typed-array methods besides set/subarray), no allocation.

/** a[aOff .. aOff+n) equals b[bOff .. bOff+n), in time independent of where they differ. */
export function bytesEqual(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number, n: number): boolean {
  let d = 0;
  for (let i = 0; i < n; i++) d |= a[aOff + i] ^ b[bOff + i];
  return d === 0;
}

/** Copies src[srcOff .. srcOff+n) to dst[dstOff ..]. */
export function copyBytes(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, n: number): void {
  for (let i = 0; i < n; i++) dst[dstOff + i] = src[srcOff + i];
}
