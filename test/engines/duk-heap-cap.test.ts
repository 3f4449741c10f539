// Memory bound of the device core on Duktape (issue 3: "a test verifies a small and a
// >= 64 MiB bundle on Duktape under a memory cap that a per-chunk leak would exceed").
//
// build/duk-capped (device-sim/duk-runner/duk-capped.c, built here by
// device-sim/duk-runner/build.sh from Debian duktape-dev's duktape.c) runs the emitted ES5 core
// in a Duktape heap whose allocator refuses to go above --heap-cap bytes and records the
// high-water mark. The bundle FILE is streamed from disk through ONE reused input buffer in
// fragments of random length (1..8192 bytes, seeded), so the heap holds the core, its
// verifier and that one buffer, whatever the bundle size.
//
// SHA-256: the small and the mid-size (2 MiB) runs use the core's PURE JavaScript primitives
// (the real core, nothing native). Pure SHA-256 on duk runs at ~0.4 MB/s, so the 64 MiB runs
// plug a C SHA-256 into the core's Primitives interface (--native-sha256; the same
// `sha256(buf, off, len, out)` contract a firmware uses) and keep the core's pure Ed25519.
// Every other byte still goes through the core's push(): copying, chunk assembly, chain.
// The heap comparison is like for like: pure vs pure, native vs native.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawnSync, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync, readFileSync, openSync, writeSync, closeSync, readSync, copyFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
// @ts-expect-error plain .mjs script without type declarations
import { checkEmittedJs } from "../../scripts/check-subset.mjs";
import { pack, type PackResult } from "../../host/bundle/pack.js";
import type { Signer } from "../../host/keys/signer.js";
import { emitCore, hex } from "../helpers/engines.js";
import { REPO } from "../helpers/repo.js";
import { randomSigner } from "../helpers/keys.js";
import { writeLargeImage } from "../helpers/images.js";

const RUNNER = path.join(REPO, "build/duk-capped");
const DRIVER = path.join(REPO, "device-sim/duk-runner/driver.js");
const MiB = 1024 * 1024;
const CHUNK = 4096;
const MARGIN = 64 * 1024; // cap = small bundle's measured high-water + this
const SAME_WITHIN = 4 * 1024; // "the same heap": high-water marks within 4 KiB
const LEAK_PER_CHUNK = 16; // bytes: the smallest per-chunk leak the cap must catch
const TAMPER_CHUNK = 12345;

interface HeapStats {
  cap: number;
  highWater: number;
  init: number;
  loadHighWater: number;
  loaded: number;
  feedHighWater: number;
  current: number;
  allocs: number;
  refused: number;
}
interface RunOut {
  status: number;
  ms: number;
  valid?: boolean;
  reason?: string;
  chunk?: number;
  chunksReleased?: number;
  bytesFed?: number;
  sha256?: string;
  error?: string;
  heap: HeapStats;
}

let dir = "";
let coreFile = "";
let pk = "";
const bundles: Record<"small" | "mid" | "big" | "bigTampered", { file: string; info: PackResult }> = {} as never;


async function packImage(name: string, size: number, signer: Signer, seed: number): Promise<{ file: string; info: PackResult }> {
  const image = path.join(dir, name + ".bin");
  writeLargeImage(image, size, seed);
  const file = path.join(dir, name + ".fwb");
  const info = await pack({ image, output: file, signers: [signer], vendor: "acme.example", deviceClass: "sensor-v3", sequence: 7, version: "1.0.0", chunkSize: CHUNK });
  rmSync(image);
  return { file, info };
}

/** Run build/duk-capped on a bundle file; parses its one JSON line. */
function runCapped(bundle: { file: string; info: PackResult }, o: { cap: number; native: boolean; seed: number; driver?: string; file?: string }): Promise<RunOut> {
  const args = [
    "--heap-cap", String(o.cap), "--frag", "8192", "--frag-seed", String(o.seed),
    "--root", pk, "--vendor", hex(bundle.info.vendorId), "--class", hex(bundle.info.classId),
    "--now", "-1", "--max-chunk", String(CHUNK),
    ...(o.native ? ["--native-sha256"] : []),
    coreFile, o.driver ?? DRIVER, o.file ?? bundle.file,
  ];
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(RUNNER, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.on("error", reject);
    child.on("close", (status) => {
      const line = out.trim().split("\n").pop() ?? "";
      let parsed: Omit<RunOut, "status" | "ms">;
      try {
        parsed = JSON.parse(line);
      } catch {
        reject(new Error(`duk-capped printed no JSON (status ${status}): ${out}\n${err}`));
        return;
      }
      resolve({ status: status ?? -1, ms: Date.now() - t0, ...parsed });
    });
  });
}

