// Intel HEX input cross-checked against GNU objcopy: objcopy writes the HEX (two regions with
// a gap, from known binaries), fwseal packs it, and the image fwseal extracts from the bundle
// is byte for byte what `objcopy -I ihex -O binary --gap-fill 0xff` makes of the same file.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { fwsealOk, tempDir } from "../helpers/cli.js";
import { sampleImage } from "../helpers/images.js";

const OBJCOPY = ["arm-none-eabi-objcopy", "objcopy"].find((c) => spawnSync(c, ["--version"]).status === 0);

function objcopy(args: string[], cwd: string): void {
  const r = spawnSync(OBJCOPY as string, args, { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${OBJCOPY} ${args.join(" ")}: ${r.stderr}`);
}

describe.skipIf(!OBJCOPY)("Intel HEX against objcopy", () => {
  let dir: string;
  const f = (n: string): string => path.join(dir, n);
  beforeAll(async () => {
    dir = tempDir("ihex-objcopy");
    await fwsealOk(["keygen", "-o", f("root")]);
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("two regions 0x08000000 and 0x08012000 with a gap: the extracted image equals objcopy's binary, load address kept", async () => {
    fs.writeFileSync(f("a.bin"), sampleImage(70_001, 1));
    fs.writeFileSync(f("b.bin"), sampleImage(5_000, 2));
    objcopy(["-I", "binary", "-O", "ihex", "--change-addresses", "0x08000000", "a.bin", "a.hex"], dir);
    objcopy(["-I", "binary", "-O", "ihex", "--change-addresses", "0x08012000", "b.bin", "b.hex"], dir);
    // One file: a's records without its end-of-file record, then b's.
    const a = fs.readFileSync(f("a.hex"), "utf8").split(/\r?\n/).filter((l) => l !== "" && l !== ":00000001FF");
    fs.writeFileSync(f("fw.hex"), [...a, fs.readFileSync(f("b.hex"), "utf8")].join("\n"));
    objcopy(["-I", "ihex", "-O", "binary", "--gap-fill", "0xff", "fw.hex", "reference.bin"], dir);

    const meta = ["--seq", "1", "--vendor", "acme.example", "--class", "board", "--fw-version", "1"];
    const p = JSON.parse((await fwsealOk(["pack", f("fw.hex"), "--key", f("root.key"), "--root", f("root.pub"), ...meta, "-o", f("fw.fwb"), "--json"])).stdout);
    expect(p).toMatchObject({ inputFormat: "ihex", loadAddress: 0x0800_0000 });
    await fwsealOk(["extract", f("fw.fwb"), "--root", f("root.pub"), "-o", f("out.bin")]);
    const ref = fs.readFileSync(f("reference.bin"));
    expect(ref.length).toBe(0x12000 + 5_000);
    expect(fs.readFileSync(f("out.bin")).equals(ref)).toBe(true);
  });
});
