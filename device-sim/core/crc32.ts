// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), the check value of every serial
// frame (formats/PROTOCOL.md §2). Table-driven; the table is built once at module load.
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

// Continue a CRC over buf[off .. off+len). Start with crc = 0 (the pre/post inversion is
// done inside, so crc32Update(crc32Update(0, a), b) == crc32(a || b)). Result is unsigned.
export function crc32Update(crc: number, buf: Uint8Array, off: number, len: number): number {
  let c = ~crc;
  const end = off + len;
  for (let i = off; i < end; i++) {
    c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  }
  return ~c >>> 0;
}

export function crc32(buf: Uint8Array, off: number, len: number): number {
  return crc32Update(0, buf, off, len);
}