const log: string[] = [];
function note(label: string, r: RunOut): void {
  log.push(
    `${label}: status ${r.status} ${r.reason ?? r.error} chunk ${r.chunk ?? "-"} released ${r.chunksReleased ?? "-"} sha256 ${r.sha256 ?? "-"} ` +
      `| heap highWater ${r.heap.highWater} loaded ${r.heap.loaded} feedHighWater ${r.heap.feedHighWater} cap ${r.heap.cap} refused ${r.heap.refused} | ${r.ms} ms`
  );
}

describe("device core on Duktape under a hard heap cap (build/duk-capped)", () => {
  let cap = 0;
  let smallPure: RunOut;
  let smallNative: RunOut;

  beforeAll(async () => {
    // Build the runner (gcc + duktape-dev; scripts/setup.sh installs both). No skipping.
    const b = spawnSync("bash", [path.join(REPO, "device-sim/duk-runner/build.sh")], { encoding: "utf8" });
    expect(b.error, "bash is required").toBeUndefined();
    expect(b.status, "device-sim/duk-runner/build.sh failed (needs gcc and Debian duktape-dev):\n" + b.stderr + b.stdout).toBe(0);
    expect(existsSync(RUNNER)).toBe(true);

    dir = mkdtempSync(path.join(tmpdir(), "fwseal-memcap-"));
    coreFile = path.join(dir, "fwseal-core.js");
    writeFileSync(coreFile, await emitCore());

    const { signer } = randomSigner();
    pk = hex(signer.publicKey);
    bundles.small = await packImage("small", 64 * 1024, signer, 1);
    bundles.mid = await packImage("mid", 2 * MiB, signer, 2);
    bundles.big = await packImage("big", 64 * MiB, signer, 3);
    // The same 64 MiB bundle with one byte flipped deep inside: in the data of chunk 12345.
    const big = bundles.big.info;
    const envLen = big.envelopeSize;
    expect(big.bundleSize).toBe(envLen + big.imageSize + 32 * big.chunkCount);
    const tampered = path.join(dir, "big-tampered.fwb");
    copyFileSync(bundles.big.file, tampered);
    const at = envLen + TAMPER_CHUNK * (CHUNK + 32) + 1234;
    const fd = openSync(tampered, "r+");
    const one = Buffer.alloc(1);
    readSync(fd, one, 0, 1, at);
    one[0] ^= 0x20;
    writeSync(fd, one, 0, 1, at);
    closeSync(fd);
    bundles.bigTampered = { file: tampered, info: big };

    // Calibrate on the SMALL bundle only (no cap): the cap is its high-water + margin.
    smallPure = await runCapped(bundles.small, { cap: 0, native: false, seed: 1 });
    note("calibrate small/pure (no cap)", smallPure);
    expect(smallPure.status, JSON.stringify(smallPure)).toBe(0);
    smallNative = await runCapped(bundles.small, { cap: 0, native: true, seed: 1 });
    note("calibrate small/native (no cap)", smallNative);
    expect(smallNative.status, JSON.stringify(smallNative)).toBe(0);
    cap = Math.max(smallPure.heap.highWater, smallNative.heap.highWater) + MARGIN;
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    // Numbers for formats/SPEC.md §9 and the report.
    process.stdout.write("memcap: cap " + cap + " bytes\n  " + log.join("\n  ") + "\n");
  });

  it("the driver the runner loads stays inside the constrained subset", () => {
    expect(checkEmittedJs(readFileSync(DRIVER, "utf8"), "device-sim/duk-runner/driver.js")).toEqual([]);
  });

  it("small (64 KiB) and mid-size (2 MiB) bundles with the pure-JS core are accepted under the cap, same heap", async () => {
    const small = await runCapped(bundles.small, { cap, native: false, seed: 2 });
    note("small 64 KiB/pure", small);
    expect(small).toMatchObject({ status: 0, valid: true, reason: "OK", chunksReleased: 16, sha256: "pure" });
    expect(small.heap.refused).toBe(0);
    expect(small.heap.highWater).toBeLessThanOrEqual(cap);

    const mid = await runCapped(bundles.mid, { cap, native: false, seed: 3 });
    note("mid 2 MiB/pure", mid);
    expect(mid).toMatchObject({ status: 0, valid: true, reason: "OK", chunksReleased: 512, sha256: "pure" });
    expect(mid.heap.refused).toBe(0);
    expect(Math.abs(mid.heap.feedHighWater - small.heap.feedHighWater)).toBeLessThanOrEqual(SAME_WITHIN);
    expect(Math.abs(mid.heap.highWater - small.heap.highWater)).toBeLessThanOrEqual(SAME_WITHIN);
  });

  it("a 64 MiB bundle (16384 chunks) is accepted under the SAME cap with the same high-water, and the cap leaves less room than a 16-byte-per-chunk leak needs", async () => {
    const big = await runCapped(bundles.big, { cap, native: true, seed: 4 });
    note("big 64 MiB/native sha256", big);
    expect(bundles.big.info.bundleSize).toBeGreaterThanOrEqual(64 * MiB);
    expect(big).toMatchObject({ status: 0, valid: true, reason: "OK", chunk: -1, chunksReleased: 16384, bytesFed: bundles.big.info.bundleSize, sha256: "native" });
    expect(big.heap.refused).toBe(0);
    expect(big.heap.highWater).toBeLessThanOrEqual(cap);
    // (b) the high-water of 64 MiB is that of 64 KiB (like for like: native SHA-256 both).
    expect(Math.abs(big.heap.feedHighWater - smallNative.heap.feedHighWater)).toBeLessThanOrEqual(SAME_WITHIN);
    expect(Math.abs(big.heap.highWater - smallNative.heap.highWater)).toBeLessThanOrEqual(SAME_WITHIN);
    // (c) the room the cap leaves once the core is loaded and ready (everything the feed phase
    // could still take) is below what 16 leaked bytes per chunk would need, and the cap
    // itself is a tiny fraction of the bundle.
    const room = cap - big.heap.loaded;
    expect(room).toBeLessThan(LEAK_PER_CHUNK * big.chunksReleased!);
    expect(cap).toBeLessThan(bundles.big.info.bundleSize / 64);
  });

  it("the tampered 64 MiB bundle is rejected with CHUNK_HASH_MISMATCH at chunk 12345 under the same cap", async () => {
    const r = await runCapped(bundles.bigTampered, { cap, native: true, seed: 5 });
    note("big 64 MiB tampered/native sha256", r);
    expect(r).toMatchObject({ status: 1, valid: false, reason: "CHUNK_HASH_MISMATCH", chunk: TAMPER_CHUNK, chunksReleased: TAMPER_CHUNK });
    expect(r.heap.refused).toBe(0);
    expect(r.heap.highWater).toBeLessThanOrEqual(cap);
  });

  it("control: the cap catches a per-chunk leak of one 16-byte Uint8Array (exit 4, reported as a heap failure, not a verdict)", async () => {
    const base = readFileSync(DRIVER, "utf8");
    const leaky = base
      .replace("var released = 0;", "var released = 0;\n  var leak = [];")
      .replace("if (ev === EV.CHUNK) released++;", "if (ev === EV.CHUNK) { released++; leak.push(new Uint8Array(16)); }");
    expect(leaky).not.toBe(base);
    expect(leaky).toContain("leak.push");
    const leakyDriver = path.join(dir, "leaky-driver.js");
    writeFileSync(leakyDriver, leaky);
    // 16 chunks of leak fit: the small bundle is still accepted ...
    const small = await runCapped(bundles.small, { cap, native: true, seed: 6, driver: leakyDriver });
    note("control small/leaky driver", small);
    expect(small).toMatchObject({ status: 0, valid: true, reason: "OK" });
    // ... 16384 do not: the 64 MiB run dies on the cap.
    const big = await runCapped(bundles.big, { cap, native: true, seed: 6, driver: leakyDriver });
    note("control big/leaky driver", big);
    expect(big.status).toBe(4);
    expect(big.error).toBe("heap cap exceeded");
    expect(big.valid).toBeUndefined();
    expect(big.heap.refused).toBeGreaterThan(0);
    expect(big.heap.highWater).toBeLessThanOrEqual(cap);
  });

  it("a cap below what the core needs fails as a heap failure (exit 4), never as a verdict", async () => {
    const r = await runCapped(bundles.small, { cap: Math.floor(smallPure.heap.loaded / 2), native: false, seed: 7 });
    note("cap too small", r);
    expect(r.status).toBe(4);
    expect(r.error).toBe("heap cap exceeded");
    expect(r.reason).toBeUndefined();
  });
});
