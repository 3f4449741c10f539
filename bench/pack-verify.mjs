#!/usr/bin/env node
// npm run bench: pack and verify 16 MiB and 256 MiB random images with the fwseal host
// library (dist/, build first) and compare throughput with `openssl dgst -sha256` on the
// same file (the hashing floor). Each pack/verify runs in a child process that reports its
// own elapsed time and peak RSS (VmHWM from /proc/self/status), so RSS is per operation;
// verify also as an update server runs it, through verifyStream over a stream's pieces.
// Best of RUNS runs (page cache warm for every contender). Not a test: nothing asserts.
// Then the same as users run it: whole commands (node bin/fwseal.js pack / verify, start-up
// included) against openssl, beside the floor any pack built on node:crypto has (`node -e 0`
// plus one SHA-256 call per chunk on one thread: the chain is sequential) and the native floor
// of any implementation on this machine: bench/native-floor.c (built here with cc against the
// OpenSSL headers Node ships and libcrypto, in a temp dir; the rows say "skipped" without them)
// does pack's and verify's whole work (chunk chain, image SHA-256, pack's write of the chunks)
// in C on two threads, its output checked against node:crypto and fwseal's bundle, timed as a
// process, alone and plus a command's fixed cost (the 64 KiB verify command's time); start-up
// (--version, verify and inspect of a 64 KiB bundle) against `node -e 0`, median of
// STARTUP_RUNS; and the device install pipeline against the raw link (simulator at 115200
// baud, the QEMU Cortex-M3, Espruino with ESPRUINO_BIN; BENCH_DEVICE=0 leaves them out). One
// summary table lists every goal with the machine's load average. Worker threads (pack's and
// verify's image digest, verify's chunk hashing beside per-chunk work) start only for large
// images when the 1-minute load average leaves a core idle (host/bundle/chunk-digest-pool.ts,
// idleCores): on a busy machine the figures are those of one thread; the header says how many
// cores counted as idle.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createHash, hash, randomFillSync } from "node:crypto";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(here, "../dist/host");
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const STARTUP_RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 11);
const BIN = path.resolve(here, "../bin/fwseal.js");
const summary = [];

/** Wall seconds, and CPU seconds (user+sys) and peak RSS (KiB) from /usr/bin/time when present, of one command. */
function timed(cmd, args) {
  const t0 = process.hrtime.bigint();
  const r = TIME_BIN ? spawnSync(TIME_BIN, ["-f", "%U %S %M", cmd, ...args], { encoding: "utf8" }) : spawnSync(cmd, args, { encoding: "utf8" });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  const m = TIME_BIN ? /([\d.]+) ([\d.]+) (\d+)\s*$/.exec(r.stderr) : null;
  return { secs, cpuSecs: m ? Number(m[1]) + Number(m[2]) : NaN, maxRssKiB: m ? Number(m[3]) : NaN };
}
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const loadNow = () => os.loadavg()[0].toFixed(1);
const SIZES_MIB = (process.env.BENCH_SIZES ?? "16,256").split(",").map(Number);
// The throughput goal is set for 256 MiB (a smaller image is mostly process start-up).
const GOAL = (mib) => (mib >= 256 ? ">= 0.8" : "-");

