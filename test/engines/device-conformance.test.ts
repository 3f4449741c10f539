// `fwseal device-conformance` on both engines (Node's vm and real Duktape `duk`): the NIST
// SHA-256 ShortMsg + LongMsg files, the RFC 8032 Ed25519 vectors plus mutations of them,
// streaming bundle verification, and malformed input lines. Each engine runs the ES5 build
// of the device core (build/fwseal-core.js); the answers must be right and identical.
import { describe, it, expect, beforeAll } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, statSync, writeFileSync } from "node:fs";
import { createHash, createPublicKey, verify as nodeVerify } from "node:crypto";
import path from "node:path";
import os from "node:os";
import { makeBundleCases, type BundleCase } from "../helpers/conformance-fixtures.js";
import { readSha256Vectors, readEd25519Vectors } from "../helpers/standard-vectors.js";
import { REPO } from "../helpers/repo.js";
import { buildCoreFiles } from "../helpers/engines.js";
import { createBundleVerifier, VerifyEvent } from "../../device-sim/core/verify/bundle-verifier.js";
import { createPurePrimitives } from "../../device-sim/core/crypto/pure-primitives.js";
import { reasonName } from "../../formats/device-safe/reasons.js";
import { vendorUuid, classUuid } from "../../formats/host-only/uuid.js";


function mtime(f: string): number {
  return existsSync(f) ? statSync(f).mtimeMs : 0;
}

