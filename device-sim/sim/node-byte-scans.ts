// The serial frame decoder's optional native scans (Primitives.crc32 and findZero) on Node:
// zlib's CRC-32 and TypedArray.indexOf. The simulator runs the decoder's native path, as the
// MCU firmware (C) and Espruino boards (E.CRC32, indexOf) do; on a Node without zlib.crc32
// (before 20.15) there are none and the decoder keeps its per-byte loop.
import * as zlib from "node:zlib";
import type { Primitives } from "../core/crypto/primitives.js";

type ByteScans = Required<Pick<Primitives, "crc32" | "findZero">>;

export function nodeByteScans(): ByteScans | null {
  const crc = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
  if (typeof crc !== "function") return null;
  return {
    crc32: (buf, off, len) => crc(buf.subarray(off, off + len)),
    findZero: (buf, from, to) => {
      const k = buf.subarray(from, to).indexOf(0);
      return k < 0 ? to : from + k;
    },
  };
}
