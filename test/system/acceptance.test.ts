// Acceptance: what the README and the host/keys issues promise, checked through the real
// CLI (node bin/fwseal.js, built into dist/) and the built library, the way a firmware
// engineer meets fwseal for the first time. Each block also pins a bug found in QA:
// outputs that overwrote inputs, multi-line usage errors, a C header that could not be
// included twice, `inspect` on a certificate, a device-sim that spun on a bad --state,
// keygen --out <dir>/, verify calling an unknown co-signer a "root key", and
// audit verify printing one line per bad record, a corrupt certificate reported as an
// input-file problem, and --not-after <date> ending at the start of that day.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createHash, randomBytes } from "node:crypto";
import { fileURLToPath, pathToFileURL } from "node:url";
import { REPO } from "../helpers/repo.js";
import { FWSEAL_BIN as BIN, fwsealProcess, startDeviceSimProcess, type CliRun } from "../helpers/cli.js";

let dir = "";

type Run = CliRun;

function fwseal(args: string[], opts: { env?: Record<string, string>; timeout?: number } = {}): Run {
  return fwsealProcess(dir, args, opts);
}

function sha(file: string): string {
  return createHash("sha256").update(fs.readFileSync(path.join(dir, file))).digest("hex");
}

/** One line on stderr, `fwseal: error: ...`, no stack trace. */
function expectOneLineError(r: Run, code: number, pattern: RegExp): void {
  expect(r.code).toBe(code);
  const lines = r.stderr.split("\n").filter((l) => l.length > 0);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr + r.stdout).not.toMatch(/\n\s+at /);
}

function tempLeftovers(): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith(".tmp"));
}

