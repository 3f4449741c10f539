// Device-core conformance runner: feeds operations (SHA-256, Ed25519 verify, streaming
// bundle verification) to the ES5 device core (build/fwseal-core.js) running on a real
// engine (Node's vm, Duktape's `duk`, or any command such as an Espruino binary) and
// returns one JSON result per operation. Used by `fwseal device-conformance` and the
// differential tests: every engine must give byte-identical answers.
//
// verify_bundle runs the core's RAM install check (device-sim/core/decode/ram-install-check.ts):
// the streaming verifier and, for a compressed or delta payload (SPEC §15), the decoder into a
// buffer of the manifest's image size, the precursor check against the image named by
// "precursor" and the result check, so its verdict is the one an installing device reaches.
//
// How: the host parses and validates each JSON line, resolves files/keys/UUIDs, then
// writes ONE JavaScript file = the ES5 core + an ES5 driver with every operation of the
// batch embedded as hex strings (duk and Espruino have no file system access). The engine
// runs that file (as its LAST argument); the driver prints one tagged line per operation.
// The driver itself stays inside the constrained subset: hex decoding and JSON output are
// done by hand, output goes through `print`.
import { readFileSync, existsSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { createPublicKey } from "node:crypto";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import path from "node:path";
import vm from "node:vm";
import { fileURLToPath } from "node:url";
import { vendorUuid, classUuid } from "../../formats/host-only/uuid.js";
import { Limits } from "../../formats/device-safe/limits.js";
import { inspectBytes } from "../bundle/inspect.js";
import { loadPrecursor } from "../bundle/precursor.js";

/** One parsed operation, ready to embed. */
type Op =
  | { op: "sha256"; msg: string }
  | { op: "ed25519_verify"; pk: string; msg: string; sig: string }
  | {
      op: "verify_bundle";
      bundle: string; // hex
      roots: string; // hex, packed root keys (32 bytes Ed25519, 60 bytes HSS/LMS each)
      rootCount: number;
      rootHssMask: number; // bit s set = slot s holds an HSS/LMS key
      rootRetired: number;
      vendor: string; // hex, 16 bytes
      cls: string; // hex, 16 bytes
      minSeq: number;
      minEpoch: number;
      threshold: number;
      rootThreshold: number;
      requiredAlgorithms: number; // hybrid policy (AlgorithmBits), 0 = none
      hss: boolean; // the device accepts HSS/LMS signatures
      now: number;
      maxChunkSize: number;
      // optional log policy (formats/SPEC.md §14): hex key records; absent or "" = none
      logKeys?: string;
      witnessKeys?: string;
      witnessQuorum?: number;
      // compressed and delta payloads (formats/SPEC.md §15): the device's decoder window
      // (0: no decoder), the running image and the chain head the device records for it
      // (hex; absent or "" = none), the target buffer's size (the manifest's image size when
      // encoded; absent = 0)
      maxWindowBits?: number;
      precursor?: string;
      precursorChainHead?: string;
      imageCapacity?: number;
    };

export interface ConformanceOptions {
  /** "node" (in-process vm), "duk", or a command line (split on spaces); the file is appended. */
  engine?: string;
  /** The ES5 core file; default <package>/build/fwseal-core.js. */
  coreFile?: string;
  /** Per engine run, milliseconds (default 600000). */
  timeoutMs?: number;
}

const RESULT_TAG = "@@fwseal ";
// Printed after the last operation: engines that stay in an event loop after the script
// (Espruino) are stopped when it appears.
const END_TAG = "@@fwseal-end";
const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;
const MAX_SAFE = 9007199254740991;
/** Largest image an encoded payload is decoded to in the engine's memory; above: TOO_LARGE. */
export const MAX_RAM_IMAGE = 16 * 1024 * 1024;

/** The bundle's chunk size and, for an encoded payload, its image size (0: raw or unreadable). */
function bundleGeometry(bundle: Uint8Array): { chunkSize: number | undefined; encodedImageSize: number } {
  try {
    const m = inspectBytes(bundle.subarray(0, Math.min(bundle.length, Limits.MAX_ENVELOPE)), bundle.length).manifest;
    const encoded = m.payloadEncoding !== null && m.payloadEncoding !== "raw";
    return { chunkSize: m.chunkSize ?? undefined, encodedImageSize: encoded && m.imageSize !== null ? m.imageSize : 0 };
  } catch {
    return { chunkSize: undefined, encodedImageSize: 0 }; // the core says why
  }
}

/** The package root (directory holding package.json named "fwseal"), from src or dist. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pj = path.join(dir, "package.json");
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, "utf8")) as { name?: string }).name === "fwseal") return dir;
      } catch {
        /* keep looking */
      }
    }
    dir = path.dirname(dir);
  }
  return process.cwd();
}

