#!/usr/bin/env node
// npm run bench:espruino: install time of a raw-image bundle on an Espruino board (the Linux
// build named by ESPRUINO_BIN, on a socat pty: scripts/espruino-board.sh), next to the raw link
// measured the same way: the same DATA frames (COBS + CRC-32, console-escaped, as `fwseal flash
// --espruino` writes them) pushed through the same pty into the same running board, where a
// receiver installed on the console device exactly as the update session's (LoopbackA takes the
// REPL, a "data" listener on the console) only counts them. install/raw is then apples to apples.
// Uses the CLI (bin/fwseal.js) for keys, pack, provision and flash, and dist/ for the console
// and frame encoder (npm run build first). Not a test: prints a table and one JSON line.
//
// Usage: ESPRUINO_BIN=<espruino Linux build> node bench/espruino-install.mjs
//   BENCH_ROUNDS  rounds of (raw link, install), median reported (default 3)
//   BENCH_IMAGE   image bytes (default 40960: two slots of 64 KiB do not fit the Linux build's
//                 256 KB Storage beside the core)
//   BENCH_DIAG=0  skip the instrumented install that says where the install time goes
//   BENCH_KEYS    "ed25519" (default): a delegated Ed25519 release key, two Ed25519 checks per
//                 envelope; "hss": an HSS/LMS root (H5/W4) signs the bundle, one HSS/LMS check
//                 on the native SHA-256 (what the README recommends for Espruino)
import { spawn, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const bin = process.env.ESPRUINO_BIN ?? "";
if (!bin || !fs.existsSync(bin)) {
  console.log(`bench/espruino-install.mjs: skipped: ${bin ? `ESPRUINO_BIN=${bin} does not exist` : "ESPRUINO_BIN is not set"} (an Espruino Linux build, scripts/build-espruino.sh)`);
  process.exit(0);
}
// The same rule as the board suites: an unpatched Linux build drops or replays console input.
if (!fs.readFileSync(bin).includes("fwsQueueLock") && process.env.ESPRUINO_ALLOW_UNPATCHED !== "1") {
  console.log(`bench/espruino-install.mjs: skipped: ESPRUINO_BIN=${bin} has no input-queue lock (build it with scripts/build-espruino.sh, or set ESPRUINO_ALLOW_UNPATCHED=1)`);
  process.exit(0);
}
for (const f of ["dist/host/device/espruino-console.js", "build/fwseal-core.min.js"]) {
  if (!fs.existsSync(path.join(root, f))) {
    console.error(`bench/espruino-install.mjs: ${f} missing: run \`npm run build\` first`);
    process.exit(1);
  }
}
const imp = (p) => import(pathToFileURL(path.join(root, "dist", p)).href);
const { EspruinoConsole, escapeForEspruino } = await imp("host/device/espruino-console.js");
const { createFrameEncoder } = await imp("device-sim/core/update/framing.js");
const { Msg, DATA_HEADER_LEN, DataAt, putU32 } = await imp("formats/device-safe/protocol.js");

const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const IMAGE = Number(process.env.BENCH_IMAGE ?? 40960);
const DIAG = process.env.BENCH_DIAG !== "0";
const KEYS = process.env.BENCH_KEYS ?? "ed25519";
if (KEYS !== "ed25519" && KEYS !== "hss") {
  console.error(`bench/espruino-install.mjs: BENCH_KEYS must be "ed25519" or "hss", not "${KEYS}"`);
  process.exit(2);
}
const IDLE = 2; // seconds of silence that end an update session (provisioned so)
const VENDOR = "acme.example";
const CLASS = "sensor-v3";
const load0 = os.loadavg();
const work = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-bench-espruino-"));
const boardDir = path.join(work, "board");
const port = path.join(boardDir, "tty");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const kib = (bytes, ms) => (bytes / 1024) / (ms / 1000);

function boardScript(...args) {
  const r = spawnSync(path.join(root, "scripts/espruino-board.sh"), args, { cwd: root, encoding: "utf8", env: { ...process.env, ESPRUINO_BIN: bin } });
  if (r.status !== 0) throw new Error(`scripts/espruino-board.sh ${args.join(" ")}: ${r.stderr || r.stdout}`);
}

let cleaned = false;
let running = null; // the CLI process under way, ended first on a signal
function cleanUp() {
  if (cleaned) return;
  cleaned = true;
  running?.kill("SIGTERM");
  try {
    boardScript(boardDir, "stop");
  } catch (e) {
    console.error(`bench/espruino-install.mjs: stopping the board: ${e.message}`);
  }
  fs.rmSync(work, { recursive: true, force: true });
}
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    cleanUp();
    process.exit(130);
  });
}

