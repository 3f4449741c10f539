// The real CLI (node bin/fwseal.js, built into dist/) on real files: keys and OpenSSL
// interop, round trips, every kind of bad input (one line, its exit code, no stack trace,
// no output left behind, inputs untouched), verify exit codes per failure class, --json.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createHash, randomBytes, generateKeyPairSync } from "node:crypto";
import { REPO } from "../helpers/repo.js";
import { FWSEAL_BIN as BIN, fwsealProcess, type CliRun } from "../helpers/cli.js";

const VEC = path.join(REPO, "formats/vectors");
let dir = "";

type Run = CliRun;

function fwseal(args: string[], env: Record<string, string> = {}): Run {
  return fwsealProcess(dir, args, { env });
}

/** fwseal, asynchronously (independent cases run two at a time to save wall time). */
function fwsealAsync(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], {
      cwd: dir,
      env: { ...process.env, FWSEAL_PASSPHRASE: "", FWSEAL_DEBUG: "", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    });
    let stdout = "";
    let stderr = "";
    c.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    c.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    c.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function runAll(list: string[][], parallel = 2): Promise<Run[]> {
  const out: Run[] = new Array(list.length);
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      const i = next++;
      out[i] = await fwsealAsync(list[i]);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return out;
}

function openssl(args: string[]): { code: number; stdout: string } {
  const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
  return { code: r.status ?? -1, stdout: r.stdout };
}

function sha(file: string): string {
  return createHash("sha256").update(fs.readFileSync(path.join(dir, file))).digest("hex");
}

function p(f: string): string {
  return path.join(dir, f);
}

/** A failure: exit code, ONE line on stderr starting "fwseal: ", no stack trace. */
function expectOneLineFailure(r: Run, code: number, pattern?: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^fwseal: /);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).not.toMatch(/Error:|node:internal/);
  if (pattern) expect(lines[0]).toMatch(pattern);
}

/** Files in the work dir (to prove nothing was left behind, temporaries included). */
function listing(): string[] {
  return fs.readdirSync(dir).sort();
}

const VENDOR = "acme.example";
const CLASS = "sensor-v3";
// A key packed without --cert signs as a root: --root names it (its .pub) as one.
const packArgs = (image: string, key: string, out: string, extra: string[] = []) => [
  "pack", image, "--key", key, "--seq", "42", "--vendor", VENDOR, "--class", CLASS, "--fw-version", "1.4.2", ...(extra.includes("--chunk-size") ? [] : ["--chunk-size", "1024"]), "-o", out,
  ...(extra.includes("--cert") ? [] : ["--root", key.replace(/\.key$/, ".pub")]), ...extra
];

function newestSource(d: string): number {
  let m = 0;
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const f = path.join(d, e.name);
    if (e.isDirectory()) m = Math.max(m, newestSource(f));
    else if (e.name.endsWith(".ts")) m = Math.max(m, fs.statSync(f).mtimeMs);
  }
  return m;
}

