#!/usr/bin/env node
// npm run bench:startup: where the start-up of `fwseal verify` and `fwseal inspect` of a 64 KiB
// bundle, and of `fwseal --version`, goes. Each command runs RUNS times under V8's sampling
// profiler (--cpu-prof, 50 µs); every sample is put in one phase by the frames on its stack:
//   node          no frame of bin/ on the stack: Node's own start and exit
//   load bundle   bin/ (the --version fast path, the loader) reading dist/fwseal-cli.cjs (or,
//                 for inspect and verify, dist/fwseal-cli-check.cjs) and compiling it from its
//                 code cache
//   built-ins     node: modules the bundle requires (crypto, fs/promises, ...)
//   module init   the bundle's own modules evaluating their top level
//   command       main(): yargs building and parsing the command line, then the handler's work
//                 (its async continuations included)
//   gc, other     V8's garbage collector and time V8 attributes to no JavaScript function
// Mean milliseconds per run. Not a test; profiles slow a run down, so the absolute figures are
// larger than `npm run bench`'s wall times: read the shares. FWSEAL_BIN=<bin/fwseal.js of
// another checkout> profiles that one (e.g. to compare with an earlier build).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { randomFillSync } from "node:crypto";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BIN = process.env.FWSEAL_BIN ?? path.join(root, "bin/fwseal.js");
const RUNS = Number(process.env.BENCH_RUNS ?? 10);
/** A frame of a CLI bundle (the whole CLI's, or the checking commands'). */
const BUNDLE_URL = /fwseal-cli(-check)?\.cjs$/;
const PHASES = ["node", "load bundle", "built-ins", "module init", "command", "gc, other"];

function run(args, cwd) {
  const r = spawnSync(process.execPath, args, { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${args.join(" ")}: ${r.stderr}`);
}

/** Mean ms per phase over the profiles in `dir`. */
function phases(dir) {
  const total = Object.fromEntries(PHASES.map((p) => [p, 0]));
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  for (const f of files) {
    const p = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const phaseOf = new Map();
    const classify = (id) => {
      if (phaseOf.has(id)) return phaseOf.get(id);
      const leaf = byId.get(id).callFrame;
      let phase = null;
      if (leaf.functionName === "(garbage collector)" || leaf.functionName === "(program)") phase = "gc, other";
      else if (leaf.functionName === "(idle)") phase = "idle";
      else {
        // Walk to the root; the innermost frame that names a phase decides. A stack with a
        // frame of the bundle but neither main() nor the loader is an async continuation of
        // the command (a promise job runs from the event loop, not from main()).
        let ours = false, sync = false, builtin = false, init = false, command = false;
        for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
          const c = byId.get(cur).callFrame;
          const bundle = c.url.match(BUNDLE_URL) !== null;
          if (bundle || c.url.includes("/bin/")) ours = true;
          if (c.functionName === "loadBundledCli" || c.url.includes("/bin/")) sync = true;
          if (command || init || builtin) continue;
          if (c.functionName === "loadBuiltinModule" || c.functionName === "compileForPublicLoader") builtin = true;
          else if (bundle && (c.functionName === "__init" || /\.m?js$/.test(c.functionName))) init = true;
          else if (bundle && c.functionName === "main") command = true;
        }
        const top = (cur) => byId.get(cur).callFrame;
        let callsTopLevel = false; // the bundle's top level, called by the loader
        for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
          const up = parent.get(cur);
          if (up !== undefined && top(up).functionName === "loadBundledCli" && top(cur).url.match(BUNDLE_URL) !== null) callsTopLevel = true;
        }
        phase = !ours ? "node" : builtin ? "built-ins" : command ? "command" : init || callsTopLevel ? "module init" : sync ? "load bundle" : "command";
      }
      phaseOf.set(id, phase);
      return phase;
    };
    for (let i = 0; i < p.samples.length; i++) {
      const ph = classify(p.samples[i]);
      if (ph !== "idle") total[ph] += (p.timeDeltas[i] ?? 0) / 1000;
    }
  }
  return Object.fromEntries(PHASES.map((ph) => [ph, total[ph] / files.length]));
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-startup-"));
try {
  run([BIN, "keygen", "-o", "k", "--profile", "none"], work);
  fs.writeFileSync(path.join(work, "fw.bin"), randomFillSync(Buffer.alloc(64 * 1024)));
  run([BIN, "pack", "fw.bin", "-k", "k.key", "-r", "k.pub", "--seq", "1", "--vendor", "acme.example", "--class", "bench", "--fw-version", "1.0.0", "-o", "fw.fwb", "--profile", "none"], work);
  const cases = {
    "fwseal --version": ["--version"],
    "fwseal verify 64 KiB": ["verify", "fw.fwb", "-r", "k.pub", "--vendor", "acme.example", "--class", "bench"],
    "fwseal inspect 64 KiB": ["inspect", "fw.fwb"]
  };
  const rows = {};
  for (const [name, args] of Object.entries(cases)) {
    const dir = path.join(work, name.replace(/\W+/g, "-"));
    for (let i = 0; i < RUNS; i++) run(["--cpu-prof", "--cpu-prof-interval", "50", "--cpu-prof-dir", dir, BIN, ...args], work);
    const ph = phases(dir);
    const sum = Object.values(ph).reduce((a, b) => a + b, 0);
    rows[name] = Object.fromEntries([...Object.entries(ph).map(([k, v]) => [k, v.toFixed(1)]), ["total", sum.toFixed(1)]]);
  }
  console.log(`start-up profile of ${BIN} (mean ms per run over ${RUNS} profiled runs; load ${os.loadavg()[0].toFixed(1)}; profiling adds its own overhead)`);
  console.table(rows);
  console.log(JSON.stringify(rows));
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
