#!/usr/bin/env node
// npm-less benchmark of the payload encoders (host/payload/): wire sizes of compressed (codec 1,
// chunked deflate) and delta (patch, codec 0 or 1) payloads on real images, against gzip -9,
// xz -9, bsdiff and xdelta3. Not a test: prints two markdown tables.
//
// Images: the QEMU MCU firmware (hw-test/mcu, built into a temporary directory, flat binary by
// objcopy) in three versions: baseline, a small source change (a constant and a log string) and
// a larger one (a new ~50-line function called at boot); and the ES5 device core as a
// JavaScript application image: the current build, the same with a small edit, and the build of
// the previous commit that changed the device core.
//
// Usage: node bench/payload.mjs [--json] [--keep]   (--keep leaves the images in the temporary
//        directory and prints its path; needs dist/ and build/fwseal-core.js: npm run build;
//        arm-none-eabi-gcc, gzip, xz, bsdiff, xdelta3)
// Library: payloadWireSizes(image, precursor?) -> the wire sizes of every encoding, for reuse by
//          benchmarks that add install-time columns; encodePayloads() returns the streams.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = (rel) => pathToFileURL(path.join(root, "dist", rel)).href;

/** Chunk size and windows the tables report (the pack defaults). */
export const CHUNK = 4096;
export const WINDOWS = [12, 15];
export const PATCH_WINDOWS = [12, 15];

async function encoders() {
  if (!fs.existsSync(path.join(root, "dist/host/payload/delta.js"))) {
    execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: root, stdio: "inherit" });
  }
  const { encodeChunkedDeflate } = await import(dist("host/payload/chunked-deflate.js"));
  const { diffImages, applyPatch } = await import(dist("host/payload/delta.js"));
  return { encodeChunkedDeflate, diffImages, applyPatch };
}

/**
 * The wire streams of `image` (and, with a precursor, of the delta from it): compressed at
 * CHUNK bytes per wire chunk for every window in WINDOWS, and the patch as codec 0 (raw) and
 * codec 1 (deflate) for every window in PATCH_WINDOWS. Also the encoders' wall times in ms.
 */
export async function encodePayloads(image, precursor) {
  const { encodeChunkedDeflate, diffImages, applyPatch } = await encoders();
  const out = { compressed: {}, ms: {} };
  for (const w of WINDOWS) {
    const t = performance.now();
    out.compressed[w] = encodeChunkedDeflate(image, CHUNK, w);
    out.ms[`deflate${w}`] = performance.now() - t;
  }
  if (precursor) {
    let t = performance.now();
    const patch = diffImages(precursor, image);
    out.ms.diff = performance.now() - t;
    if (!Buffer.from(applyPatch(precursor, patch)).equals(Buffer.from(image))) throw new Error("patch does not rebuild the image");
    out.patchRaw = patch;
    out.patchDeflate = {};
    for (const w of PATCH_WINDOWS) {
      t = performance.now();
      out.patchDeflate[w] = encodeChunkedDeflate(patch, CHUNK, w);
      out.ms[`patchDeflate${w}`] = performance.now() - t;
    }
  }
  return out;
}

/**
 * Wire sizes in bytes: { image, compressed: { [window]: n }, patchRaw?, patchDeflate?: { [window]: n } }
 * for `image`, with the delta columns when `precursor` is given; ms: encoder wall times.
 */
export async function payloadWireSizes(image, precursor) {
  const e = await encodePayloads(image, precursor);
  const sizes = (byWindow) => Object.fromEntries(Object.entries(byWindow).map(([w, b]) => [w, b.length]));
  return { image: image.length, compressed: sizes(e.compressed), patchRaw: e.patchRaw?.length, patchDeflate: e.patchDeflate && sizes(e.patchDeflate), ms: e.ms };
}

// ---- reference tools ----

function toolSize(cmd, args) {
  return execFileSync(cmd, args, { maxBuffer: 1 << 30 }).length;
}

function bsdiffSize(work, oldFile, newFile) {
  const out = path.join(work, "bsdiff.patch");
  execFileSync("bsdiff", [oldFile, newFile, out]);
  return fs.statSync(out).size;
}

function xdelta3Size(work, oldFile, newFile) {
  const out = path.join(work, "xdelta3.vcdiff");
  execFileSync("xdelta3", ["-9", "-e", "-f", "-s", oldFile, newFile, out]);
  return fs.statSync(out).size;
}

// ---- images ----

// The small change: a batching constant and a log string (shifts the strings after it).
const SMALL_EDITS = [
  ["#define BATCH_BYTES 512", "#define BATCH_BYTES 384"],
  ['"fwseal-mcu: cannot open flash file "', '"fwseal-mcu: cannot open the flash file "'],
];

