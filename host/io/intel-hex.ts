// Intel HEX (the text format firmware toolchains emit: objcopy -O ihex, IAR, Keil) read into
// one contiguous image and the address it starts at. Records 00 (data), 01 (end of file),
// 02 (extended segment address), 03 (start segment address), 04 (extended linear address),
// 05 (start linear address). Every record's checksum is verified; any fault is one line
// naming the file and line. Bytes between data records (gaps) are filled with 0xFF, the
// value of erased NOR flash (what objcopy -O binary --gap-fill 0xff gives), or refused.
import { FwsealError } from "../errors.js";

/** What to do with addresses inside the image that no data record covers. */
export type HexGaps = "fill" | "refuse";

/** An Intel HEX file as one image. */
export interface HexImage {
  /** The bytes from the lowest to the highest address written, gaps filled. */
  image: Uint8Array;
  /** The lowest address a data record writes: where the image belongs in the device's memory. */
  loadAddress: number;
  /** The start address of a type 05 (or CS:IP of a type 03) record, if any. */
  entry?: number;
  /** Bytes filled in gaps. */
  gapBytes: number;
}

/** The largest span (lowest to highest address) accepted: a stray far-away record is a mistake, not a 4 GiB image. */
export const MAX_HEX_SPAN = 256 * 1024 * 1024;

const RECORD = /^:([0-9A-Fa-f]{2})+$/;

/** True if `head` (the first bytes of a file) starts with a well-formed Intel HEX record with a correct checksum. */
export function looksLikeIntelHex(head: Uint8Array): boolean {
  const text = Buffer.from(head.subarray(0, 600)).toString("latin1").replace(/^\uFEFF/, "");
  const nl = text.search(/\r?\n/);
  if (nl < 0) return false;
  const line = text.slice(0, nl).trim();
  if (!RECORD.test(line) || line.length < 11) return false;
  const b = Buffer.from(line.slice(1), "hex");
  let sum = 0;
  for (const x of b) sum = (sum + x) & 0xff;
  return sum === 0 && b[0] + 5 === b.length && b[3] <= 5;
}

function fault(file: string, line: number, msg: string): FwsealError {
  return new FwsealError("INPUT_UNREADABLE", `${file}:${line}: Intel HEX: ${msg}`);
}

const hex2 = (n: number): string => `0x${n.toString(16).padStart(2, "0").toUpperCase()}`;

/** Parses Intel HEX `text` (from `file`, named in errors) into one image. */
export function parseIntelHex(text: string, file: string, gaps: HexGaps = "fill"): HexImage {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const segments: { addr: number; data: Uint8Array; line: number }[] = [];
  let base = 0;
  let entry: number | undefined;
  let ended = false;
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const line = lines[i].trim();
    if (line === "") continue;
    if (ended) throw fault(file, n, "data after the end-of-file record");
    if (!line.startsWith(":")) throw fault(file, n, "a record starts with ':'");
    if (!RECORD.test(line)) throw fault(file, n, "a record is an even number of hex digits after ':'");
    const b = Buffer.from(line.slice(1), "hex");
    if (b.length < 5) throw fault(file, n, "record too short");
    const count = b[0];
    if (b.length !== count + 5) throw fault(file, n, `byte count says ${count} data bytes, the record holds ${b.length - 5}`);
    let sum = 0;
    for (let k = 0; k < b.length - 1; k++) sum = (sum + b[k]) & 0xff;
    const want = (0x100 - sum) & 0xff;
    if (want !== b[b.length - 1]) throw fault(file, n, `checksum ${hex2(b[b.length - 1])}, computed ${hex2(want)}`);
    const offset = (b[1] << 8) | b[2];
    const type = b[3];
    const data = b.subarray(4, 4 + count);
    const needs = (len: number, what: string): void => {
      if (count !== len) throw fault(file, n, `a ${what} record has ${len} data bytes, not ${count}`);
    };
    switch (type) {
      case 0x00:
        if (count > 0) segments.push({ addr: base + offset, data: new Uint8Array(data), line: n });
        break;
      case 0x01:
        needs(0, "end-of-file (01)");
        ended = true;
        break;
      case 0x02:
        needs(2, "extended segment address (02)");
        base = ((data[0] << 8) | data[1]) * 16;
        break;
      case 0x03:
        needs(4, "start segment address (03)");
        entry = ((data[0] << 8) | data[1]) * 16 + ((data[2] << 8) | data[3]);
        break;
      case 0x04:
        needs(2, "extended linear address (04)");
        base = ((data[0] << 8) | data[1]) * 0x10000;
        break;
      case 0x05:
        needs(4, "start linear address (05)");
        entry = ((data[0] << 24) >>> 0) + (data[1] << 16) + (data[2] << 8) + data[3];
        break;
      default:
        throw fault(file, n, `unknown record type ${hex2(type)} (known: 00 to 05)`);
    }
  }
  if (!ended) throw fault(file, lines.length, "no end-of-file record (:00000001FF): the file is truncated");
  if (segments.length === 0) throw new FwsealError("INPUT_UNREADABLE", `${file}: Intel HEX: no data records`);
  return assemble(segments, file, gaps, entry);
}

/** Lays the data records out from the lowest address, checking overlaps and gaps. */
function assemble(segments: { addr: number; data: Uint8Array; line: number }[], file: string, gaps: HexGaps, entry: number | undefined): HexImage {
  const sorted = [...segments].sort((a, b) => a.addr - b.addr || a.line - b.line);
  const low = sorted[0].addr;
  let high = low;
  for (const s of sorted) high = Math.max(high, s.addr + s.data.length);
  if (high - low > MAX_HEX_SPAN) {
    throw new FwsealError("INPUT_UNREADABLE", `${file}: Intel HEX: data spans 0x${low.toString(16)}..0x${high.toString(16)} (${high - low} bytes), more than ${MAX_HEX_SPAN}: records far apart belong in separate images`);
  }
  const image = new Uint8Array(high - low).fill(0xff);
  let covered = low;
  let gapBytes = 0;
  for (const s of sorted) {
    if (s.addr < covered) throw fault(file, s.line, `data at 0x${s.addr.toString(16)} overlaps data written by an earlier record`);
    if (s.addr > covered) {
      if (gaps === "refuse") throw fault(file, s.line, `gap of ${s.addr - covered} bytes at 0x${covered.toString(16)}..0x${s.addr.toString(16)} (no data record covers it; fill it with 0xFF by leaving out --hex-gaps refuse)`);
      gapBytes += s.addr - covered;
    }
    image.set(s.data, s.addr - low);
    covered = s.addr + s.data.length;
  }
  return { image, loadAddress: low, ...(entry !== undefined ? { entry } : {}), gapBytes };
}