export function defaultCoreFile(): string {
  return path.join(packageRoot(), "build", "fwseal-core.js");
}

function hexField(o: Record<string, unknown>, name: string, bytes?: number): string {
  const v = o[name];
  if (typeof v !== "string") throw new Error(`"${name}" must be a hex string`);
  if (!HEX_RE.test(v)) throw new Error(`"${name}" is not valid hex`);
  if (bytes !== undefined && v.length !== bytes * 2) throw new Error(`"${name}" must be ${bytes} bytes`);
  return v.toLowerCase();
}

function intField(o: Record<string, unknown>, name: string, dflt: number, min: number): number {
  const v = o[name];
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > MAX_SAFE) {
    throw new Error(`"${name}" must be an integer >= ${min}`);
  }
  return v;
}

/** A root public key: 64 hex digits, or a file holding a PEM public key (or 64 hex digits). */
function loadRoot(spec: unknown, baseDir: string): string {
  if (typeof spec !== "string" || spec.length === 0) throw new Error(`"root" must be a path or 64 hex digits`);
  // 64 hex digits: an Ed25519 key; 120: an HSS/LMS key (RFC 8554 string)
  if (/^(?:[0-9a-fA-F]{64}|[0-9a-fA-F]{120})$/.test(spec)) return spec.toLowerCase();
  const file = path.resolve(baseDir, spec);
  let text: string;
  try {
    text = readFileSync(file, "utf8").trim();
  } catch {
    throw new Error(`cannot read root key ${spec}`);
  }
  if (/^[0-9a-fA-F]{64}$/.test(text)) return text.toLowerCase();
  try {
    const key = createPublicKey(text);
    if (key.asymmetricKeyType !== "ed25519") throw new Error("not Ed25519");
    const jwk = key.export({ format: "jwk" }) as { x?: string };
    return Buffer.from(jwk.x ?? "", "base64url").toString("hex");
  } catch {
    throw new Error(`root key ${spec} is not an Ed25519 public key (PEM or 64 hex digits)`);
  }
}

function nameOrUuid(o: Record<string, unknown>, name: string): string {
  const v = o[name];
  if (typeof v !== "string" || v.length === 0) throw new Error(`"${name}" must be a name or UUID`);
  return v;
}