// The larger change: a boot self-test (CRC-32 of every flash page, erased-page count) called
// before the engine starts.
const SELF_TEST = `
/* Boot self-test: CRC-32 of every flash page and the count of erased pages, logged. */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n) {
  crc = ~crc;
  while (n--) {
    crc ^= *p++;
    for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

static int page_is_erased(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != 0xff) return 0;
  return 1;
}

static void flash_self_test(void) {
  static uint8_t buf[256];
  uint32_t page = flash_page();
  uint32_t pages = flash_size() / page;
  uint32_t erased = 0;
  uint32_t all = 0;
  uint32_t errors = 0;
  for (uint32_t p = 0; p < pages; p++) {
    uint32_t crc = 0;
    int blank = 1;
    for (uint32_t off = 0; off < page; off += sizeof buf) {
      uint32_t n = page - off < sizeof buf ? page - off : sizeof buf;
      if (flash_read(p * page + off, buf, n) != FLASH_OK) {
        errors++;
        blank = 0;
        break;
      }
      crc = crc32_update(crc, buf, n);
      if (blank && !page_is_erased(buf, n)) blank = 0;
    }
    if (blank) erased++;
    all = crc32_update(all, (const uint8_t *)&crc, sizeof crc);
  }
  semi_log("fwseal-mcu: self-test ");
  semi_log_u32("pages", pages);
  semi_log_u32("erased", erased);
  semi_log_u32("errors", errors);
  semi_log_u32("crc", all);
  semi_log("\\n");
}

int main(void) {`;
const LARGE_EDITS = [
  ["\nint main(void) {", SELF_TEST],
  ["  ctx = duk_create_heap(", "  flash_self_test();\n  ctx = duk_create_heap("],
];

function edit(text, edits) {
  for (const [from, to] of edits) {
    if (!text.includes(from)) throw new Error(`main.c no longer contains ${JSON.stringify(from)}: update bench/payload.mjs`);
    text = text.replace(from, to);
  }
  return text;
}

/** Flat binaries of the MCU firmware: baseline, small change, larger change. */
export function buildFirmwares(work) {
  const tree = path.join(work, "mcu-tree");
  fs.cpSync(path.join(root, "hw-test/mcu"), path.join(tree, "hw-test/mcu"), { recursive: true });
  fs.cpSync(path.join(root, "device-sim/native"), path.join(tree, "device-sim/native"), { recursive: true });
  // the native Ed25519's constants are generated from the core's sources (gen-ed25519-consts.mjs)
  fs.cpSync(path.join(root, "device-sim/core/crypto"), path.join(tree, "device-sim/core/crypto"), { recursive: true });
  fs.mkdirSync(path.join(tree, "build"), { recursive: true });
  fs.copyFileSync(path.join(root, "build/fwseal-core.js"), path.join(tree, "build/fwseal-core.js"));
  const mainC = path.join(tree, "hw-test/mcu/main.c");
  const base = fs.readFileSync(mainC, "utf8");
  const images = {};
  for (const [name, edits] of [["base", []], ["small", SMALL_EDITS], ["large", LARGE_EDITS]]) {
    fs.writeFileSync(mainC, edit(base, edits));
    execFileSync("bash", [path.join(tree, "hw-test/mcu/build.sh")], { stdio: ["ignore", "ignore", "inherit"] });
    const bin = path.join(work, `fw-${name}.bin`);
    execFileSync("arm-none-eabi-objcopy", ["-O", "binary", path.join(tree, "build/mcu/fw.elf"), bin]);
    images[name] = bin;
  }
  return images;
}

/** The ES5 device core as an application image: current, small edit, previous core commit. */
export function buildJsApps(work) {
  const current = path.join(work, "core-current.js");
  fs.copyFileSync(path.join(root, "build/fwseal-core.js"), current);
  const text = fs.readFileSync(current, "utf8");
  // Small edit: one constant changed and a helper function added in the middle.
  const boundary = /\n( *)function /g;
  boundary.lastIndex = text.length >> 1;
  const found = boundary.exec(text);
  if (!found) throw new Error("no function boundary in the middle of build/fwseal-core.js");
  const mid = found.index;
  const pad = found[1];
  const helper = `\n${pad}function clampLength(n, max) {\n${pad}    if (n < 0) return 0;\n${pad}    return n > max ? max : n;\n${pad}}`;
  const small = path.join(work, "core-small.js");
  fs.writeFileSync(small, text.slice(0, mid) + helper + text.slice(mid).replace(/\b4096\b/, "8192"));
  const apps = { current, small };
  // The previous commit that changed the device core, built from a clean export of that tree.
  try {
    const commits = execFileSync("git", ["log", "--format=%H", "-n", "2", "--", "device-sim/core"], { cwd: root, encoding: "utf8" }).trim().split("\n");
    const prev = commits[1];
    const tree = path.join(work, "prev-tree");
    fs.mkdirSync(tree);
    execFileSync("sh", ["-c", `git archive ${prev} | tar -x -C "${tree}"`], { cwd: root });
    fs.symlinkSync(path.join(root, "node_modules"), path.join(tree, "node_modules"));
    execFileSync("node", ["scripts/build-core-es5.mjs", "--quiet"], { cwd: tree, stdio: ["ignore", "ignore", "inherit"] });
    apps.previous = path.join(work, "core-previous.js");
    apps.previousCommit = prev.slice(0, 7);
    fs.copyFileSync(path.join(tree, "build/fwseal-core.js"), apps.previous);
  } catch (e) {
    console.error(`bench:payload: previous core not built (${e.message.split("\n")[0]})`);
  }
  return apps;
}