// The CLI runs from dist/: (re)compile when our sources are newer. tsc emits even if some
// other (in-progress) file of the repository has type errors.
function ensureBuilt(): void {
  const distCmd = path.join(REPO, "dist/host/cli/commands/device-conformance.js");
  const srcs = ["host/device/conformance.ts", "host/cli/commands/device-conformance.ts", "host/cli/commands/index.ts", "host/cli/cli.ts"];
  if (srcs.some((s) => mtime(path.join(REPO, s)) > mtime(distCmd))) {
    spawnSync(process.execPath, [path.join(REPO, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], { cwd: REPO, encoding: "utf8" });
  }
  expect(existsSync(distCmd), "tsc did not produce " + distCmd).toBe(true);
  buildCoreFiles();
}

function cli(engine: string, lines: string[], extra: string[] = []): string[] {
  const r = spawnSync(process.execPath, ["bin/fwseal.js", "device-conformance", "--engine", engine, ...extra], {
    cwd: REPO,
    input: lines.join("\n") + "\n",
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split("\n").filter((l) => l.length > 0);
}

const ENGINES = ["node", "duk"];

// The TypeScript verifier, in-process, whole bundle in one push loop: the reference answer.
function reference(c: BundleCase): { valid: boolean; reason: string; chunk: number } {
  const o = c.op as Record<string, unknown>;
  const roots = (Array.isArray(o.root) ? o.root : [o.root]) as string[];
  const vendorId = vendorUuid(String(o.vendor));
  const v = createBundleVerifier({
    primitives: createPurePrimitives(),
    roots: new Uint8Array(Buffer.from(roots.join(""), "hex")),
    rootCount: roots.length,
    rootRetired: (o.retired as number) ?? 0,
    vendorId,
    classId: classUuid(vendorId, String(o.class)),
    minSequence: (o.minSeq as number) ?? 0,
    minEpoch: (o.minEpoch as number) ?? 0,
    threshold: (o.threshold as number) ?? 1,
    now: -1,
    maxChunkSize: (o.maxChunkSize as number) ?? 65536
  });
  let off = 0;
  let ev: number = VerifyEvent.NEED_MORE;
  while (off < c.bytes.length && ev !== VerifyEvent.REJECT) {
    ev = v.push(c.bytes, off, c.bytes.length - off);
    off += v.consumed;
  }
  if (ev !== VerifyEvent.REJECT) ev = v.end();
  const valid = ev === VerifyEvent.DONE;
  return { valid, reason: reasonName(valid ? 0 : v.reason), chunk: valid ? -1 : v.rejectChunk };
}

describe("device-conformance", () => {
  beforeAll(() => {
    expect(existsSync("/usr/bin/duk") || spawnSync("duk", ["-e", "1"]).status === 0, "duk (Debian package duktape) is required").toBe(true);
    ensureBuilt();
  });

  const short = readSha256Vectors("SHA256ShortMsg.rsp");
  const long = readSha256Vectors("SHA256LongMsg.rsp");

  it("parses the NIST files (65 short + 64 long messages)", () => {
    expect(short.length).toBe(65);
    expect(long.length).toBe(64);
  });

  it.each(ENGINES)("SHA-256 NIST ShortMsg + LongMsg on %s", (engine) => {
    const all = [...short, ...long];
    const outs = cli(engine, all.map((v) => JSON.stringify({ op: "sha256", msg: v.msg })));
    expect(outs).toHaveLength(all.length);
    const got = outs.map((l) => (JSON.parse(l) as { digest?: string }).digest);
    expect(got).toEqual(all.map((v) => v.md));
  });

  const ed = readEd25519Vectors();
  // Mutations: every one must be rejected. [label, pk, msg, sig]
  const flip = (hex: string, byte: number, bit: number): string => {
    const b = Buffer.from(hex, "hex");
    b[byte] ^= 1 << bit;
    return b.toString("hex");
  };
  const L = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010"; // L little-endian
  const invalid: [string, string, string, string][] = [];
  for (const v of ed) {
    invalid.push([v.name + " sig R bit", v.publicKey, v.message, flip(v.signature, 3, 1)]);
    invalid.push([v.name + " sig S bit", v.publicKey, v.message, flip(v.signature, 40, 0)]);
    invalid.push([v.name + " pk bit", flip(v.publicKey, 5, 2), v.message, v.signature]);
    invalid.push([v.name + " msg", v.publicKey, v.message.length > 0 ? flip(v.message, 0, 0) : "00", v.signature]);
    invalid.push([v.name + " S=L", v.publicKey, v.message, v.signature.slice(0, 64) + L]);
  }
  // Small-order public key (identity, y = 1) with an "anything" signature, and a wrong-size key.
  invalid.push(["small-order pk", "01" + "00".repeat(31), "", "01" + "00".repeat(63)]);
  invalid.push(["short pk", "00".repeat(31), "", ed[0].signature]);

  it("the mutations are invalid for node:crypto too (where it can parse the key)", () => {
    let checked = 0;
    for (const [, pk, msg, sig] of invalid.slice(0, invalid.length - 2)) {
      let key;
      try {
        key = createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(pk, "hex")]), format: "der", type: "spki" });
      } catch {
        continue;
      }
      expect(nodeVerify(null, Buffer.from(msg, "hex"), key, Buffer.from(sig, "hex"))).toBe(false);
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  });

  it.each(ENGINES)("Ed25519 RFC 8032 vectors and mutations on %s", (engine) => {
    const lines = [
      ...ed.map((v) => JSON.stringify({ op: "ed25519_verify", pk: v.publicKey, msg: v.message, sig: v.signature })),
      ...invalid.map(([, pk, msg, sig]) => JSON.stringify({ op: "ed25519_verify", pk, msg, sig }))
    ];
    const outs = cli(engine, lines).map((l) => JSON.parse(l) as { valid?: boolean; error?: string });
    expect(outs).toHaveLength(lines.length);
    expect(outs.slice(0, ed.length)).toEqual(ed.map(() => ({ valid: true })));
    expect(outs.slice(ed.length)).toEqual(invalid.map(() => ({ valid: false })));
  });

  it.each(ENGINES)("malformed lines give one {error} line each and never stop the batch (%s)", (engine) => {
    const lines = [
      "not json",
      "[1,2]",
      "{}",
      '{"op":"frobnicate"}',
      '{"op":"sha256"}',
      '{"op":"sha256","msg":"abc"}',
      '{"op":"sha256","msg":"zz"}',
      '{"op":"ed25519_verify","pk":"00","msg":""}',
      '{"op":"verify_bundle","bundle":"/nonexistent/fw.bundle","root":"' + "00".repeat(32) + '","vendor":"acme.example","class":"x"}',
      '{"op":"verify_bundle","bundle":"package.json","root":"/nonexistent.pub","vendor":"acme.example","class":"x"}',
      '{"op":"verify_bundle","bundle":"package.json","root":"' + "00".repeat(32) + '","class":"x"}',
      '{"op":"verify_bundle","bundle":"package.json","root":"' + "00".repeat(32) + '","vendor":"acme.example","class":"x","minSeq":-1}',
      "",
      '{"op":"sha256","msg":"616263"}'
    ];
    const outs = cli(engine, lines).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(outs).toHaveLength(lines.length - 1); // the blank line gives nothing
    for (const o of outs.slice(0, -1)) {
      expect(Object.keys(o)).toEqual(["error"]);
      expect(typeof o.error).toBe("string");
    }
    expect(outs[outs.length - 1]).toEqual({ digest: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" });
  });

  let cases: BundleCase[] = [];
  beforeAll(async () => {
    cases = await makeBundleCases();
  });

  it("bundle cases: the TypeScript reference verifier gives the expected reasons", () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
    for (const c of cases) {
      const r = reference(c);
      expect({ name: c.name, valid: r.valid, reason: r.reason }).toEqual({ name: c.name, valid: c.expect.valid, reason: c.expect.reason });
      if (c.expect.chunk !== undefined) expect({ name: c.name, chunk: r.chunk }).toEqual({ name: c.name, chunk: c.expect.chunk });
    }
  });

  it.each(ENGINES)("verify_bundle (streamed in fragments) on %s matches the reference", (engine) => {
    const outs = cli(engine, cases.map((c) => JSON.stringify(c.op))).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(outs).toHaveLength(cases.length);
    for (let i = 0; i < cases.length; i++) {
      expect({ name: cases[i].name, ...outs[i] }).toEqual({ name: cases[i].name, ...reference(cases[i]) });
    }
  });

  it("verify_bundle accepts a PEM root key file", () => {
    const c = cases[0];
    const pemFile = path.join(path.dirname(String(c.op.bundle)), "root.pub");
    const pk = Buffer.from(String(c.op.root), "hex");
    const pem = createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), pk]), format: "der", type: "spki" })
      .export({ type: "spki", format: "pem" }) as string;
    writeFileSync(pemFile, pem);
    const outs = cli("duk", [JSON.stringify({ ...c.op, root: pemFile })]);
    expect(outs.map((l) => JSON.parse(l))).toEqual([{ valid: true, reason: "OK", chunk: -1 }]);
  });

  it("an engine that does not exist is refused before any input is read: exit 3, one line, no output", () => {
    const r = spawnSync(process.execPath, ["bin/fwseal.js", "device-conformance", "--engine", "/nonexistent/engine --flag"], {
      cwd: REPO,
      input: '{"op":"sha256","msg":"00"}\n',
      encoding: "utf8"
    });
    expect(r.status).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("fwseal: error: --engine /nonexistent/engine --flag: no such program (or not executable)\n");
  });

  it("an engine that dies on its input gives {error} lines, not a crash", () => {
    const outs = cli("/bin/false", ['{"op":"sha256","msg":"00"}', '{"op":"sha256","msg":"01"}']);
    expect(outs).toHaveLength(2);
    for (const l of outs) expect(JSON.parse(l)).toHaveProperty("error");
  });

  it("a generic engine command: plain node running the file, and an engine that never exits", () => {
    const lines = [JSON.stringify({ op: "sha256", msg: short[5].msg }), JSON.stringify({ op: "ed25519_verify", pk: ed[0].publicKey, msg: ed[0].message, sig: ed[0].signature })];
    const want = [{ digest: short[5].md }, { valid: true }];
    // node as an external command: no global print, so the driver's console.log fallback is used.
    expect(cli(process.execPath, lines).map((l) => JSON.parse(l))).toEqual(want);
    // Like Espruino: prints via print(), then stays in its event loop; stopped at the end marker.
    const shim = path.join(os.tmpdir(), `fwseal-forever-${process.pid}.cjs`);
    writeFileSync(shim, "const vm = require('vm'); const fs = require('fs');\n" +
      "vm.runInNewContext(fs.readFileSync(process.argv[process.argv.length - 1], 'utf8'), { print: (s) => console.log(String(s)) });\n" +
      "setInterval(() => {}, 1000);\n");
    expect(cli(`${process.execPath} ${shim}`, lines).map((l) => JSON.parse(l))).toEqual(want);
  });

  it("an engine that dies part-way: that operation gets {error}, the rest are retried", () => {
    // This "engine" answers one operation per run, then crashes with exit code 3.
    const shim = path.join(os.tmpdir(), `fwseal-crashy-${process.pid}.cjs`);
    writeFileSync(shim, "const vm = require('vm'); const fs = require('fs'); let n = 0;\n" +
      "vm.runInNewContext(fs.readFileSync(process.argv[process.argv.length - 1], 'utf8'), { print: (s) => {\n" +
      "  if (n++ === 1) { process.stderr.write('boom\\n'); process.exit(3); } console.log(String(s)); } });\n");
    const msgs = ["00", "01", "02", "03"];
    const outs = cli(`${process.execPath} ${shim}`, msgs.map((m) => JSON.stringify({ op: "sha256", msg: m }))).map((l) => JSON.parse(l));
    const sha = (h: string) => createHash("sha256").update(Buffer.from(h, "hex")).digest("hex");
    expect(outs[0]).toEqual({ digest: sha("00") });
    expect(outs[1].error).toMatch(/exited with 3: boom/);
    expect(outs[2]).toEqual({ digest: sha("02") });
    expect(outs[3].error).toMatch(/exited with 3/);
  });

  it("runs the minified core too (--core build/fwseal-core.min.js) on duk", () => {
    const outs = cli("duk", [JSON.stringify({ op: "sha256", msg: short[10].msg }), JSON.stringify({ op: "ed25519_verify", pk: ed[1].publicKey, msg: ed[1].message, sig: ed[1].signature })], ["--core", "build/fwseal-core.min.js"]);
    expect(outs.map((l) => JSON.parse(l))).toEqual([{ digest: short[10].md }, { valid: true }]);
  });
});