/** Parse and resolve one input line. Throws Error with a one-line message. */
export async function parseOp(line: string, baseDir = process.cwd()): Promise<Op> {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    throw new Error("not valid JSON");
  }
  if (typeof o !== "object" || o === null || Array.isArray(o)) throw new Error("not a JSON object");
  const r = o as Record<string, unknown>;
  switch (r.op) {
    case "sha256":
      return { op: "sha256", msg: hexField(r, "msg") };
    case "ed25519_verify":
      return { op: "ed25519_verify", pk: hexField(r, "pk"), msg: hexField(r, "msg"), sig: hexField(r, "sig") };
    case "verify_bundle": {
      if (typeof r.bundle !== "string" || r.bundle.length === 0) throw new Error(`"bundle" must be a path`);
      let bundle: Buffer;
      try {
        bundle = readFileSync(path.resolve(baseDir, r.bundle));
      } catch {
        throw new Error(`cannot read bundle ${r.bundle}`);
      }
      const rootSpecs = Array.isArray(r.root) ? (r.root as unknown[]) : [r.root];
      if (rootSpecs.length < 1 || rootSpecs.length > Limits.MAX_ROOT_SLOTS) {
        throw new Error(`"root" must name 1..${Limits.MAX_ROOT_SLOTS} keys`);
      }
      const rootHex = rootSpecs.map((s) => loadRoot(s, baseDir));
      const roots = rootHex.join("");
      let rootHssMask = 0;
      rootHex.forEach((h, s) => {
        if (h.length === 120) rootHssMask |= 1 << s;
      });
      let vendor: Uint8Array;
      let cls: Uint8Array;
      try {
        vendor = vendorUuid(nameOrUuid(r, "vendor"));
        cls = classUuid(vendor, nameOrUuid(r, "class"));
      } catch (e) {
        throw new Error((e as Error).message);
      }
      const now = r.now === undefined || r.now === -1 ? -1 : intField(r, "now", -1, 0);
      const maxWindowBits = intField(r, "maxWindowBits", 0, 0);
      if (maxWindowBits > Limits.MAX_WINDOW_BITS) throw new Error(`"maxWindowBits" must be 0 (no decoder) or ${Limits.MIN_WINDOW_BITS}..${Limits.MAX_WINDOW_BITS}`);
      const geometry = bundleGeometry(bundle);
      let precursor = "";
      let precursorChainHead = r.precursorChainHead === undefined ? "" : hexField(r, "precursorChainHead", Limits.HASH_LEN);
      if (r.precursor !== undefined) {
        if (typeof r.precursor !== "string" || r.precursor.length === 0) throw new Error(`"precursor" must be a path`);
        let loaded: Awaited<ReturnType<typeof loadPrecursor>>;
        try {
          loaded = await loadPrecursor(path.resolve(baseDir, r.precursor), geometry.chunkSize);
        } catch (e) {
          throw new Error((e as Error).message); // names the file
        }
        precursor = Buffer.from(loaded.image).toString("hex");
        if (precursorChainHead === "" && loaded.chainHead) precursorChainHead = Buffer.from(loaded.chainHead).toString("hex");
      }
      return {
        op: "verify_bundle",
        bundle: bundle.toString("hex"),
        roots,
        rootCount: rootSpecs.length,
        rootHssMask,
        rootRetired: intField(r, "retired", 0, 0),
        vendor: Buffer.from(vendor).toString("hex"),
        cls: Buffer.from(cls).toString("hex"),
        minSeq: intField(r, "minSeq", 0, 0),
        minEpoch: intField(r, "minEpoch", 0, 0),
        threshold: intField(r, "threshold", 1, 1),
        rootThreshold: intField(r, "rootThreshold", 1, 1),
        requiredAlgorithms: intField(r, "requiredAlgorithms", 0, 0),
        hss: r.hss === true,
        now,
        maxChunkSize: intField(r, "maxChunkSize", Limits.MAX_CHUNK_SIZE, 1),
        logKeys: r.logKeys === undefined ? "" : hexField(r, "logKeys"),
        witnessKeys: r.witnessKeys === undefined ? "" : hexField(r, "witnessKeys"),
        witnessQuorum: intField(r, "witnessQuorum", 0, 0),
        maxWindowBits,
        precursor,
        precursorChainHead,
        imageCapacity: geometry.encodedImageSize <= MAX_RAM_IMAGE ? geometry.encodedImageSize : 0
      };
    }
    default:
      throw new Error(r.op === undefined ? `missing "op"` : `unknown op ${JSON.stringify(r.op)}`);
  }
}

// ---------------------------------------------------------------------------------------
// The ES5 driver (constrained subset: no JSON, no exceptions, hex by hand, print only).

/** Prelude for engines without a global `print` (plain node, browsers). Not part of the subset check. */
export const PRINT_FALLBACK =
  'if (typeof print === "undefined") { var print = function (s) { console.log(s); }; }\n';