// ---- report ----

const kib = (n) => (n === undefined ? "-" : (n / 1024).toFixed(1));
const ratio = (a, b) => (a / b).toFixed(2);

async function main() {
  const json = process.argv.includes("--json");
  for (const tool of ["gzip", "xz", "bsdiff", "xdelta3", "arm-none-eabi-gcc", "arm-none-eabi-objcopy"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    } catch {
      throw new Error(`bench:payload needs ${tool} (apt-get install bsdiff xdelta3 gcc-arm-none-eabi xz-utils gzip)`);
    }
  }
  if (!fs.existsSync(path.join(root, "build/fwseal-core.js"))) execFileSync("node", ["scripts/build-core-es5.mjs", "--quiet"], { cwd: root, stdio: "inherit" });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-bench-payload-"));
  try {
    const fw = buildFirmwares(work);
    const js = buildJsApps(work);
    const images = [
      ["MCU firmware (baseline)", fw.base],
      ["MCU firmware (small change)", fw.small],
      ["MCU firmware (larger change)", fw.large],
      ["JS app: ES5 core", js.current],
    ];
    const updates = [
      ["MCU firmware: small change", fw.base, fw.small],
      ["MCU firmware: larger change", fw.base, fw.large],
      ["JS app: small edit", js.current, js.small],
    ];
    if (js.previous) updates.push([`JS app: core ${js.previousCommit} -> current`, js.previous, js.current]);

    const results = { compressed: [], delta: [] };
    const lines = [];
    lines.push(`Compressed payloads (codec 1, chunk ${CHUNK} B; sizes in KiB; goal: ≤ 1.3 × gzip -9)`, "");
    lines.push(`| image | raw | ours w${WINDOWS.join(" | ours w")} | gzip -9 | xz -9 | ours w12 / gzip | encode w12 (ms) |`);
    lines.push(`|---|---:|${WINDOWS.map(() => "---:|").join("")}---:|---:|---:|---:|`);
    for (const [name, file] of images) {
      const img = new Uint8Array(fs.readFileSync(file));
      const s = await payloadWireSizes(img);
      const gz = toolSize("gzip", ["-9", "-n", "-c", file]);
      const xz = toolSize("xz", ["-9", "-c", file]);
      results.compressed.push({ name, ...s, gzip: gz, xz });
      lines.push(`| ${name} | ${kib(s.image)} | ${WINDOWS.map((w) => kib(s.compressed[w])).join(" | ")} | ${kib(gz)} | ${kib(xz)} | ${ratio(s.compressed[12], gz)} | ${s.ms.deflate12.toFixed(0)} |`);
    }
    lines.push("", `Delta payloads (patch as codec 1 at chunk ${CHUNK} B, and as codec 0; sizes in bytes; goal: ≤ 1.2 × bsdiff)`, "");
    lines.push("| update | new image | ours compressed w12 | ours delta w12 | ours delta w15 | ours raw patch (codec 0) | bsdiff | xdelta3 -9 | delta w12 / bsdiff | diff + deflate w12 (ms) |");
    lines.push("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const [name, oldFile, newFile] of updates) {
      const oldImg = new Uint8Array(fs.readFileSync(oldFile));
      const newImg = new Uint8Array(fs.readFileSync(newFile));
      const s = await payloadWireSizes(newImg, oldImg);
      const bs = bsdiffSize(work, oldFile, newFile);
      const xd = xdelta3Size(work, oldFile, newFile);
      results.delta.push({ name, ...s, bsdiff: bs, xdelta3: xd });
      lines.push(`| ${name} | ${s.image} | ${s.compressed[12]} | ${s.patchDeflate[12]} | ${s.patchDeflate[15]} | ${s.patchRaw} | ${bs} | ${xd} | ${ratio(s.patchDeflate[12], bs)} | ${(s.ms.diff + s.ms.patchDeflate12).toFixed(0)} |`);
    }
    console.log(json ? JSON.stringify(results, null, 2) : lines.join("\n"));
  } finally {
    if (process.argv.includes("--keep")) console.error(`bench:payload: images kept in ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) await main();
