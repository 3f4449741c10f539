// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320, as zlib), the check value of every
// serial frame (formats/PROTOCOL.md §2) and of the state record. Table-driven: one
// 256-entry Int32Array built once at module load, shared by every user.
// Constrained TS: typed arrays only, no allocation per call.

const CRC_TABLE = new Int32Array(256);

function buildCrcTable(): void {
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) {
      c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    }
    CRC_TABLE[n] = c;
  }
}
buildCrcTable();

// The shared table, for callers that run the update inline in their own hot loop
// (framing.ts): with the register `c` (int32, starts at -1 = 0xFFFFFFFF) and a byte b,
//   c = table[(c ^ b) & 0xff] ^ (c >>> 8)
// and the CRC of what was fed is ~c >>> 0. Read-only by convention.
export function crc32Table(): Int32Array {
  return CRC_TABLE;
}

// The register (before the final inversion, as int32) after feeding any data followed by
// its own CRC, little-endian: body || crc32le(body) always leaves this value, so a receiver
// checks a frame in the same pass that decodes it (no look-back for the CRC field).
export const CRC32_RESIDUE = 0xdebb20e3 | 0;

// Continue a CRC over buf[off .. off+len). Start with crc = 0 (the pre/post inversion is
// done inside, so crc32Update(crc32Update(0, a), b) == crc32(a || b)). Result is unsigned.
export function crc32Update(crc: number, buf: Uint8Array, off: number, len: number): number {
  const t = CRC_TABLE; // a local: Duktape and Espruino look closure variables up by name
  let c = ~crc;
  const end = off + len;
  for (let i = off; i < end; i++) c = t[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

export function crc32(buf: Uint8Array, off: number, len: number): number {
  return crc32Update(0, buf, off, len);
}
