// Reader for the HSS/LMS vector files under test/vectors/hss-lms (Botan's .vec format, see
// test/vectors/SOURCES.md): `# comment` lines, `Key = hex` lines, a blank line between cases.
import { readFileSync } from "node:fs";
import path from "node:path";
import { STANDARD_VECTORS } from "./standard-vectors.js";
import { lmsSignatureLength } from "../../device-sim/core/crypto/hss-lms.js";

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

/**
 * The same cases with byte fields: hex fields as bytes, and the decimal `q` and `TypeId`
 * fields as 4-byte big-endian values (as they appear inside keys and signatures).
 */
export function readHssLmsVectorBytes(file: string): { name: string; fields: Record<string, Buffer> }[] {
  return readHssLmsVectors(file).map((c) => {
    const fields: Record<string, Buffer> = {};
    for (const [k, v] of Object.entries(c.fields)) {
      if (k === "q" || k === "TypeId") {
        const b = Buffer.alloc(4);
        b.writeUInt32BE(Number(v), 0);
        fields[k] = b;
      } else fields[k] = Buffer.from(v, "hex");
    }
    return { name: c.name, fields };
  });
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

/** A derived single-level (L = 1) HSS case: key, signature and message bytes. */
export interface SingleLevelCase {
  name: string;
  pk: Uint8Array;
  sig: Uint8Array;
  msg: Uint8Array;
}

/**
 * Single-level HSS cases cut out of the two-level RFC 8554 test cases: each level's LMS key
 * with L = 1 in front, its LMS signature with Nspk = 0 in front, over what that level signs
 * (the next level's public key, or the message). RFC 8554 test case 2 thereby gives an
 * H10/W4 and an H5/W8 case, test case 1 two H5/W8 cases.
 */
export function singleLevelCases(): SingleLevelCase[] {
  const out: SingleLevelCase[] = [];
  const u32 = (v: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(v); return b; };
  // The top level's types are the key's (checked by the verifier), so its length follows from them.
  const lmsSigLen = (key: Buffer): number => lmsSignatureLength(key.readUInt32BE(8), key.readUInt32BE(4));
  for (const c of hssVerifyCases().supported) {
    const pk = Buffer.from(c.fields.PublicKey, "hex"), sig = Buffer.from(c.fields.Signature, "hex");
    const msg = Buffer.from(c.fields.Msg, "hex");
    const n0 = lmsSigLen(pk);
    const key1 = sig.subarray(4 + n0, 4 + n0 + 56);
    const sig1 = sig.subarray(4 + n0 + 56);
    const name = (lvl: number, key: Buffer): string =>
      `${c.name}, level ${lvl} alone (LMS type ${key.readUInt32BE(0)}, LM-OTS type ${key.readUInt32BE(4)})`;
    out.push({ name: name(1, pk.subarray(4)), pk: new Uint8Array(Buffer.concat([u32(1), pk.subarray(4)])),
      sig: new Uint8Array(Buffer.concat([u32(0), sig.subarray(4, 4 + n0)])), msg: new Uint8Array(key1) });
    out.push({ name: name(2, key1), pk: new Uint8Array(Buffer.concat([u32(1), key1])),
      sig: new Uint8Array(Buffer.concat([u32(0), sig1])), msg: new Uint8Array(msg) });
  }
  return out;
}

/** The keygen/sign vectors of lms.vec then lmots.vec, each with its file name. */
export function keygenVectors(): (VecCase & { file: string })[] {
  return ["lms.vec", "lmots.vec"].flatMap((file) => readHssLmsVectors(file).map((c) => ({ ...c, file })));
}