/** Runs the CLI; returns its stdout, and its wall time in ms (start-up included). */
async function fwseal(args) {
  const t0 = performance.now();
  const child = (running = spawn(process.execPath, [path.join(root, "bin/fwseal.js"), ...args], { cwd: work, stdio: ["ignore", "pipe", "pipe"] }));
  let out = "";
  let err = "";
  child.stdout.on("data", (b) => (out += b));
  child.stderr.on("data", (b) => (err += b));
  const code = await new Promise((r) => child.on("close", r));
  running = null;
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`fwseal ${args.join(" ")}: exit ${code}: ${(err || out).trim().slice(-600)}`);
  return { out, ms };
}

/** Evaluates expressions on the board's console (the REPL must be on the console). */
async function query(...exprs) {
  const con = await EspruinoConsole.open(port);
  try {
    await con.sync(30000);
    const out = [];
    for (const e of exprs) out.push(await con.evaluate(e, 60000));
    return out;
  } finally {
    await con.close();
  }
}

/** The host->board bytes of the bundle's DATA frames, as an install writes them: a leading
 *  delimiter, then each frame COBS-encoded with its CRC and escaped for the console. */
function dataFrameWire(bundle, frameData) {
  const enc = createFrameEncoder(frameData + DATA_HEADER_LEN);
  const parts = [Buffer.of(0)];
  let tag = 0;
  for (let off = 0; off < bundle.length; off += frameData) {
    const n = Math.min(frameData, bundle.length - off);
    const b = enc.body;
    b[0] = Msg.DATA;
    b[1] = tag = (tag + 1) & 0xff;
    putU32(b, DataAt.OFFSET, off);
    b.set(bundle.subarray(off, off + n), DataAt.BYTES);
    parts.push(Buffer.from(escapeForEspruino(enc.wire.slice(0, enc.encode(DATA_HEADER_LEN + n)))));
  }
  return Buffer.concat(parts);
}

/** Pushes `wire` into the board, whose console device gets a counting receiver; returns the
 *  host's time from the first byte written to the board's count line, and the board's view. */
