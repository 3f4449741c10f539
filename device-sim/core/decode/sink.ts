// Where a payload decoder's output goes, and where a delta reads its precursor from.

/** The device side of a payload decoder: the image slot being written and the running image. */
export interface PayloadSink {
  /**
   * Decoded image bytes buf[off .. off + len), in image order. buf is the decoder's ring or
   * buffer (or the chunk's data): valid only during the call, so copy or write it out.
   */
  output(buf: Uint8Array, off: number, len: number): void;
  /** Copies precursor bytes [pos, pos + len) into buf[off ..]; pos + len <= precursor size. */
  readPrecursor(pos: number, buf: Uint8Array, off: number, len: number): void;
}