const RELEASE = ["--vendor", "acme.example", "--class", "sensor-v3"];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-accept-"));
  fs.writeFileSync(path.join(dir, "fw.bin"), randomBytes(100_000));
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("README: a release, start to finish", () => {
  it("keygen, delegate --not-after 2027-12-31, pack, inspect, verify, pubkey --format c", () => {
    const k = fwseal(["keygen", "--out", "root"]);
    expect(k.code).toBe(0);
    const id = /key ID ([0-9a-f]{16})/.exec(k.stdout)?.[1];
    const pk = fwseal(["pubkey", "root.pub", "--format", "hex"]).stdout.trim();
    expect(id).toBe(createHash("sha256").update(Buffer.from(pk, "hex")).digest("hex").slice(0, 16));
    expect((fs.statSync(path.join(dir, "root.key")).mode & 0o777).toString(8)).toBe("600");
    expect(fwseal(["keygen", "--out", "release"]).code).toBe(0);
    const d = fwseal(["delegate", "--root", "root.key", "--pub", "release.pub", "--epoch", "1", ...RELEASE, "--not-after", "2027-12-31", "-o", "release.cert"]);
    expect(d.code, d.stderr).toBe(0);
    const p = fwseal(["pack", "fw.bin", "--key", "release.key", "--cert", "release.cert", "--seq", "42", ...RELEASE, "--fw-version", "1.4.2", "-o", "fw.fwb"]);
    expect(p.code, p.stderr).toBe(0);
    const i = fwseal(["inspect", "fw.fwb"]);
    expect(i.code).toBe(0);
    for (const f of ["vendor-id", "class-id", "sequence         42", "version          1.4.2", "image size", "chunks", "chain head", "payload encoding", "certificate issued by root " + id]) {
      expect(i.stdout).toContain(f);
    }
    const v = fwseal(["verify", "fw.fwb", "--root", "root.pub", ...RELEASE, "--min-seq", "41"]);
    expect(v.code, v.stderr).toBe(0);
    // A bare --not-after date covers that whole day (UTC), bounds inclusive.
    expect(i.stdout).toContain("2027-12-31T23:59:59Z");
    expect(fwseal(["verify", "fw.fwb", "--root", "root.pub", "--now", "2027-12-31T18:00:00Z"]).code).toBe(0);
    expect(fwseal(["verify", "fw.fwb", "--root", "root.pub", "--now", "2028-01-01T00:00:00Z"]).code).toBe(11);
    expect(fwseal(["verify", "fw.fwb", "--root", "root.pub", ...RELEASE, "--min-seq", "43"]).code).toBe(12);
    const c = fwseal(["pubkey", "root.pub", "--format", "c"]);
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/static const unsigned char fwseal_root_pubkey\[32\]/);
  });

  it("the C header has an include guard and compiles when included twice", () => {
    fs.writeFileSync(path.join(dir, "root_pubkey.h"), fwseal(["pubkey", "root.pub", "--format", "c"]).stdout);
    expect(fs.readFileSync(path.join(dir, "root_pubkey.h"), "utf8")).toMatch(/#ifndef FWSEAL_ROOT_PUBKEY_H/);
    const gcc = spawnSync("gcc", ["--version"]);
    if (gcc.status !== 0) return; // no C compiler here: the text check above still ran
    fs.writeFileSync(path.join(dir, "use.c"), '#include "root_pubkey.h"\n#include "root_pubkey.h"\nconst unsigned char *k(void) { return fwseal_root_pubkey; }\n');
    const r = spawnSync("gcc", ["-Wall", "-Werror", "-c", "use.c", "-o", "use.o"], { cwd: dir, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
  });

  it("device-sim --pty prints its path; flash --reboot, then flash --confirm without a bundle", async () => {
    const sim = await startDeviceSimProcess(dir, ["--state", "dev", "--root", "root.pub", ...RELEASE]);
    const port = sim.port;
    try {
      expect(path.isAbsolute(port), port).toBe(true); // usable from any directory
      const f = fwseal(["flash", "fw.fwb", "--port", port, "--reboot"]);
      expect(f.code, f.stderr).toBe(0);
      expect(f.stdout).toMatch(/installed 1\.4\.2/);
      const c = fwseal(["flash", "--port", port, "--confirm"]);
      expect(c.code, c.stderr).toBe(0);
      expect(c.stdout).toMatch(/confirmed/);
    } finally {
      await sim.stop();
    }
  });
});

describe("an output that names an input is refused (exit 5), the input untouched", () => {
  it("delegate -o root.key, pubkey -o root.key, pack -o <image>, pack -o <cert>, extract -o <bundle>", () => {
    const before = { key: sha("root.key"), img: sha("fw.bin"), cert: sha("release.cert"), fwb: sha("fw.fwb") };
    const cases: string[][] = [
      ["delegate", "--root", "root.key", "--pub", "release.pub", "-o", "root.key"],
      ["pubkey", "root.key", "--format", "pem", "-o", "root.key"],
      ["pack", "fw.bin", "--key", "release.key", "--cert", "release.cert", "--seq", "1", ...RELEASE, "--fw-version", "1", "-o", "./fw.bin"],
      ["pack", "fw.bin", "--key", "release.key", "--cert", "release.cert", "--seq", "1", ...RELEASE, "--fw-version", "1", "-o", "release.cert"],
      ["extract", "fw.fwb", "--root", "root.pub", "-o", "fw.fwb"]
    ];
    for (const c of cases) expectOneLineError(fwseal(c), 5, /^fwseal: error: .*is also an input/);
    const j = fwseal(["extract", "fw.fwb", "--root", "root.pub", "-o", "fw.fwb", "--json"]);
    expect(JSON.parse(j.stdout).error.exitCode).toBe(5);
    expect({ key: sha("root.key"), img: sha("fw.bin"), cert: sha("release.cert"), fwb: sha("fw.fwb") }).toEqual(before);
    expect(tempLeftovers()).toEqual([]);
  });

  it("the library refuses too", async () => {
    const lib = await import(pathToFileURL(path.join(REPO, "dist/host/index.js")).href);
    const signer = await lib.loadSigner(path.join(dir, "root.key"));
    const img = path.join(dir, "fw.bin");
    await expect(lib.pack({ image: img, output: img, signers: [signer], vendor: "a", deviceClass: "b", sequence: 1, version: "1" })).rejects.toMatchObject({ exitCode: 5 });
  });
});

describe("bad input: one line, the documented exit code", () => {
  it("an invalid choice is one line (exit 2)", () => {
    expectOneLineError(fwseal(["pubkey", "root.pub", "--format", "json"]), 2, /Invalid values: .*Choices/);
  });

  it("pubkey --name must be an identifier (exit 2)", () => {
    expectOneLineError(fwseal(["pubkey", "root.pub", "--format", "c", "--name", "bad name"]), 2, /not a C\/TypeScript identifier/);
  });

  it("inspect on a certificate or a root-retirement statement says so (exit 10)", () => {
    expectOneLineError(fwseal(["inspect", "release.cert"]), 10, /delegation certificate.*not a bundle/);
    const st = fwseal(["retire-root", "--key", "root.key", "--slot", "1", "--retire-pub", "release.pub", "--vendor", "acme.example", "-o", "retire.cose"]);
    expect(st.code, st.stderr).toBe(0);
    expectOneLineError(fwseal(["inspect", "retire.cose"]), 10, /root-retirement statement.*not a bundle/);
  });

  it("a corrupt certificate is a key problem (exit 4), a missing one an input problem (exit 3)", () => {
    fs.writeFileSync(path.join(dir, "junk.cert"), randomBytes(200));
    const base = ["pack", "fw.bin", "--key", "release.key", "--seq", "1", ...RELEASE, "--fw-version", "1", "-o", "junk.fwb"];
    expectOneLineError(fwseal([...base, "--cert", "junk.cert"]), 4, /junk\.cert: not a fwseal delegation certificate/);
    expectOneLineError(fwseal([...base, "--cert", "nope.cert"]), 3, /nope\.cert: no such file/);
    expect(fs.existsSync(path.join(dir, "junk.fwb"))).toBe(false);
  });

  it("audit verify on a garbage file: one line, exit 11", () => {
    fs.writeFileSync(path.join(dir, "garbage.log"), "x\ny\nz\n");
    expectOneLineError(fwseal(["audit", "verify", "garbage.log"]), 11, /line 1: .*and 2 more problem/);
  });

  it("keygen --out <dir>/ is a usage error and writes nothing", () => {
    fs.mkdirSync(path.join(dir, "keys"), { recursive: true });
    expectOneLineError(fwseal(["keygen", "--out", "keys/"]), 2, /give a file prefix/);
    expect(fs.readdirSync(path.join(dir, "keys"))).toEqual([]);
  });

  it("device-sim with an unusable --state fails at once (exit 5) instead of hanging", () => {
    expectOneLineError(fwseal(["device-sim", "--pty", "--state", "fw.bin/x", "--root", "root.pub", ...RELEASE], { timeout: 20_000 }), 5, /--state fw\.bin: not a directory/);
    if (fs.existsSync("/proc/self")) {
      expectOneLineError(fwseal(["device-sim", "--pty", "--state", "/proc/fwseal-x", "--root", "root.pub", ...RELEASE], { timeout: 20_000 }), 5, /--state \/proc\/fwseal-x/);
    }
  });

  it("verify does not call a co-signer outside the given roots a root key", () => {
    expect(fwseal(["keygen", "--out", "other"]).code).toBe(0);
    const p = fwseal(["pack", "fw.bin", "-k", "root.key", "-k", "other.key", "--seq", "3", ...RELEASE, "--fw-version", "1", "-o", "two.fwb", "--root", "root.pub", "--root", "other.pub"]);
    expect(p.code, p.stderr).toBe(0);
    const v = fwseal(["verify", "two.fwb", "--root", "root.pub"]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/signer [0-9a-f]{16}: root key/);
    expect(v.stdout).toMatch(/not one of the given roots: not counted/);
    expect(fwseal(["verify", "two.fwb", "--root", "root.pub", "--threshold", "2"]).code).toBe(11);
  });
});

describe("library API (README)", () => {
  it("exports the names the README imports, plus flash, signer-loader, offline, rotation, audit; packs and verifies", async () => {
    const lib = await import(pathToFileURL(path.join(REPO, "dist/host/index.js")).href);
    for (const n of [
      "loadSigner", "withCertificate", "loadPublicKey", "pack", "verifyFile", "inspect", "keygen", "delegate", "extract",
      "flashDevice", "createDraft", "signDraft", "finalizeDraft", "createRootRetirement", "checkRootStatement",
      "appendAuditRecord", "verifyAuditLog", "listAuditLog"
    ]) {
      expect(typeof lib[n], n).toBe("function");
    }
    const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
    const imp = /import \{([^}]+)\} from "fwseal"/.exec(readme);
    expect(imp).not.toBeNull();
    for (const n of imp![1].split(",").map((s) => s.trim()).filter(Boolean)) expect(typeof lib[n], `README imports ${n}`).toBe("function");

    const signer = lib.withCertificate(await lib.loadSigner(path.join(dir, "release.key")), fs.readFileSync(path.join(dir, "release.cert")));
    const out = path.join(dir, "api.fwb");
    await lib.pack({ image: path.join(dir, "fw.bin"), output: out, signers: [signer], vendor: "acme.example", deviceClass: "sensor-v3", sequence: 42, version: "1.4.2" });
    const policy = { roots: [await lib.loadPublicKey(path.join(dir, "root.pub"))], vendor: "acme.example", deviceClass: "sensor-v3", minSequence: 41 };
    const r = await lib.verifyFile(out, policy);
    expect(r.valid).toBe(true);
    const r2 = await lib.verifyFile(out, { ...policy, minSequence: 43 });
    expect(r2.reasonName).toBe("ROLLBACK");
  });
});

describe("progress bar", () => {
  it("pack shows one on a TTY and nothing on a pipe", () => {
    fs.writeFileSync(path.join(dir, "big.bin"), randomBytes(9 * 1024 * 1024));
    const args = ["pack", "big.bin", "--key", "root.key", "--seq", "1", ...RELEASE, "--fw-version", "1", "-o", "big.fwb", "--root", "root.pub", "--force"];
    const piped = fwseal(args);
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe("");
    const script = spawnSync("script", ["--version"], { encoding: "utf8" });
    if (script.status !== 0) return; // util-linux script(1) absent: the pipe half still ran
    const cmd = [process.execPath, BIN, ...args].map((s) => `'${s}'`).join(" ");
    const tty = spawnSync("script", ["-qec", cmd, "/dev/null"], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    expect(tty.status).toBe(0);
    expect(tty.stdout).toMatch(/packing \[#+/);
  });
});
