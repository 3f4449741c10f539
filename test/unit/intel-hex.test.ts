// Intel HEX input for pack: every record type 00-05, checksums verified with one line naming
// the file and line, gaps filled with 0xFF or refused, the load address kept in the manifest
// (key 17) and shown by inspect. (The cross-check against objcopy is in
// test/system/intel-hex-objcopy.test.ts.)
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { looksLikeIntelHex, parseIntelHex } from "../../host/io/intel-hex.js";
import { fwseal, fwsealOk, errorLines, tempDir } from "../helpers/cli.js";
import { sampleImage } from "../helpers/images.js";
import { ExitCode } from "../../host/exit-codes.js";
import { decodeManifest, encodeManifest, type Manifest } from "../../formats/host-only/manifest.js";

/** One record: byte count, 16-bit offset, type, data, checksum. */
function record(type: number, offset: number, data: number[] | Uint8Array): string {
  const b = [data.length, (offset >> 8) & 0xff, offset & 0xff, type, ...data];
  const sum = (0x100 - (b.reduce((s, x) => s + x, 0) & 0xff)) & 0xff;
  return ":" + Buffer.from([...b, sum]).toString("hex").toUpperCase();
}
const EOF = ":00000001FF";

/** Intel HEX for `bytes` at `address` (04 records at 64 KiB boundaries, 16 data bytes per record). */
function toHex(bytes: Uint8Array, address: number): string[] {
  const lines: string[] = [];
  let upper = -1;
  for (let o = 0; o < bytes.length; o += 16) {
    const a = address + o;
    if (a >>> 16 !== upper) {
      upper = a >>> 16;
      lines.push(record(0x04, 0, [upper >> 8, upper & 0xff]));
    }
    lines.push(record(0x00, a & 0xffff, bytes.subarray(o, Math.min(o + 16, bytes.length))));
  }
  return lines;
}

describe("parseIntelHex", () => {
  it("reads 00/04/05 records, across a 64 KiB boundary, with the load address and entry", () => {
    const img = sampleImage(70000, 4);
    const text = [...toHex(img, 0x0800_f000), record(0x05, 0, [0x08, 0x00, 0xf1, 0x01]), EOF].join("\r\n") + "\r\n";
    const h = parseIntelHex(text, "fw.hex");
    expect(h.loadAddress).toBe(0x0800_f000);
    expect(h.entry).toBe(0x0800_f101);
    expect(h.gapBytes).toBe(0);
    expect(Buffer.from(h.image).equals(Buffer.from(img))).toBe(true);
    expect(looksLikeIntelHex(Buffer.from(text))).toBe(true);
    expect(looksLikeIntelHex(img)).toBe(false);
  });

  it("reads 02 (segment base x 16) and 03 (CS:IP entry) records", () => {
    const text = [record(0x02, 0, [0x10, 0x00]), record(0x00, 0x0010, [1, 2, 3, 4]), record(0x03, 0, [0x10, 0x00, 0x00, 0x20]), EOF].join("\n");
    const h = parseIntelHex(text, "seg.hex");
    expect(h.loadAddress).toBe(0x10000 + 0x10);
    expect(h.entry).toBe(0x10020);
    expect([...h.image]).toEqual([1, 2, 3, 4]);
  });

  it("fills gaps with 0xFF, or refuses them naming the line and the addresses", () => {
    const text = [record(0x00, 0x0000, [0xaa, 0xbb]), record(0x00, 0x0005, [0xcc]), EOF].join("\n");
    const h = parseIntelHex(text, "gap.hex");
    expect([...h.image]).toEqual([0xaa, 0xbb, 0xff, 0xff, 0xff, 0xcc]);
    expect(h.gapBytes).toBe(3);
    expect(() => parseIntelHex(text, "gap.hex", "refuse")).toThrow(/^gap\.hex:2: Intel HEX: gap of 3 bytes at 0x2\.\.0x5/);
  });

  it("one precise error per fault, naming the file and line", () => {
    const good = record(0x00, 0, [1, 2, 3]);
    const badSum = good.slice(0, -2) + "00";
    const cases: [string[], RegExp][] = [
      [[good, badSum, EOF], /^x\.hex:2: Intel HEX: checksum 0x00, computed 0x[0-9A-F]{2}$/],
      [[good, "10000000AA", EOF], /^x\.hex:2: Intel HEX: a record starts with ':'$/],
      [[good, ":0100000", EOF], /^x\.hex:2: Intel HEX: a record is an even number of hex digits/],
      [[":0300000001FF", EOF], /^x\.hex:1: Intel HEX: byte count says 3 data bytes, the record holds 1$/],
      [[record(0x06, 0, []), EOF], /^x\.hex:1: Intel HEX: unknown record type 0x06/],
      [[record(0x04, 0, [1]), EOF], /^x\.hex:1: Intel HEX: a extended linear address \(04\) record has 2 data bytes, not 1$/],
      [[good], /^x\.hex:1: Intel HEX: no end-of-file record/],
      [[good, EOF, good], /^x\.hex:3: Intel HEX: data after the end-of-file record$/],
      [[good, record(0x00, 1, [9]), EOF], /^x\.hex:2: Intel HEX: data at 0x1 overlaps/],
      [[EOF], /^x\.hex: Intel HEX: no data records$/],
      [[record(0x04, 0, [0x00, 0x00]), good, record(0x04, 0, [0x20, 0x00]), good, EOF], /spans 0x0\.\.0x20000003 .*separate images/]
    ];
    for (const [lines, re] of cases) expect(() => parseIntelHex(lines.join("\n"), "x.hex"), lines.join("|")).toThrow(re);
  });
});