async function rawLink(wire) {
  const con = await EspruinoConsole.open(port);
  try {
    await con.sync(30000);
    // As the glue's startUpdate(): the REPL moves to LoopbackA, a listener reads the console.
    const receiver =
      // It also counts bursts (input more than 20 ms after the previous), to show how the board's
      // input arrives.
      `(function(){var C=eval(process.env.CONSOLE||"USB"),n=0,k=0,b=0,t0=0,tl=0,N=${wire.length};LoopbackA.setConsole();` +
      `C.on("data",function(d){var t=getTime();if(n===0)t0=tl=t;if(t-tl>0.02)b++;tl=t;k++;n+=d.length;if(n>=N){C.removeAllListeners("data");` +
      `C.write("#RAW:"+n+":"+k+":"+(b+1)+":"+Math.round((t-t0)*1000)+"\\n");C.setConsole();}});C.write("#READY\\n");})()`;
    await con.write(`\x1b[2H\x10${receiver}\n`);
    await con.waitFor(/#READY\n/, 10000, "raw-link receiver");
    const t0 = performance.now();
    await con.write(wire.toString("latin1"));
    const m = await con.waitFor(/#RAW:(\d+):(\d+):(\d+):(\d+)\n/, 300000, "raw-link count");
    return { ms: performance.now() - t0, boardMs: Number(m[4]), events: Number(m[2]), bursts: Number(m[3]) };
  } finally {
    await con.close();
  }
}

/** `fwseal flash --espruino --json`; returns the CLI's wall time and its transfer figures. */
async function install(bundlePath) {
  const { out, ms } = await fwseal(["flash", bundlePath, "--port", port, "--espruino", "--json"]);
  const r = JSON.parse(out);
  if (r.outcome !== "installed") throw new Error(`flash: outcome ${r.outcome}`);
  await sleep((IDLE + 1) * 1000); // the update session ends, the REPL comes back
  return { wallMs: ms, transfer: r.transfer, device: r.device };
}

// Board-side instrumentation for one install (BENCH_DIAG): time inside the device core's
// onBytes (the whole device work per piece of console input) and its longest calls, and inside
// Storage and the native SHA-256 (the module objects are shared, so wrapping them reaches the
// glue's calls). Installed through the console between two installs; read back afterwards.
const INSTRUMENT = `(function(){var P=global.fwsBench={on:0,onN:0,onB:0,long:[],sw:0,swN:0,sr:0,srN:0,se:0,seN:0,sha:0,shaN:0};
var a=fwsealBoard.app,o=a.onBytes;a.onBytes=function(b,off,len){var t=getTime();o.call(a,b,off,len);t=getTime()-t;P.on+=t;P.onN++;P.onB+=len;if(t>0.05)P.long.push(Math.round(t*1000));};
var S=require("Storage"),w=S.write,r=S.readArrayBuffer,e=S.erase;
S.write=function(){var t=getTime();var x=w.apply(S,arguments);P.sw+=getTime()-t;P.swN++;return x;};
S.readArrayBuffer=function(n){var t=getTime();var x=r.call(S,n);P.sr+=getTime()-t;P.srN++;return x;};
S.erase=function(n){var t=getTime();var x=e.call(S,n);P.se+=getTime()-t;P.seN++;return x;};
var C=require("crypto"),h=C.SHA256;C.SHA256=function(m){var t=getTime();var x=h(m);P.sha+=getTime()-t;P.shaN++;return x;};return 1;})()`.replace(/\n/g, "");

/** Time of one Ed25519 verification by the core's pure JavaScript on the board (the install
 *  verifies the release signature and, for a delegated key, its certificate's). */
async function ed25519OnBoard() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync("ed25519");
  const pk = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
  const msg = crypto.randomBytes(300);
  const sig = crypto.sign(null, msg, privateKey);
  const hex = (b) => Buffer.from(b).toString("hex");
  const [r] = await query(
    `(function(){var C=fwsealCore,pk=C.hexToBytes("${hex(pk)}"),s=C.hexToBytes("${hex(sig)}"),m=C.hexToBytes("${hex(msg)}");` +
      `var t=getTime(),ok=C.ed25519Verify(pk,s,m,0,m.length);return ok+":"+Math.round((getTime()-t)*1000);})()`
  );
  const [ok, ms] = r.split(":");
  if (ok !== "true") throw new Error(`Ed25519 on the board: ${r}`);
  return Number(ms);
}

const f1 = (x) => x.toFixed(1);
try {
  // Keys, a delegated release key and a raw-image bundle, as a release does (README).
  const image = new Uint8Array(IMAGE);
  for (let i = 0, x = 1; i < IMAGE; i++) image[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  fs.writeFileSync(path.join(work, "fw.bin"), image);
  if (KEYS === "hss") {
    await fwseal(["keygen", "--alg", "hss-lms", "--lms-height", "5", "--lmots-w", "4", "--out", "root"]);
    await fwseal(["pack", "fw.bin", "--key", "root.key", "--seq", "1", "--vendor", VENDOR, "--class", CLASS, "--fw-version", "1.0.0", "--root", "root.pub", "-o", "fw.fwb"]);
  } else {
    await fwseal(["keygen", "--out", "root"]);
    await fwseal(["keygen", "--out", "release"]);
    await fwseal(["delegate", "--root", "root.key", "--pub", "release.pub", "--epoch", "1", "--vendor", VENDOR, "--class", CLASS, "-o", "release.cert"]);
    await fwseal(["pack", "fw.bin", "--key", "release.key", "--cert", "release.cert", "--seq", "1", "--vendor", VENDOR, "--class", CLASS, "--fw-version", "1.0.0", "--root", "root.pub", "-o", "fw.fwb"]);
  }
  const bundlePath = path.join(work, "fw.fwb");
  const bundle = new Uint8Array(fs.readFileSync(bundlePath));

  boardScript(boardDir);
  const prov = await fwseal(["espruino", "provision", "--port", port, "--raw", "--root", "root.pub", "--vendor", VENDOR, "--class", CLASS, "--idle", String(IDLE)]);
  const bootVars = Number(/vars=(\d+)/.exec(prov.out)?.[1] ?? NaN);
  const [frameData, windowFrames] = (await query(`require("Storage").readJSON("fws.cfg").maxData+","+require("Storage").readJSON("fws.cfg").window`))[0].split(",").map(Number);
  const wire = dataFrameWire(bundle, frameData);
  console.log(`Espruino install of a ${IMAGE}-byte raw image signed ${KEYS === "hss" ? "by an HSS/LMS root" : "by a delegated Ed25519 key"} (${bundle.length}-byte bundle, ${frameData}-byte DATA frames, window ${windowFrames}) on ${path.basename(bin)}; ${ROUNDS} round(s)`);
  console.log(`  provisioned in ${f1(prov.ms / 1000)} s; ${bootVars} variables in use after boot; load ${load0.map(f1).join(" ")}`);

  const rounds = [];
  for (let i = 0; i < ROUNDS; i++) {
    const raw = await rawLink(wire);
    const ins = await install(bundlePath);
    const [vars, peak, stats] = await query("process.memory().usage", "fwsealBoard.peak", 'JSON.stringify(require("Storage").getStats())');
    const r = { raw, ins, vars: Number(vars), peak: Number(peak), storage: JSON.parse(stats), ratio: ins.transfer.ms / raw.ms };
    rounds.push(r);
    console.log(
      `  round ${i + 1}: raw link ${f1(raw.ms / 1000)} s (${f1(kib(bundle.length, raw.ms))} KiB/s of bundle; ${raw.events} data events in ${raw.bursts} bursts ` +
        `of ${Math.round(wire.length / raw.bursts)} bytes, one per ${Math.round(raw.boardMs / raw.bursts)} ms); ` +
        `install ${f1(ins.transfer.ms / 1000)} s (${f1(kib(bundle.length, ins.transfer.ms))} KiB/s; CLI ${f1(ins.wallMs / 1000)} s) = ${ins.transfer.ms && r.ratio.toFixed(2)}x raw; ` +
        `resent ${ins.transfer.retransmits}; vars ${r.vars} (peak ${r.peak}); Storage free ${r.storage.freeBytes} trash ${r.storage.trashBytes}`
    );
  }

  let diag = null;
  if (DIAG) {
    const edMs = await ed25519OnBoard();
    await query(INSTRUMENT);
    const ins = await install(bundlePath);
    const p = JSON.parse((await query("JSON.stringify(fwsBench)"))[0]);
    const ms = (s) => Math.round(s * 1000);
    const longMs = p.long.reduce((a, b) => a + b, 0);
    diag = {
      transferMs: ins.transfer.ms,
      ed25519Ms: edMs,
      coreMs: ms(p.on),
      coreCalls: p.onN,
      coreBytes: p.onB,
      longCallsMs: p.long,
      coreOtherUsPerByte: +(((p.on * 1000 - longMs) * 1000) / p.onB).toFixed(1),
      storageMs: ms(p.sw + p.sr + p.se),
      storageCalls: p.swN + p.srN + p.seN,
      sha256Ms: ms(p.sha),
      sha256Calls: p.shaN,
      notInCoreMs: Math.round(ins.transfer.ms - p.on * 1000),
      withoutLongCallsOverRaw: +((ins.transfer.ms - longMs) / median(rounds.map((r) => r.raw.ms))).toFixed(3)
    };
    console.log(`  where the install time goes (one more install, instrumented on the board: ${f1(ins.transfer.ms / 1000)} s):`);
    console.log(`    device core (onBytes): ${f1(p.on)} s in ${p.onN} calls for ${p.onB} bytes; calls over 50 ms: ${p.long.join(", ") || "none"} ms`);
    console.log(`      one Ed25519 verification by the core's JavaScript on this board: ${edMs} ms (the envelope of a delegated key needs two: certificate and release signature)`);
    console.log(`      the rest: ${diag.coreOtherUsPerByte} us per received byte (frame decode with CRC-32, install receiver, chunk chain)`);
    console.log(`      of which Storage ${diag.storageMs} ms (${diag.storageCalls} calls), native SHA-256 ${diag.sha256Ms} ms (${p.shaN} calls)`);
    console.log(`    outside the core: ${f1(diag.notInCoreMs / 1000)} s (waiting for the link and replies, the glue's unescaping, the event loop)`);
    console.log(`    without the calls over 50 ms the install would take ${f1((ins.transfer.ms - longMs) / 1000)} s = ${diag.withoutLongCallsOverRaw}x the raw link`);
  }

  const rawMs = median(rounds.map((r) => r.raw.ms));
  const insMs = median(rounds.map((r) => r.ins.transfer.ms));
  const out = {
    bench: "espruino-install",
    keys: KEYS,
    espruino: path.basename(bin),
    rounds: ROUNDS,
    imageBytes: IMAGE,
    bundleBytes: bundle.length,
    frameData,
    window: windowFrames,
    rawWireBytes: wire.length,
    installWireBytes: rounds[0].ins.transfer.wireOut,
    rawLinkMs: Math.round(rawMs),
    rawLinkKiBps: +kib(bundle.length, rawMs).toFixed(2),
    rawLinkBaudEquivalent: Math.round((wire.length * 10 * 1000) / rawMs),
    installMs: Math.round(insMs),
    installCliMs: Math.round(median(rounds.map((r) => r.ins.wallMs))),
    installKiBps: +kib(bundle.length, insMs).toFixed(2),
    installOverRaw: +median(rounds.map((r) => r.ratio)).toFixed(3),
    ratios: rounds.map((r) => +r.ratio.toFixed(3)),
    retransmits: rounds.map((r) => r.ins.transfer.retransmits),
    provisionMs: Math.round(prov.ms),
    varsAfterBoot: bootVars,
    varsAfterInstall: median(rounds.map((r) => r.vars)),
    peakVars: Math.max(...rounds.map((r) => r.peak)),
    loadavgStart: load0.map((l) => +l.toFixed(2)),
    loadavgEnd: os.loadavg().map((l) => +l.toFixed(2)),
    diag
  };
  console.log(
    `  median: raw link ${f1(rawMs / 1000)} s = ${f1(out.rawLinkKiBps)} KiB/s (as fast as ${out.rawLinkBaudEquivalent} baud at 10 bits per byte); install ${f1(insMs / 1000)} s = ${f1(out.installKiBps)} KiB/s = ${out.installOverRaw}x raw ` +
      `(CLI with start-up and console switch ${f1(out.installCliMs / 1000)} s); load now ${out.loadavgEnd.map(f1).join(" ")}`
  );
  console.log(JSON.stringify(out));
} catch (e) {
  console.error(`bench/espruino-install.mjs: ${e.stack || e}`);
  process.exitCode = 1;
} finally {
  cleanUp();
}
