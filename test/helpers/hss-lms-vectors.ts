// Reader for the HSS/LMS vector files under test/vectors/hss-lms (Botan's .vec format, see
// test/vectors/SOURCES.md): `# comment` lines, `Key = hex` lines, a blank line between cases.
import { readFileSync } from "node:fs";
import path from "node:path";
import { STANDARD_VECTORS } from "./standard-vectors.js";

/** One case of a .vec file: its fields (lowercase hex) and the comment lines just above it. */
export interface VecCase {
  /** The last comment line before the case ("" when none), e.g. "RFC 8554 - Test Case 1". */
  name: string;
  fields: Record<string, string>;
}

/** The cases of one file under test/vectors/hss-lms (e.g. "hss_lms_verify.vec"). */
export function readHssLmsVectors(file: string): VecCase[] {
  const out: VecCase[] = [];
  let name = "";
  let fields: Record<string, string> | null = null;
  const flush = (): void => {
    if (fields) out.push({ name, fields });
    fields = null;
  };
  for (const raw of readFileSync(path.join(STANDARD_VECTORS, "hss-lms", file), "utf8").split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "") {
      flush();
    } else if (line.startsWith("#")) {
      flush();
      const text = line.replace(/^#+\s*/, "");
      if (text !== "") name = text;
    } else if (!line.startsWith("[")) {
      const eq = line.indexOf("=");
      if (eq < 0) throw new Error(`${file}: unexpected line: ${line.slice(0, 60)}`);
      fields ??= {};
      fields[line.slice(0, eq).trim()] = line.slice(eq + 1).trim().toLowerCase();
    }
  }
  flush();
  return out;
}

/** Bytes of a hex field ("" gives an empty array). */
export function fromHex(h: string): Uint8Array {
  return new Uint8Array(Buffer.from(h, "hex"));
}

/** The HSS/LMS cases fwseal must accept, and those it must refuse as unsupported parameter sets. */
export function hssVerifyCases(): { supported: VecCase[]; unsupported: VecCase[] } {
  const all = readHssLmsVectors("hss_lms_verify.vec");
  // Supported: LMS types 5..9 with LM-OTS types 1..4 at every level; the public key shows the top one.
  const isSupported = (c: VecCase): boolean => {
    const pk = fromHex(c.fields.PublicKey);
    const lms = Buffer.from(pk).readUInt32BE(4);
    const ots = Buffer.from(pk).readUInt32BE(8);
    return lms >= 5 && lms <= 9 && ots >= 1 && ots <= 4;
  };
  return { supported: all.filter(isSupported), unsupported: all.filter((c) => !isSupported(c)) };
}