describe("the load address in the manifest (key 17)", () => {
  it("encodes as an optional uint and decodes back; absent, the manifest is byte-identical to before", () => {
    const m: Manifest = {
      vendorId: new Uint8Array(16).fill(1), classId: new Uint8Array(16).fill(2), sequence: 1, version: "1", imageSize: 100,
      chunkSize: 4096, chunkCount: 1, chainHead: new Uint8Array(32)
    };
    const plain = encodeManifest(m);
    const withAddr = encodeManifest({ ...m, loadAddress: 0x0800_0000 });
    expect(withAddr.length).toBeGreaterThan(plain.length);
    expect(decodeManifest(withAddr).loadAddress).toBe(0x0800_0000);
    expect(decodeManifest(plain).loadAddress).toBeUndefined();
    expect(decodeManifest(withAddr).extra.size).toBe(0);
  });
});

describe("fwseal pack with Intel HEX", () => {
  let dir: string;
  const f = (n: string): string => path.join(dir, n);
  const meta = ["--seq", "3", "--vendor", "acme.example", "--class", "meter", "--fw-version", "1.0"];
  const img = sampleImage(40000, 9);

  beforeAll(async () => {
    dir = tempDir("ihex");
    await fwsealOk(["keygen", "-o", f("root")]);
    fs.writeFileSync(f("fw.hex"), [...toHex(img, 0x0800_0000), EOF].join("\n") + "\n");
    fs.writeFileSync(f("fw.bin"), img);
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("detects the format by content, keeps the load address, and the bundle carries the same image as the binary's", async () => {
    const p = await fwsealOk(["pack", f("fw.hex"), "--key", f("root.key"), "--root", f("root.pub"), ...meta, "-o", f("hex.fwb"), "--json"]);
    expect(JSON.parse(p.stdout)).toMatchObject({ inputFormat: "ihex", loadAddress: 0x0800_0000, imageSize: img.length });
    const b = await fwsealOk(["pack", f("fw.bin"), "--key", f("root.key"), "--root", f("root.pub"), ...meta, "-o", f("bin.fwb"), "--json"]);
    expect(JSON.parse(b.stdout)).toMatchObject({ inputFormat: "binary", loadAddress: null });
    expect(JSON.parse(p.stdout).chainHead).toBe(JSON.parse(b.stdout).chainHead);
    const i = await fwsealOk(["inspect", f("hex.fwb")]);
    expect(i.stdout).toMatch(/load address {5}0x08000000/);
    expect(JSON.parse((await fwsealOk(["inspect", f("hex.fwb"), "--json"])).stdout).manifest.loadAddress).toBe(0x0800_0000);
    await fwsealOk(["extract", f("hex.fwb"), "--root", f("root.pub"), "-o", f("out.bin")]);
    expect(fs.readFileSync(f("out.bin")).equals(Buffer.from(img))).toBe(true);
  });

  it("--input-format binary packs the text as it is; --input-format ihex refuses a binary; a bad checksum is one line, exit 3, no output", async () => {
    const asText = await fwsealOk(["pack", f("fw.hex"), "--key", f("root.key"), ...meta, "--input-format", "binary", "--root", f("root.pub"), "-o", f("text.fwb"), "--json"]);
    expect(JSON.parse(asText.stdout).imageSize).toBe(fs.statSync(f("fw.hex")).size);
    const notHex = await fwseal(["pack", f("fw.bin"), "--key", f("root.key"), ...meta, "--input-format", "ihex", "-o", f("x.fwb")]);
    expect(notHex.code).toBe(ExitCode.INPUT);
    const lines = fs.readFileSync(f("fw.hex"), "utf8").split("\n");
    lines[7] = lines[7].slice(0, -2) + (lines[7].endsWith("00") ? "01" : "00");
    fs.writeFileSync(f("bad.hex"), lines.join("\n"));
    const bad = await fwseal(["pack", f("bad.hex"), "--key", f("root.key"), ...meta, "--input-format", "ihex", "-o", f("bad.fwb")]);
    expect(bad.code).toBe(ExitCode.INPUT);
    expect(errorLines(bad)).toEqual([expect.stringMatching(/bad\.hex:8: Intel HEX: checksum 0x[0-9A-F]{2}, computed 0x[0-9A-F]{2}$/)]);
    expect(fs.existsSync(f("bad.fwb"))).toBe(false);
  });

  it("pack --unsigned takes Intel HEX too: the draft's manifest has the load address", async () => {
    await fwsealOk(["pack", f("fw.hex"), "--unsigned", ...meta, "-o", f("fw.draft")]);
    await fwsealOk(["sign", f("fw.draft"), "--key", f("root.key"), "--in-place"]);
    await fwsealOk(["finalize", f("fw.draft"), "--root", f("root.pub"), "-o", f("final.fwb")]);
    expect(JSON.parse((await fwsealOk(["inspect", f("final.fwb"), "--json"])).stdout).manifest.loadAddress).toBe(0x0800_0000);
  });
});