async function child(op, args) {
  const lib = await import(pathToFileURL(path.join(dist, "index.js")).href);
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  if (op === "floor") {
    chainFloor(args[0], Number(args[1]));
  } else if (op === "pack") {
    const [image, output, keyFile] = args;
    const signer = await lib.loadSigner(keyFile);
    await lib.pack({ image, output, signers: [signer], vendor: "acme.example", deviceClass: "bench", sequence: 1, version: "1.0.0", chunkSize: 4096, overwrite: true });
  } else if (op === "verify" || op === "verifyStream") {
    const [bundle, pubFile] = args;
    const policy = { roots: [await lib.loadPublicKey(pubFile)], vendor: "acme.example", deviceClass: "bench" };
    // verifyStream as an update server verifies an upload: the bundle in 64 KiB pieces (the
    // size an HTTP body or a file stream delivers), from a source that reads 1 MiB ahead so
    // that the source is not the limit (fs.createReadStream's own 64 KiB read-ahead is: it
    // leaves the verifier idle between reads).
    const r = op === "verify" ? await lib.verifyFile(bundle, policy) : await lib.verifyStream(pieces(bundle, 64 * 1024), policy);
    if (!r.valid) throw new Error(`bench bundle rejected: ${r.reasonName}`);
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  const cpuSecs = (c.user + c.system) / 1e6; // all threads (incl. libuv's I/O pool)
  // VmHWM (peak RSS of this process image). Not getrusage's maxrss: Linux carries that
  // over exec from the forked parent, which would report the parent's size.
  const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8"));
  const maxRssKiB = hwm ? Number(hwm[1]) : process.resourceUsage().maxRSS;
  process.stdout.write(JSON.stringify({ secs, cpuSecs, maxRssKiB }) + "\n");
}

/** The file in `piece`-byte pieces, read 1 MiB ahead. */
async function* pieces(file, piece) {
  const BLOCK = 1 << 20;
  const fd = fs.openSync(file, "r");
  let pos = 0;
  const readAhead = () => {
    const b = Buffer.allocUnsafe(BLOCK);
    const at = pos;
    pos += BLOCK;
    return new Promise((resolve, reject) => fs.read(fd, b, 0, BLOCK, at, (e, n) => (e ? reject(e) : resolve(b.subarray(0, n)))));
  };
  let next = readAhead();
  try {
    for (;;) {
      const b = await next;
      if (b.length === 0) return;
      next = readAhead();
      for (let o = 0; o < b.length; o += piece) yield b.subarray(o, Math.min(b.length, o + piece));
    }
  } finally {
    await next.catch(() => undefined); // no read left in flight on a closed descriptor
    fs.closeSync(fd);
  }
}

/**
 * The hashing floor of a chunk chain in Node on one thread: the file read in 1 MiB blocks
 * straight into chunk slots (a 20-byte prefix before each, its next hash after it) and one
 * node:crypto SHA-256 call per chunk over contiguous bytes, as pack does, without writing
 * anything. What any pack built on node:crypto costs at least (the chain is sequential).
 */
function chainFloor(file, cs) {
  const P = 20, H = 32, per = Math.max(1, (1 << 20) / cs), slot = P + cs + H;
  const buf = Buffer.alloc(per * slot);
  const views = Array.from({ length: per }, (_, j) => buf.subarray(j * slot + P, j * slot + P + cs));
  const fd = fs.openSync(file, "r");
  let pos = 0, last = null;
  for (;;) {
    const n = fs.readvSync(fd, views, pos);
    if (n === 0) break;
    pos += n;
    const chunks = Math.ceil(n / cs);
    for (let j = 0; j < chunks; j++) last = hash("sha256", buf.subarray(j * slot, j * slot + slot), "latin1");
  }
  fs.closeSync(fd);
  return last;
}

/**
 * The native floor (bench/native-floor.c): built with the C compiler (CC, else cc) against the
 * OpenSSL headers Node ships (<node>/../include/node) and the system's libcrypto, in a temp dir
 * outside the repository. { bin, dir } or { skip: why } when there is no compiler or libcrypto.
 */
function buildNativeFloor() {
  const cc = process.env.CC ?? "cc";
  const inc = [path.resolve(path.dirname(process.execPath), "../include/node"), "/usr/include/node", "/usr/local/include/node"]
    .find((d) => fs.existsSync(path.join(d, "openssl/sha.h")));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-native-floor-"));
  const bin = path.join(dir, "native-floor");
  let why = "";
  for (const lib of ["-l:libcrypto.so.3", "-lcrypto"]) {
    const r = spawnSync(cc, ["-O2", "-pthread", "-Wno-deprecated-declarations", ...(inc ? ["-I", inc] : []), "-o", bin, path.join(here, "native-floor.c"), lib], { encoding: "utf8" });
    if (r.error) {
      why = r.error.code === "ENOENT" ? `no C compiler (${cc})` : String(r.error.message);
      break;
    }
    if (r.status === 0) return { bin, dir };
    why = `${cc} failed: ${(r.stderr.split("\n").find((l) => /error/.test(l)) ?? r.stderr.trim()).trim()}`;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return { skip: why };
}

/**
 * Chain head and image SHA-256 of an image file by node:crypto (formats/SPEC.md section 7: the
 * chain back to front, one SHA-256 of prefix || data_i || next_i per chunk), as hex: what the
 * native floor's pack must print for its figure to be of correct work.
 */
function chainHeadAndDigest(file, cs) {
  const size = fs.statSync(file).size, n = Math.ceil(size / cs);
  const slot = Buffer.alloc(20 + cs + 32);
  slot.write("fwseal/chunk/v1\0", 0, "latin1");
  const fd = fs.openSync(file, "r");
  let next = Buffer.alloc(32);
  for (let i = n - 1; i >= 0; i--) {
    const len = Math.min(cs, size - i * cs);
    slot.writeUInt32BE(i, 16);
    fs.readSync(fd, slot, 20, len, i * cs);
    next.copy(slot, 20 + len);
    next = hash("sha256", slot.subarray(0, 20 + len + 32), "buffer");
  }
  const image = createHash("sha256"), block = Buffer.alloc(1 << 20);
  for (let pos = 0, got; (got = fs.readSync(fd, block, 0, block.length, pos)) > 0; pos += got) image.update(block.subarray(0, got));
  fs.closeSync(fd);
  return { head: next.toString("hex"), image: image.digest("hex") };
}

/** Whether the bytes of file `tail` are the last bytes of file `whole`. */
function endsWithFile(whole, tail) {
  const skip = fs.statSync(whole).size - fs.statSync(tail).size;
  if (skip < 0) return false;
  const a = Buffer.alloc(1 << 20), b = Buffer.alloc(1 << 20);
  const fa = fs.openSync(whole, "r"), fb = fs.openSync(tail, "r");
  try {
    for (let pos = 0, got; (got = fs.readSync(fb, b, 0, b.length, pos)) > 0; pos += got) {
      if (fs.readSync(fa, a, 0, got, skip + pos) !== got || !a.subarray(0, got).equals(b.subarray(0, got))) return false;
    }
    return true;
  } finally {
    fs.closeSync(fa);
    fs.closeSync(fb);
  }
}

/**
 * The native floor's pack run once on the image, checked against node:crypto (chain head and
 * image SHA-256) and against fwseal's own bundle (the chunk region it wrote must be that
 * bundle's tail), then its verify on that region. { head } when all agree, else { skip: why }.
 */
function nativeSelfCheck(bin, img, bundle, chunksOut) {
  const fail = (why, detail) => {
    console.log(`native floor, ${path.basename(img)}: ${why}${detail ? `: ${detail}` : ""}`);
    return { skip: `self-check failed: ${why}` };
  };
  const p = spawnSync(bin, ["pack", img, "4096", chunksOut], { encoding: "utf8" });
  if (p.status !== 0) return fail("the pack floor failed", p.stderr.trim());
  const [head, image] = p.stdout.trim().split(" ");
  const js = chainHeadAndDigest(img, 4096);
  if (head !== js.head || image !== js.image) return fail("chain head or image SHA-256 differs from node:crypto's", `C ${head} ${image}, node:crypto ${js.head} ${js.image}`);
  if (!endsWithFile(bundle, chunksOut)) return fail("the pack floor's chunks differ from fwseal's bundle");
  const v = spawnSync(bin, ["verify", chunksOut, "4096", head], { encoding: "utf8" });
  if (v.status !== 0 || v.stdout.trim() !== `ok ${image}`) return fail("the verify floor rejected the pack floor's chunks", (v.stdout + v.stderr).trim());
  return { head };
}

/** Whether the verify floor names the chunk whose data had one bit flipped (in place, in the middle chunk). */
function verifyFloorCatches(bin, chunksFile, head, cs, n) {
  const k = n >> 1, at = k * (cs + 32) + 7, b = Buffer.alloc(1);
  const fd = fs.openSync(chunksFile, "r+");
  fs.readSync(fd, b, 0, 1, at);
  b[0] ^= 1;
  fs.writeSync(fd, b, 0, 1, at);
  fs.closeSync(fd);
  const r = spawnSync(bin, ["verify", chunksFile, String(cs), head], { encoding: "utf8" });
  return r.status === 2 && r.stdout.startsWith(`fail ${k} `);
}

function runChild(op, args) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--child", op, ...args], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${op} child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop());
}

// Wall time of `openssl dgst -sha256 file`, and its CPU time when /usr/bin/time exists.
const TIME = fs.existsSync("/usr/bin/time") ? "/usr/bin/time" : null;
const TIME_BIN = TIME;
function openssl(file) {
  const t0 = process.hrtime.bigint();
  const r = TIME
    ? spawnSync(TIME, ["-f", "%U %S", "openssl", "dgst", "-sha256", file], { encoding: "utf8" })
    : spawnSync("openssl", ["dgst", "-sha256", file], { encoding: "utf8" });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error("openssl dgst failed");
  const m = TIME ? /([\d.]+) ([\d.]+)\s*$/.exec(r.stderr) : null;
  return { secs, cpuSecs: m ? Number(m[1]) + Number(m[2]) : NaN };
}
const opensslSecs = (file) => openssl(file).secs;

async function main() {
  const lib = await import(pathToFileURL(path.join(dist, "index.js")).href);
  // The temp dir defaults to /dev/shm (RAM) when present, so the figures measure fwseal,
  // not the disk (on a VM disk, buffered writes can be slower than SHA-256). BENCH_DIR=...
  // picks another place; the write floor of that place is printed for reference.
  const base = process.env.BENCH_DIR ?? (fs.existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir());
  const dir = fs.mkdtempSync(path.join(base, "fwseal-bench-"));
  const native = buildNativeFloor();
  try {
    const kp = await lib.keygen({ out: path.join(dir, "root") });
    // Start-up first, before the large images churn the page cache and load the machine.
    const { verify64Secs, rows: startupRows } = await startup(lib, dir, kp);
    const rows = [];
    const fixedCostRows = []; // native floor + a command's fixed cost, filled in once start-up is measured
    for (const mib of SIZES_MIB) {
      const img = path.join(dir, `img-${mib}.bin`);
      const bundle = path.join(dir, `img-${mib}.fwb`);
      const fd = fs.openSync(img, "w");
      const block = Buffer.allocUnsafe(1 << 20);
      for (let i = 0; i < mib; i++) {
        randomFillSync(block);
        fs.writeSync(fd, block);
      }
      const bytes = mib * 1024 * 1024;
      const tw0 = process.hrtime.bigint();
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      const probe = path.join(dir, "write-probe");
      const tw = process.hrtime.bigint();
      fs.copyFileSync(img, probe);
      const writeSecs = Number(process.hrtime.bigint() - tw) / 1e9;
      fs.rmSync(probe);
      void tw0;
      opensslSecs(img); // warm the page cache
      // Interleaved, best of RUNS each: every contender sees the same machine load.
      let ossl = null, packR = null, osslB = null, verR = null, streamR = null, floorR = null;
      // Best wall time and best CPU time independently; peak RSS over all runs.
      const keep = (b, r) => ({
        secs: Math.min(r.secs, b?.secs ?? Infinity),
        cpuSecs: Math.min(r.cpuSecs, b?.cpuSecs ?? Infinity),
        maxRssKiB: Math.max(r.maxRssKiB ?? 0, b?.maxRssKiB ?? 0)
      });
      for (let i = 0; i < RUNS; i++) {
        ossl = keep(ossl, openssl(img));
        packR = keep(packR, runChild("pack", [img, bundle, kp.keyPath]));
        osslB = keep(osslB, openssl(bundle));
        verR = keep(verR, runChild("verify", [bundle, kp.pubPath]));
        streamR = keep(streamR, runChild("verifyStream", [bundle, kp.pubPath]));
        floorR = keep(floorR, runChild("floor", [img, "4096"]));
      }
      const mbs = (b, s) => b / s / 1e6;
      rows.push({
        size: `${mib} MiB`,
        "openssl MB/s": mbs(bytes, ossl.secs).toFixed(0),
        "pack MB/s": mbs(bytes, packR.secs).toFixed(0),
        "pack/openssl": (ossl.secs / packR.secs).toFixed(2),
        "pack RSS MiB": (packR.maxRssKiB / 1024).toFixed(1),
        "verify MB/s": mbs(bytes, verR.secs).toFixed(0),
        "verify/openssl": (osslB.secs / verR.secs).toFixed(2),
        "verify RSS MiB": (verR.maxRssKiB / 1024).toFixed(1),
        "pack/openssl CPU": (ossl.cpuSecs / packR.cpuSecs).toFixed(2),
        "verify/openssl CPU": (osslB.cpuSecs / verR.cpuSecs).toFixed(2),
        "copy MB/s": mbs(bytes, writeSecs).toFixed(0)
      });
      // The native floor's self-check, on the bundle the library just wrote (chunk size 4096).
      const chunksOut = path.join(dir, `img-${mib}.chunks`);
      const nf = native.bin ? { ...nativeSelfCheck(native.bin, img, bundle, chunksOut), pack: [], verify: [] } : { skip: native.skip };
      // Whole commands, as a pipeline runs them (start-up included), interleaved with openssl.
      const cli = { pack: [], verify: [], ossl: [], osslB: [], packRss: 0, verifyRss: 0 };
      const packArgs = [BIN, "pack", img, "-k", kp.keyPath, "-r", kp.pubPath, "--seq", "1", "--vendor", "acme.example", "--class", "bench", "--fw-version", "1.0.0", "--force", "-o", bundle];
      const verifyArgs = [BIN, "verify", bundle, "-r", kp.pubPath, "--vendor", "acme.example", "--class", "bench"];
      for (let i = 0; i < RUNS; i++) {
        cli.ossl.push(timed("openssl", ["dgst", "-sha256", img]).secs);
        const p = timed(process.execPath, packArgs);
        cli.pack.push(p.secs);
        cli.packRss = Math.max(cli.packRss, p.maxRssKiB);
        cli.osslB.push(timed("openssl", ["dgst", "-sha256", bundle]).secs);
        const v = timed(process.execPath, verifyArgs);
        cli.verify.push(v.secs);
        cli.verifyRss = Math.max(cli.verifyRss, v.maxRssKiB);
        if (nf.head) {
          nf.pack.push(timed(native.bin, ["pack", img, "4096", chunksOut]).secs);
          nf.verify.push(timed(native.bin, ["verify", chunksOut, "4096", nf.head]).secs);
        }
      }
      if (nf.head && !verifyFloorCatches(native.bin, chunksOut, nf.head, 4096, Math.ceil(bytes / 4096))) nf.verifySkip = "self-check failed: the verify floor accepted a changed chunk";
      // `node -e 0`, the start every whole command pays before its first line runs.
      const nodeStart = Math.min(...Array.from({ length: RUNS }, () => timed(process.execPath, ["-e", "0"]).secs));
      const rssMiB = (k) => (Number.isFinite(k) ? (k / 1024).toFixed(0) : "?");
      const osslImg = Math.min(...cli.ossl), osslBundle = Math.min(...cli.osslB);
      const nativeRows = (work, times, ref, skip = nf.skip) => {
        if (skip) return [{ goal: `native floor: C + OpenSSL, ${work} work ${mib} MiB: skipped (${skip})`, fwseal: "-", reference: `${ref.toFixed(3)} s`, ratio: "-", target: "(ceiling)", "peak RSS MiB": "", load: loadNow() }];
        const secs = Math.min(...times);
        const floorRow = { goal: `native floor: C + OpenSSL, 2 threads, ${work} work ${mib} MiB (no Node start) / openssl`, fwseal: `${secs.toFixed(3)} s`, reference: `${ref.toFixed(3)} s`, ratio: (ref / secs).toFixed(2), target: "(ceiling)", "peak RSS MiB": "", load: loadNow() };
        const fixedRow = { goal: `native floor + fwseal's fixed cost (64 KiB verify command), ${work} ${mib} MiB / openssl`, fwseal: "", reference: `${ref.toFixed(3)} s`, ratio: "", target: "(ceiling)", "peak RSS MiB": "", load: loadNow() };
        fixedCostRows.push({ row: fixedRow, secs, ref });
        return [floorRow, fixedRow];
      };
      summary.push(
        { goal: `in-process pack ${mib} MiB / openssl`, fwseal: `${packR.secs.toFixed(3)} s`, reference: `${ossl.secs.toFixed(3)} s`, ratio: (ossl.secs / packR.secs).toFixed(2), target: GOAL(mib), "peak RSS MiB": (packR.maxRssKiB / 1024).toFixed(0), load: loadNow() },
        { goal: `in-process verify ${mib} MiB / openssl`, fwseal: `${verR.secs.toFixed(3)} s`, reference: `${osslB.secs.toFixed(3)} s`, ratio: (osslB.secs / verR.secs).toFixed(2), target: GOAL(mib), "peak RSS MiB": (verR.maxRssKiB / 1024).toFixed(0), load: loadNow() },
        { goal: `in-process verifyStream ${mib} MiB (64 KiB pieces) / openssl`, fwseal: `${streamR.secs.toFixed(3)} s`, reference: `${osslB.secs.toFixed(3)} s`, ratio: (osslB.secs / streamR.secs).toFixed(2), target: GOAL(mib), "peak RSS MiB": (streamR.maxRssKiB / 1024).toFixed(0), load: loadNow() },
        { goal: `fwseal pack ${mib} MiB / openssl`, fwseal: `${Math.min(...cli.pack).toFixed(3)} s`, reference: `${Math.min(...cli.ossl).toFixed(3)} s`, ratio: (Math.min(...cli.ossl) / Math.min(...cli.pack)).toFixed(2), target: GOAL(mib), "peak RSS MiB": rssMiB(cli.packRss), load: loadNow() },
        {
          goal: `floor: node start + chain hashing ${mib} MiB, 1 thread / openssl`,
          fwseal: `${(nodeStart + floorR.secs).toFixed(3)} s`, reference: `${Math.min(...cli.ossl).toFixed(3)} s`,
          ratio: (Math.min(...cli.ossl) / (nodeStart + floorR.secs)).toFixed(2), target: "(ceiling)", "peak RSS MiB": "", load: loadNow()
        },
        ...nativeRows("pack", nf.pack, osslImg),
        { goal: `fwseal verify ${mib} MiB / openssl`, fwseal: `${Math.min(...cli.verify).toFixed(3)} s`, reference: `${Math.min(...cli.osslB).toFixed(3)} s`, ratio: (Math.min(...cli.osslB) / Math.min(...cli.verify)).toFixed(2), target: GOAL(mib), "peak RSS MiB": rssMiB(cli.verifyRss), load: loadNow() },
        ...nativeRows("verify", nf.verify, osslBundle, nf.skip ?? nf.verifySkip)
      );
      fs.rmSync(img);
      fs.rmSync(bundle);
      fs.rmSync(chunksOut, { force: true });
    }
    console.log(`fwseal pack/verify vs openssl dgst -sha256 (best of ${RUNS}; verify compared with openssl on the bundle file;`);
    const { idleCores } = await import(pathToFileURL(path.join(dist, "bundle/chunk-digest-pool.js")).href);
    console.log(`  dir ${base}; ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)} (idle cores for workers now: ${idleCores()}); node ${process.version}; "copy" = read+write of the image in that dir;`);
    console.log(`  "CPU" ratios = openssl user+sys / fwseal user+sys (all threads), less sensitive to machine load than wall time)`);
    console.table(rows);
    summary.push(...startupRows);
    for (const { row, secs, ref } of fixedCostRows) {
      row.fwseal = `${(secs + verify64Secs).toFixed(3)} s`;
      row.ratio = (ref / (secs + verify64Secs)).toFixed(2);
    }
    if (process.env.BENCH_DEVICE !== "0") deviceInstalls();
    console.log(`\nsummary (load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}; ratios: reference time / fwseal time, so higher is better, except start-up: fwseal / node -e 0)`);
    console.table(summary);
    if (rows.length >= 2) {
      const r0 = parseFloat(rows[0]["pack RSS MiB"]), r1 = parseFloat(rows[rows.length - 1]["pack RSS MiB"]);
      const v0 = parseFloat(rows[0]["verify RSS MiB"]), v1 = parseFloat(rows[rows.length - 1]["verify RSS MiB"]);
      console.log(`peak RSS ${rows[rows.length - 1].size} / ${rows[0].size}: pack ${(r1 / r0).toFixed(2)}x, verify ${(v1 / v0).toFixed(2)}x (goal <= 1.2x)`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    if (native.dir) fs.rmSync(native.dir, { recursive: true, force: true });
  }
}

/** A bench script's JSON summary: the object that starts its output's last line beginning with "{". */
function benchJson(script, args = [], env = {}) {
  const r = spawnSync(process.execPath, [path.join(here, script), ...args], { encoding: "utf8", env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`bench/${script} failed: ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.slice(r.stdout.lastIndexOf("\n{") + 1));
}

/**
 * The device install pipeline against the raw link (goal >= 0.9): a 64 KiB install on the
 * simulator over a pty throttled to 115200 baud (bench/serial.mjs), on the QEMU Cortex-M3 under
 * -icount and in real time (bench/mcu.mjs), and on an Espruino Linux build when ESPRUINO_BIN is
 * set (bench/espruino-install.mjs). BENCH_DEVICE=0 leaves them out.
 */
function deviceInstalls() {
  const row = (goal, ratio, note) => summary.push({ goal, fwseal: note, reference: "raw link", ratio: ratio.toFixed(2), target: ">= 0.9", "peak RSS MiB": "", load: loadNow() });
  const sim = benchJson("serial.mjs", [], { BENCH_IMAGE: String(64 * 1024) });
  row("install 64 KiB, simulator at 115200 baud / raw link", 1 / sim.flashOverRaw, `${(sim.flashMs / 1000).toFixed(2)} s`);
  const mcu = benchJson("mcu.mjs", ["--json"], { BENCH_ROUNDS: process.env.BENCH_ROUNDS ?? "1" });
  for (const [mode, r] of Object.entries(mcu.installVsLink ?? {})) row(`install 64 KiB, QEMU Cortex-M3 ${mode} / raw link`, r.ratio, `${(r.ms / 1000).toFixed(2)} s`);
  if (process.env.ESPRUINO_BIN) {
    for (const keys of ["hss", "ed25519"]) {
      const esp = benchJson("espruino-install.mjs", [], { BENCH_KEYS: keys, BENCH_DIAG: "0", BENCH_ROUNDS: process.env.BENCH_ROUNDS ?? "1" });
      const signed = keys === "hss" ? "HSS/LMS root" : "delegated Ed25519 key";
      if (esp.installOverRaw !== undefined) row(`install ${Math.round(esp.imageBytes / 1024)} KiB, Espruino console, ${signed} / raw link`, 1 / esp.installOverRaw, `${(esp.installMs / 1000).toFixed(2)} s`);
    }
  }
}

/** Start-up, side by side with `node -e 0`: median of STARTUP_RUNS interleaved runs each; its summary rows. */
async function startup(lib, dir, kp) {
  const img = path.join(dir, "img-64k.bin");
  const bundle = path.join(dir, "img-64k.fwb");
  fs.writeFileSync(img, randomFillSync(Buffer.alloc(64 * 1024)));
  await lib.pack({ image: img, output: bundle, signers: [await lib.loadSigner(kp.keyPath)], vendor: "acme.example", deviceClass: "bench", sequence: 1, version: "1.0.0" });
  const cases = {
    "node -e 0": ["-e", "0"],
    "fwseal --version": [BIN, "--version"],
    "fwseal verify 64 KiB": [BIN, "verify", bundle, "-r", kp.pubPath, "--vendor", "acme.example", "--class", "bench"],
    "fwseal inspect 64 KiB": [BIN, "inspect", bundle]
  };
  const t = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  // CPU time (user+sys, all threads) beside wall time: far less moved by what else the
  // machine runs. /usr/bin/time reports it in 10 ms ticks, so it is summed over all runs.
  const cpu = Object.fromEntries(Object.keys(cases).map((k) => [k, 0]));
  for (let i = 0; i < STARTUP_RUNS; i++) {
    for (const [k, a] of Object.entries(cases)) {
      const r = timed(process.execPath, a);
      t[k].push(r.secs);
      cpu[k] += r.cpuSecs;
    }
  }
  const base = median(t["node -e 0"]);
  const rows = [];
  for (const k of Object.keys(cases).slice(1)) {
    rows.push({ goal: `start-up ${k} / node -e 0`, fwseal: `${(median(t[k]) * 1000).toFixed(0)} ms`, reference: `${(base * 1000).toFixed(0)} ms`, ratio: (median(t[k]) / base).toFixed(2), target: "<= 1.5", "peak RSS MiB": "", load: loadNow() });
    if (Number.isFinite(cpu[k])) {
      const per = (x) => `${((x / STARTUP_RUNS) * 1000).toFixed(0)} ms CPU`;
      rows.push({ goal: `start-up ${k} / node -e 0, CPU time (user+sys)`, fwseal: per(cpu[k]), reference: per(cpu["node -e 0"]), ratio: (cpu[k] / cpu["node -e 0"]).toFixed(2), target: "", "peak RSS MiB": "", load: loadNow() });
    }
  }
  return { verify64Secs: median(t["fwseal verify 64 KiB"]), rows };
}

if (process.argv[2] === "--child") {
  child(process.argv[3], process.argv.slice(4)).catch((e) => {
    process.stderr.write(String(e?.message ?? e) + "\n");
    process.exit(1);
  });
} else {
  main().catch((e) => {
    process.stderr.write(String(e?.message ?? e) + "\n");
    process.exit(1);
  });
}