/** The driver's fixed part: helper functions. Exported for the subset test. */
export const DRIVER_HEAD = `var fwsealDriver = (function (core) {
  var fromHex = core.hexToBytes;
  var toHex = core.bytesToHex;
  function emit(id, body) { print("${RESULT_TAG}" + id + " " + body); }
  function fail(id, msg) { emit(id, "{\\"error\\":\\"" + msg + "\\"}"); }
  var digest = new Uint8Array(32);
  var prims = null;
  function primitives() {
    if (prims === null && typeof core.createPurePrimitives === "function") prims = core.createPurePrimitives();
    return prims;
  }
  function sha(id, msgHex) {
    if (typeof core.sha256 !== "function") { fail(id, "core has no sha256"); return; }
    var m = fromHex(msgHex);
    core.sha256(m, 0, m.length, digest);
    emit(id, "{\\"digest\\":\\"" + toHex(digest, 0, 32) + "\\"}");
  }
  function ed(id, pkHex, msgHex, sigHex) {
    if (typeof core.ed25519Verify !== "function") { fail(id, "core has no ed25519Verify"); return; }
    var pk = fromHex(pkHex);
    var sig = fromHex(sigHex);
    var m = fromHex(msgHex);
    var ok = false;
    if (pk.length === 32 && sig.length === 64) ok = core.ed25519Verify(pk, sig, m, 0, m.length) === true;
    emit(id, "{\\"valid\\":" + (ok ? "true" : "false") + "}");
  }
  // Fragment sizes cycle through this pattern so that splits land everywhere.
  var FRAG = [1, 7, 64, 3, 511, 4096, 2, 1021];
  function bundle(id, bHex, rootsHex, rootCount, hssMask, retired, vendorHex, classHex, minSeq, minEpoch, threshold, rootThreshold, required, hss, now, maxChunk, logHex, witnessHex, quorum, maxWindowBits, precursorHex, precursorHeadHex, imageCapacity) {
    if (typeof core.createRamInstallCheck !== "function") { fail(id, "core has no createRamInstallCheck"); return; }
    var p = primitives();
    if (p === null) { fail(id, "core has no createPurePrimitives"); return; }
    var EV = core.VerifyEvent;
    var pre = fromHex(precursorHex);
    var v = core.createRamInstallCheck({
      primitives: p, roots: fromHex(rootsHex), rootCount: rootCount, rootHssMask: hssMask, rootRetired: retired,
      requiredAlgorithms: required, hss: hss,
      vendorId: fromHex(vendorHex), classId: fromHex(classHex), minSequence: minSeq, minEpoch: minEpoch,
      threshold: threshold, rootThreshold: rootThreshold, now: now, maxChunkSize: maxChunk, maxWindowBits: maxWindowBits,
      logKeys: fromHex(logHex), logKeyCount: logHex.length / 72, witnessKeys: fromHex(witnessHex),
      witnessKeyCount: witnessHex.length / 72, witnessQuorum: quorum
    }, new Uint8Array(imageCapacity), pre, pre.length, fromHex(precursorHeadHex));
    var b = fromHex(bHex);
    var n = b.length;
    var off = 0;
    var k = 0;
    var ev = EV.NEED_MORE;
    var stuck = false;
    var idle = 0;
    while (off < n && ev !== EV.REJECT && !stuck) {
      var left = FRAG[k % FRAG.length];
      k++;
      if (left > n - off) left = n - off;
      while (left > 0 && ev !== EV.REJECT && !stuck) {
        ev = v.push(b, off, left);
        var used = v.consumed;
        if (used === 0) {
          idle++;
          if (idle > 3) stuck = true;
        } else {
          idle = 0;
        }
        off += used;
        left -= used;
      }
    }
    if (stuck) { fail(id, "verifier made no progress"); return; }
    if (ev !== EV.REJECT) ev = v.end();
    var ok = ev === EV.DONE;
    var reason = ok ? 0 : v.reason;
    var chunk = ok ? -1 : v.rejectChunk;
    emit(id, "{\\"valid\\":" + (ok ? "true" : "false") + ",\\"reason\\":\\"" + core.reasonName(reason) +
      "\\",\\"chunk\\":" + chunk + "}");
  }
  return { sha: sha, ed: ed, bundle: bundle };
})(fwsealCore);
`;

function q(s: string): string {
  return '"' + s + '"'; // hex only: nothing to escape
}

/** The driver calls for a batch: one line per operation, ids = positions in `ops`. */
export function driverCalls(ops: { id: number; op: Op }[]): string {
  const lines: string[] = [];
  for (const { id, op } of ops) {
    if (op.op === "sha256") lines.push(`fwsealDriver.sha(${id}, ${q(op.msg)});`);
    else if (op.op === "ed25519_verify") lines.push(`fwsealDriver.ed(${id}, ${q(op.pk)}, ${q(op.msg)}, ${q(op.sig)});`);
    else {
      lines.push(
        `fwsealDriver.bundle(${id}, ${q(op.bundle)}, ${q(op.roots)}, ${op.rootCount}, ${op.rootHssMask}, ${op.rootRetired}, ` +
          `${q(op.vendor)}, ${q(op.cls)}, ${op.minSeq}, ${op.minEpoch}, ${op.threshold}, ${op.rootThreshold}, ` +
          `${op.requiredAlgorithms}, ${op.hss}, ${op.now}, ${op.maxChunkSize}, ` +
          `${q(op.logKeys ?? "")}, ${q(op.witnessKeys ?? "")}, ${op.witnessQuorum ?? 0}, ` +
          `${op.maxWindowBits ?? 0}, ${q(op.precursor ?? "")}, ${q(op.precursorChainHead ?? "")}, ${op.imageCapacity ?? 0});`
      );
    }
  }
  lines.push(`print("${END_TAG}");`);
  return lines.join("\n") + "\n";
}