// The CLI runs from dist/: recompile when a source is newer (tsc emits even if some other,
// in-progress file has type errors).
function ensureBuilt(): void {
  const out = path.join(REPO, "dist/host/cli/cli.js");
  const built = fs.existsSync(out) ? fs.statSync(out).mtimeMs : 0;
  const src = Math.max(...["host", "formats", "device-sim/core"].map((d) => newestSource(path.join(REPO, d))));
  if (src > built) spawnSync(process.execPath, [path.join(REPO, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], { cwd: REPO });
  expect(fs.existsSync(out), "tsc did not produce dist/host/cli/cli.js").toBe(true);
}

beforeAll(() => {
  ensureBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-cli-"));
  fs.writeFileSync(p("fw.bin"), randomBytes(100_000 + 123));
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("fwseal CLI", () => {
  it("keygen writes PKCS#8 (0600) and SPKI PEM, prints the key ID, refuses to overwrite", () => {
    const r = fwseal(["keygen", "--out", "root"]);
    expect(r.code, r.stderr).toBe(0);
    const id = /key ID ([0-9a-f]{16})/.exec(r.stdout)?.[1];
    expect(id).toBeDefined();
    expect(fs.statSync(p("root.key")).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(p("root.key"), "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(fs.readFileSync(p("root.pub"), "utf8")).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    // Key never printed.
    const keyBody = fs.readFileSync(p("root.key"), "utf8").split("\n")[1];
    expect(r.stdout + r.stderr).not.toContain(keyBody);
    // Key ID = first 8 bytes of SHA-256(public key).
    const hexPk = fwseal(["pubkey", "root.pub", "--format", "hex"]).stdout.trim();
    expect(createHash("sha256").update(Buffer.from(hexPk, "hex")).digest("hex").slice(0, 16)).toBe(id);
    // Overwrite refused, original intact.
    const before = sha("root.key");
    expectOneLineFailure(fwseal(["keygen", "--out", "root"]), 5, /already exists/);
    expect(sha("root.key")).toBe(before);
    expect(fwseal(["keygen", "--out", "release"]).code).toBe(0);
  });

  it("interoperates with OpenSSL both ways", () => {
    // Ours is readable by openssl, with the same public key.
    const o = openssl(["pkey", "-in", "root.key", "-pubout"]);
    expect(o.code).toBe(0);
    expect(o.stdout).toBe(fs.readFileSync(p("root.pub"), "utf8"));
    // openssl's key works with --key and as a public key source.
    expect(openssl(["genpkey", "-algorithm", "ed25519", "-out", "ossl.key"]).code).toBe(0);
    openssl(["pkey", "-in", "ossl.key", "-pubout", "-out", "ossl.pub"]);
    const r = fwseal(packArgs("fw.bin", "ossl.key", "ossl.fwb"));
    expect(r.code, r.stderr).toBe(0);
    const v = fwseal(["verify", "ossl.fwb", "--root", "ossl.key", "--vendor", VENDOR, "--class", CLASS]);
    expect(v.code, v.stderr).toBe(0);
    expect(fwseal(["verify", "ossl.fwb", "--root", "ossl.pub"]).code).toBe(0);
  });

  it("encrypted keys: right passphrase works, wrong or missing one is a key error (4)", () => {
    const r = fwseal(["keygen", "--out", "enc", "--encrypt"], { FWSEAL_PASSPHRASE: "correct horse" });
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(p("enc.key"), "utf8")).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    expect(openssl(["pkey", "-in", "enc.key", "-passin", "pass:correct horse", "-noout"]).code).toBe(0);
    expect(fwseal(packArgs("fw.bin", "enc.key", "enc.fwb"), { FWSEAL_PASSPHRASE: "correct horse" }).code).toBe(0);
    fs.writeFileSync(p("pass.txt"), "correct horse\n");
    expect(fwseal(packArgs("fw.bin", "enc.key", "enc2.fwb", ["--passphrase-file", "pass.txt"])).code).toBe(0);
    const before = listing();
    const wrong = fwseal(packArgs("fw.bin", "enc.key", "bad.fwb"), { FWSEAL_PASSPHRASE: "wrong" });
    expectOneLineFailure(wrong, 4, /wrong passphrase/);
    expect(wrong.stderr).not.toContain("wrong\n"); // passphrase never echoed
    expectOneLineFailure(fwseal(packArgs("fw.bin", "enc.key", "bad.fwb")), 4, /FWSEAL_PASSPHRASE/);
    expect(listing()).toEqual(before);
    // An openssl-encrypted key too.
    openssl(["genpkey", "-algorithm", "ed25519", "-aes-256-cbc", "-pass", "pass:pw2", "-out", "ossl-enc.key"]);
    expect(fwseal(["pubkey", "ossl-enc.key"], { FWSEAL_PASSPHRASE: "pw2" }).code).toBe(0);
  });

  it("pack -> inspect -> verify -> extract round trip; outputs parse as JSON", () => {
    fs.writeFileSync(p("notes.txt"), "Fixes the sensor drift.\nSecond line.\n");
    fs.writeFileSync(p("sbom.json"), '{"bomFormat":"CycloneDX"}');
    const d = fwseal(["delegate", "--root", "root.key", "--pub", "release.pub", "--epoch", "3", "--not-after", "2099-01-01", "--vendor", VENDOR, "--class", CLASS, "-o", "release.cert", "--json"]);
    expect(d.code, d.stderr).toBe(0);
    expect(JSON.parse(d.stdout).epoch).toBe(3);
    const pk = fwseal([...packArgs("fw.bin", "release.key", "fw.fwb", ["--cert", "release.cert", "--source-revision", "abc123", "--builder", "ci", "--build-time", "2026-11-25T10:00:00Z", "--sbom", "sbom.json", "--notes", "@notes.txt", "--key-epoch-floor", "3"]), "--json"]);
    expect(pk.code, pk.stderr).toBe(0);
    const packed = JSON.parse(pk.stdout);
    expect(packed.chunkCount).toBe(Math.ceil(100_123 / 1024));
    expect(fs.statSync(p("fw.fwb")).size).toBe(packed.bundleSize);

    const ins = fwseal(["inspect", "fw.fwb", "--json"]);
    expect(ins.code, ins.stderr).toBe(0);
    const info = JSON.parse(ins.stdout);
    expect(info.manifest.sequence).toBe(42);
    expect(info.manifest.version).toBe("1.4.2");
    expect(info.manifest.releaseNotes).toBe("Fixes the sensor drift.\nSecond line.");
    expect(info.manifest.provenance).toEqual({ sourceRevision: "abc123", builder: "ci", buildTime: Date.parse("2026-11-25T10:00:00Z") / 1000, buildTimeUtc: "2026-11-25T10:00:00Z" });
    expect(info.manifest.sbomDigest).toBe(sha("sbom.json"));
    expect(info.manifest.keyEpochFloor).toBe(3);
    expect(info.signers[0].kind).toBe("delegated");
    expect(info.signers[0].certificate.epoch).toBe(3);
    expect(fwseal(["inspect", "fw.fwb"]).stdout).toMatch(/release notes:/);

    const v = fwseal(["verify", "fw.fwb", "--root", "root.pub", "--vendor", VENDOR, "--class", CLASS, "--min-seq", "42", "--min-epoch", "3", "--json"]);
    expect(v.code, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ valid: true, reasonName: "OK", chunk: null, manifest: { sequence: 42 } }); // null: no chunk

    const x = fwseal(["extract", "fw.fwb", "--root", "root.pub", "--vendor", VENDOR, "--class", CLASS, "-o", "out.bin"]);
    expect(x.code, x.stderr).toBe(0);
    expect(sha("out.bin")).toBe(sha("fw.bin"));
    // Two signers (COSE_Sign), 2-of-n.
    const two = fwseal(["pack", "fw.bin", "-k", "root.key", "-k", "release.key", "-c", "release.cert", "--seq", "1", "--vendor", VENDOR, "--class", CLASS, "--fw-version", "2", "-o", "two.fwb", "--root", "root.pub"]);
    expect(two.code, two.stderr).toBe(0);
    expect(fwseal(["verify", "two.fwb", "--root", "root.pub", "--threshold", "2"]).code).toBe(0);
    expectOneLineFailure(fwseal(["verify", "fw.fwb", "--root", "root.pub", "--threshold", "2"]), 11, /THRESHOLD_NOT_MET/);
  });

  it("pubkey exports pem, hex, C, TypeScript and COSE_Key", () => {
    const hex = fwseal(["pubkey", "root.key", "--format", "hex"]).stdout.trim();
    expect(hex).toMatch(/^[0-9a-f]{64}$/);
    const c = fwseal(["pubkey", "root.pub", "--format", "c"]).stdout;
    expect(c).toMatch(/static const unsigned char fwseal_root_pubkey\[32\] = \{/);
    expect(c.match(/0x[0-9a-f]{2}/g)?.join("").replace(/0x/g, "")).toBe(hex);
    expect(fwseal(["pubkey", "root.pub", "--format", "ts"]).stdout).toMatch(/export const FWSEAL_ROOT_PUBKEY = new Uint8Array\(\[/);
    expect(fwseal(["pubkey", "root.pub", "--format", "pem"]).stdout.trim()).toBe(fs.readFileSync(p("root.pub"), "utf8").trim());
    expect(fwseal(["pubkey", "root.pub", "--format", "cose", "-o", "root.cose"]).code).toBe(0);
    const cose = fs.readFileSync(p("root.cose"));
    expect(cose[0]).toBe(0xa5); // map(5)
    expect(cose.subarray(cose.length - 32).toString("hex")).toBe(hex);
    expect(JSON.parse(fwseal(["pubkey", "root.pub", "--json"]).stdout).publicKey).toBe(hex);
  });

  it("every bad input: one line, its exit code, no stack trace, nothing left behind, inputs untouched", async () => {
    fs.writeFileSync(p("corrupt.key"), "-----BEGIN PRIVATE KEY-----\nAAAAnotbase64!!\n-----END PRIVATE KEY-----\n");
    fs.writeFileSync(p("rsa.key"), generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }));
    fs.writeFileSync(p("p256.key"), generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }));
    fs.writeFileSync(p("garbage.fwb"), randomBytes(5000));
    const inputs = ["fw.bin", "root.key", "root.pub", "corrupt.key", "rsa.key", "p256.key", "garbage.fwb", "fw.fwb"];
    const hashes = inputs.map(sha);
    const before = listing();
    const cases: [string[], number, RegExp][] = [
      [packArgs("missing.bin", "root.key", "o1.fwb"), 3, /missing\.bin: no such file/],
      [packArgs("fw.bin", "missing.key", "o1.fwb"), 3, /missing\.key: no such file/],
      [packArgs("fw.bin", "rsa.key", "o1.fwb"), 4, /RSA key.*Ed25519/],
      [packArgs("fw.bin", "p256.key", "o1.fwb"), 4, /ECDSA key \(prime256v1\).*Ed25519/],
      [packArgs("fw.bin", "corrupt.key", "o1.fwb"), 4, /corrupt/],
      [packArgs("fw.bin", "root.pub", "o1.fwb"), 4, /public key/],
      [packArgs("fw.bin", "root.key", "no-such-dir/o1.fwb"), 5, /directory does not exist/],
      [packArgs("fw.bin", "root.key", "o1.fwb", ["--chunk-size", "1000"]), 2, /power of two/],
      [["verify", "garbage.fwb", "--root", "root.pub"], 10, /^fwseal: rejected: MALFORMED \(envelope\): not a well-formed fwseal bundle/],
      [["verify", "missing.fwb", "--root", "root.pub"], 3, /no such file/],
      [["verify", "fw.fwb", "--root", "rsa.key"], 4, /RSA/],
      [["extract", "garbage.fwb", "--root", "root.pub", "-o", "o2.bin"], 10, /MALFORMED/],
      [["extract", "fw.fwb", "--root", "ossl.pub", "-o", "o2.bin"], 11, /BAD_CERTIFICATE/],
      [["inspect", "garbage.fwb"], 10, /cannot decode envelope/],
      [["inspect", "missing.fwb"], 3, /no such file/],
      [["verify", "fw.fwb", "--root", "root.pub", "--bogus"], 2, /Unknown argument: bogus/],
      [["pack", "fw.bin"], 2, /Missing required argument/],
      [["frobnicate"], 2, /Unknown argument: frobnicate/],
      [[], 2, /no command/],
      [["delegate", "--root", "root.key", "--pub", "release.pub", "--class", "x", "-o", "o3.cert"], 2, /--vendor/],
      [["delegate", "--root", "root.key", "--pub", "release.pub", "--not-after", "someday", "-o", "o3.cert"], 2, /not a date/]
    ];
    const runs = await runAll(cases.map((c) => c[0]));
    cases.forEach(([args, code, re], i) => {
      expectOneLineFailure(runs[i], code, re);
      expect(runs[i].stdout, args.join(" ")).toBe("");
    });
    expect(listing()).toEqual(before); // no outputs, no temporaries
    expect(inputs.map(sha)).toEqual(hashes);
    // --json errors are JSON too.
    const j = fwseal(["verify", "missing.fwb", "--root", "root.pub", "--json"]);
    expect(j.code).toBe(3);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, error: { code: "INPUT_MISSING", exitCode: 3 } });
  });

  it("verify: exit code per failure class, one line naming the reason and where", async () => {
    const idx = JSON.parse(fs.readFileSync(path.join(VEC, "index.json"), "utf8"));
    // [vector, exit code, also check --json]
    const want: [string, number, boolean][] = [
      ["valid-sign1-delegated", 0, true],
      ["chunk-data-bitflip", 13, true],
      ["truncated-mid-chunk", 13, false],
      ["bad-signature", 11, false],
      ["cert-revoked-epoch", 11, true],
      ["rollback", 12, true],
      ["wrong-class", 12, false],
      ["noncanonical-int", 10, true],
      ["root-threshold-one-root", 11, false],
      ["root-threshold-two-roots", 0, false]
    ];
    const vecs = want.map(([name]) => idx.vectors.find((x: { name: string }) => x.name === name));
    const argsOf = (v: { file: string; policy: Record<string, never> }) => {
      const pol = v.policy as unknown as { roots: string[]; vendor: string; class: string; minSeq: number; minEpoch: number; threshold: number; rootThreshold?: number; now: number };
      return ["verify", path.join(VEC, v.file), ...pol.roots.flatMap((r) => ["--root", r]), "--vendor", pol.vendor, "--class", pol.class,
        "--min-seq", String(pol.minSeq), "--min-epoch", String(pol.minEpoch), "--threshold", String(pol.threshold),
        "--root-threshold", String(pol.rootThreshold ?? 1), "--now", String(pol.now)];
    };
    const plain = await runAll(vecs.map(argsOf));
    const jsonIdx = want.map((w, i) => (w[2] ? i : -1)).filter((i) => i >= 0);
    const json = await runAll(jsonIdx.map((i) => [...argsOf(vecs[i]), "--json"]));
    want.forEach(([, code], i) => {
      const v = vecs[i];
      if (code === 0) {
        expect(plain[i].code, plain[i].stderr).toBe(0);
        expect(plain[i].stdout).toMatch(/: OK\n/);
        return;
      }
      const where = v.expected.chunk >= 0 ? ` at chunk ${v.expected.chunk}` : " (envelope)";
      // The reason and where, then why in words (rejection-diagnosis.ts).
      expectOneLineFailure(plain[i], code, new RegExp(`^fwseal: rejected: ${v.expected.reason}${where.replace(/[()]/g, "\\$&")}: \\S`));
    });
    jsonIdx.forEach((i, k) => {
      const v = vecs[i];
      expect(json[k].code).toBe(want[i][1]);
      // In documents "no chunk" (the envelope, or valid) is null; the vector index writes -1.
      expect(JSON.parse(json[k].stdout)).toMatchObject({ valid: v.expected.valid, reasonName: v.expected.reason, chunk: v.expected.chunk >= 0 ? v.expected.chunk : null });
    });
  });

  it("--help shows examples and exit codes", async () => {
    const cmds = ["keygen", "pack", "verify", "extract"];
    const runs = await runAll([...cmds.map((c) => [c, "--help"]), ["--help"]]);
    cmds.forEach((cmd, i) => {
      expect(runs[i].code, cmd).toBe(0);
      expect(runs[i].stdout, cmd).toMatch(/Examples:/);
    });
    expect(runs[cmds.length].stdout).toMatch(/Exit codes/);
  });
});