interface EngineRun {
  lines: string[];
  failure: string | null;
}

/** Run one engine over a complete script; returns its stdout lines. */
async function runEngine(engine: string, script: string, timeoutMs: number): Promise<EngineRun> {
  if (engine === "node") {
    const lines: string[] = [];
    try {
      vm.runInNewContext(script, { print: (s: unknown) => void lines.push(String(s)) }, { timeout: timeoutMs });
      return { lines, failure: null };
    } catch (e) {
      return { lines, failure: "node: " + String((e as Error).message ?? e).split("\n")[0] };
    }
  }
  const argv = engine === "duk" ? ["duk"] : engine.split(" ").filter((s) => s.length > 0);
  const dir = mkdtempSync(path.join(tmpdir(), "fwseal-conf-"));
  const file = path.join(dir, "run.js");
  try {
    writeFileSync(file, script);
    return await new Promise<EngineRun>((resolve) => {
      const child = spawn(argv[0], [...argv.slice(1), file], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let errText = "";
      let sawEnd = false;
      let settled = false;
      const finish = (failure: string | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ lines: out.split(/\r?\n/), failure });
      };
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        finish(`${argv[0]}: timed out after ${timeoutMs} ms`);
      }, timeoutMs);
      child.stdout.setEncoding("utf8");
      child.stderr.setEncoding("utf8");
      child.stdout.on("data", (d: string) => {
        out += d;
        // An engine that keeps running after the script (Espruino's event loop) is stopped here.
        if (!sawEnd && out.includes(END_TAG)) {
          sawEnd = true;
          child.kill("SIGTERM");
        }
      });
      child.stderr.on("data", (d: string) => {
        if (errText.length < 65536) errText += d;
      });
      child.on("error", (e) => finish(`${argv[0]}: ${e.message}`));
      child.on("close", (code, signal) => {
        if (sawEnd || code === 0) return finish(null);
        const msg = (errText || out).trim().split("\n").pop() ?? "";
        finish(`${argv[0]} exited with ${code ?? signal}: ${msg}`);
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function jsonError(msg: string): string {
  return JSON.stringify({ error: msg });
}

/**
 * Run a batch of input lines through the ES5 core on `engine`. Returns exactly one output
 * line (JSON) per non-blank input line, in order. Malformed input, missing files and
 * engine failures become `{"error": "..."}` lines; this function does not throw for them.
 * Throws only if the core file itself is missing.
 */
export async function runConformance(inputLines: string[], opts: ConformanceOptions = {}): Promise<string[]> {
  const engine = opts.engine ?? "node";
  const coreFile = opts.coreFile ?? defaultCoreFile();
  if (!existsSync(coreFile)) throw new Error(`ES5 core ${coreFile} not found: run npm run build:core`);
  const core = readFileSync(coreFile, "utf8");
  const timeoutMs = opts.timeoutMs ?? 600_000;

  const results: (string | null)[] = [];
  const pending: { id: number; op: Op }[] = [];
  for (const raw of inputLines) {
    const line = raw.trim();
    if (line.length === 0) continue;
    const id = results.length;
    try {
      pending.push({ id, op: await parseOp(line) });
      results.push(null);
    } catch (e) {
      results.push(jsonError((e as Error).message));
    }
  }

  // Run; if the engine dies part-way, the first unanswered operation is reported as the
  // failure and the rest are retried in a fresh run.
  let todo = pending;
  while (todo.length > 0) {
    const prelude = engine === "node" || engine === "duk" ? "" : PRINT_FALLBACK;
    const script = prelude + core + "\n" + DRIVER_HEAD + driverCalls(todo);
    const { lines, failure } = await runEngine(engine, script, timeoutMs);
    for (const l of lines) {
      if (!l.startsWith(RESULT_TAG)) continue;
      const rest = l.slice(RESULT_TAG.length);
      const sp = rest.indexOf(" ");
      const id = Number(rest.slice(0, sp));
      if (Number.isInteger(id) && id >= 0 && id < results.length && results[id] === null) results[id] = rest.slice(sp + 1);
    }
    const unanswered = todo.filter((t) => results[t.id] === null);
    if (unanswered.length === 0) break;
    results[unanswered[0].id] = jsonError(failure ?? "engine produced no result");
    todo = unanswered.slice(1);
  }
  return results.map((r) => r ?? jsonError("engine produced no result"));
}
