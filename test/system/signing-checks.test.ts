// The signing side refuses what no device would accept, and never damages a file silently:
// pack/sign/finalize check certificates against key, vendor, class and time, pack --root
// verifies the finished bundle before writing it, delegate refuses past windows and
// self-delegation and warns on unbounded certificates, every command that writes a file
// refuses to replace it without --force, and repeated or contradictory flags are usage
// errors. Each refusal: one line on stderr, its exit code, no output left, inputs untouched.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import * as crypto from "node:crypto";
import { fwseal, fwsealOk, errorLines, tempDir, type CliRun } from "../helpers/cli.js";
import { writeImage } from "../helpers/images.js";
import { buildCertificate } from "../../formats/host-only/certificate.js";
import { vendorUuid } from "../../formats/host-only/uuid.js";
import { loadPrivateKey, loadPublicKey, LocalSigner } from "../../host/keys/keys.js";
import { ExitCode } from "../../host/exit-codes.js";
import { readDraft } from "../../host/bundle/drafts.js";
import { listAuditLog } from "../../host/audit/audit-log.js";

const VENDOR = "acme.example";
const CLASS = "sensor-v3";
let dir: string;
let image: string;
const f = (n: string): string => path.join(dir, n);
const meta = ["--seq", "5", "--vendor", VENDOR, "--class", CLASS, "--fw-version", "1.0.5", "--chunk-size", "1024"];

function sha(p: string): string {
  return crypto.createHash("sha256").update(fs.readFileSync(p)).digest("hex");
}

/** Every file in the work directory with its hash (outputs left behind, temporaries, changed inputs). */
function snapshot(): Record<string, string> {
  const s: Record<string, string> = {};
  for (const n of fs.readdirSync(dir).sort()) if (fs.statSync(f(n)).isFile()) s[n] = sha(f(n));
  return s;
}

/** A refusal: the exit code, ONE line on stderr matching `re`, nothing on stdout, no file added or changed. */
async function expectRefused(args: string[], code: number, re: RegExp, env: Record<string, string | undefined> = {}): Promise<CliRun> {
  const before = snapshot();
  const r = await fwseal(args, env);
  expect(r.code, r.stderr).toBe(code);
  expect(errorLines(r), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(/^fwseal: error: /);
  expect(r.stderr).toMatch(re);
  expect(r.stdout).toBe("");
  expect(snapshot()).toEqual(before);
  return r;
}

/** A certificate for `pub` by `root` with an arbitrary body (times the CLI would refuse to make). */
async function writeCert(name: string, root: string, pub: string, body: { notBefore?: number; notAfter?: number; vendor?: string }): Promise<void> {
  const signer = new LocalSigner(await loadPrivateKey(f(root)));
  const cert = await buildCertificate(signer, {
    publicKey: await loadPublicKey(f(pub)), epoch: 1, notBefore: body.notBefore, notAfter: body.notAfter,
    vendorId: body.vendor !== undefined ? vendorUuid(body.vendor) : undefined
  });
  fs.writeFileSync(f(name), cert);
}

beforeAll(async () => {
  dir = tempDir("signing-checks");
  image = writeImage(dir, "fw.bin", 5000, 3);
  for (const k of ["root", "root2", "rel"]) await fwsealOk(["keygen", "-o", f(k)]);
  const bounded = ["--vendor", VENDOR, "--class", CLASS, "--not-after", "2099-12-31"];
  await fwsealOk(["delegate", "--root", f("root.key"), "--pub", f("rel.pub"), "--epoch", "1", ...bounded, "-o", f("rel.cert")]);
  await fwsealOk(["delegate", "--root", f("root.key"), "--pub", f("rel.pub"), "--epoch", "1", "--vendor", VENDOR, "--class", "hub", "--not-after", "2099-12-31", "-o", f("rel-hub.cert")]);
  await fwsealOk(["delegate", "--root", f("root.key"), "--pub", f("rel.pub"), "--epoch", "1", "--vendor", "other.example", "--not-after", "2099-12-31", "-o", f("rel-other.cert")]);
  await fwsealOk(["delegate", "--root", f("root.key"), "--pub", f("rel.pub"), "--epoch", "1", ...bounded, "--not-before", "2099-01-01", "-o", f("rel-future.cert")]);
  await writeCert("rel-expired.cert", "root.key", "rel.pub", { notAfter: Math.floor(Date.now() / 1000) - 86400, vendor: VENDOR });
  // The certificate's signature broken: it still parses, only a verifier notices.
  const broken = new Uint8Array(fs.readFileSync(f("rel.cert")));
  broken[broken.length - 1] ^= 1;
  fs.writeFileSync(f("rel-badsig.cert"), broken);
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("pack refuses a bundle no device would accept", () => {
  const pack = (extra: string[], out = "out.fwb") => ["pack", image, ...meta, "-o", f(out), ...extra];

  it("a release key without --cert (it would claim to be a root): UNKNOWN_KEY, exit 11", async () => {
    await expectRefused(pack(["--key", f("rel.key")]), ExitCode.TRUST, /key [0-9a-f]{16} has no certificate.*--cert.*--root.*UNKNOWN_KEY/);
    await expectRefused(pack(["--key", f("rel.key"), "--root", f("root.pub")]), ExitCode.TRUST, /no certificate and is not one of the device roots.*UNKNOWN_KEY/);
  });

  it("a key without --cert is fine when --root names it a root", async () => {
    const r = await fwsealOk(pack(["--key", f("root.key"), "--root", f("root.pub")], "by-root.fwb"));
    expect(r.stderr).toBe("");
    expect((await fwseal(["verify", f("by-root.fwb"), "--root", f("root.pub"), "--vendor", VENDOR, "--class", CLASS])).code).toBe(0);
  });

  it("a certificate for another class or vendor: KEY_NOT_AUTHORIZED, exit 11", async () => {
    await expectRefused(pack(["--key", f("rel.key"), "--cert", f("rel-hub.cert")]), ExitCode.TRUST, /limited to class.*KEY_NOT_AUTHORIZED/);
    await expectRefused(pack(["--key", f("rel.key"), "--cert", f("rel-other.cert")]), ExitCode.TRUST, /limited to vendor.*KEY_NOT_AUTHORIZED/);
  });

  it("an expired or not yet valid certificate: EXPIRED_KEY, exit 11", async () => {
    await expectRefused(pack(["--key", f("rel.key"), "--cert", f("rel-expired.cert")]), ExitCode.TRUST, /expired at .*EXPIRED_KEY/);
    await expectRefused(pack(["--key", f("rel.key"), "--cert", f("rel-future.cert")]), ExitCode.TRUST, /not valid before 2099-01-01.*EXPIRED_KEY/);
  });

  it("a certificate issued by a root the device does not have: UNKNOWN_KEY, exit 11", async () => {
    await expectRefused(pack(["--key", f("rel.key"), "--cert", f("rel.cert"), "--root", f("root2.pub")]), ExitCode.TRUST, /issued by [0-9a-f]{16}, which is not one of the device roots.*UNKNOWN_KEY/);
  });

  it("--root: the finished bundle is verified by the device verifier before it is written", async () => {
    await expectRefused(pack(["--key", f("rel.key"), "--cert", f("rel-badsig.cert"), "--root", f("root.pub")]), ExitCode.TRUST, /no device with the given roots would accept this bundle: BAD_/);
    const ok = await fwsealOk(pack(["--key", f("rel.key"), "--cert", f("rel.cert"), "--root", f("root.pub")], "checked.fwb"));
    expect(ok.stderr).toBe("");
  });

  it("--force writes it anyway, with one warning line naming why", async () => {
    const r = await fwseal(pack(["--key", f("rel.key"), "--cert", f("rel-badsig.cert"), "--root", f("root.pub"), "--force", "--json", "--audit", f("forced.log")], "forced.fwb"));
    expect(r.code, r.stderr).toBe(0);
    expect(errorLines(r)).toHaveLength(1);
    expect(r.stderr).toMatch(/^fwseal: warning: no device with the given roots would accept this bundle: BAD_.*--force/);
    expect(JSON.parse(r.stdout).warnings).toHaveLength(1);
    expect((await fwseal(["verify", f("forced.fwb"), "--root", f("root.pub")])).code).toBe(ExitCode.TRUST);
    // The audit record says the release was written over a refusal.
    const [rec] = await listAuditLog(f("forced.log"));
    expect(rec.summary?.forced).toEqual([expect.stringMatching(/no device with the given roots would accept/)]);
  });

  it("a certificate of a different key is a key problem, exit 4", async () => {
    await expectRefused(pack(["--key", f("root.key"), "--cert", f("rel.cert")]), ExitCode.KEY, /certifies key .*not one of the --key keys/);
  });
});

describe("sign and finalize check the same things", () => {
  it("sign with a certificate for another class is refused (exit 11); --force signs with a warning", async () => {
    const draft = f("d.draft");
    await fwsealOk(["pack", image, "--unsigned", ...meta, "-o", draft]);
    await expectRefused(["sign", draft, "--in-place", "--key", f("rel.key"), "--cert", f("rel-hub.cert")], ExitCode.TRUST, /limited to class.*KEY_NOT_AUTHORIZED/);
    await expectRefused(["sign", draft, "--in-place", "--key", f("rel.key"), "--cert", f("rel-expired.cert")], ExitCode.TRUST, /EXPIRED_KEY/);
    const forced = await fwseal(["sign", draft, "--in-place", "--key", f("rel.key"), "--cert", f("rel-hub.cert"), "--force"]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(/^fwseal: warning: .*KEY_NOT_AUTHORIZED/);
    // finalize refuses the bundle the policy rejects, and writes it only with --force.
    const fin = ["finalize", draft, "--root", f("root.pub"), "-o", f("d.fwb")];
    await expectRefused(fin, ExitCode.TRUST, /does not pass the policy: KEY_NOT_AUTHORIZED/);
    const w = await fwseal([...fin, "--force"]);
    expect(w.code, w.stderr).toBe(0);
    expect(errorLines(w)).toHaveLength(1);
    expect(w.stderr).toMatch(/^fwseal: warning: .*KEY_NOT_AUTHORIZED.*--force/);
    expect(fs.existsSync(f("d.fwb"))).toBe(true);
  });
});

describe("delegate", () => {
  const base = () => ["delegate", "--root", f("root.key"), "--pub", f("rel.pub"), "--vendor", VENDOR, "--class", CLASS];

  it("refuses a --not-after in the past (exit 2)", async () => {
    await expectRefused([...base(), "--not-after", "2020-06-30", "-o", f("past.cert")], ExitCode.USAGE, /not-after 2020-06-30T23:59:59Z is in the past/);
  });

  it("refuses a root delegating to itself (exit 2)", async () => {
    await expectRefused(["delegate", "--root", f("root.key"), "--pub", f("root.pub"), "--not-after", "2099-01-01", "--vendor", VENDOR, "-o", f("self.cert")], ExitCode.USAGE, /a root does not delegate to itself/);
  });

  it("warns on an unbounded certificate: one stderr line; --json keeps stdout JSON and lists warnings", async () => {
    const r = await fwsealOk(["delegate", "--root", f("root.key"), "--pub", f("rel.pub"), "-o", f("open.cert")]);
    expect(errorLines(r)).toEqual([expect.stringMatching(/^fwseal: warning: the certificate never expires \(no --not-after\) and is valid for every vendor \(no --vendor\)/)]);
    const j = await fwsealOk(["delegate", "--root", f("root.key"), "--pub", f("rel.pub"), "-o", f("open2.cert"), "--json"]);
    expect(errorLines(j)).toHaveLength(1);
    expect(JSON.parse(j.stdout).warnings).toEqual([expect.stringMatching(/never expires/)]);
    const bounded = await fwsealOk([...base(), "--not-after", "2099-01-01", "-o", f("bounded.cert"), "--json"]);
    expect(bounded.stderr).toBe("");
    expect(JSON.parse(bounded.stdout).warnings).toEqual([]);
  });
});

describe("no command replaces an existing file without --force", () => {
  // [command writing `target`, the same with --force succeeds]
  const target = (): string => f("existing.out");
  const writers = (): [string, string[]][] => [
    ["delegate", ["delegate", "--root", f("root.key"), "--pub", f("rel.pub"), "--vendor", VENDOR, "--class", CLASS, "--not-after", "2099-01-01", "-o", target()]],
    ["pack", ["pack", image, "--key", f("rel.key"), "--cert", f("rel.cert"), ...meta, "-o", target()]],
    ["pack --unsigned", ["pack", image, "--unsigned", ...meta, "-o", target()]],
    ["pubkey", ["pubkey", f("root.pub"), "-o", target()]],
    ["extract", ["extract", f("by-root.fwb"), "--root", f("root.pub"), "-o", target()]],
    ["tbs", ["tbs", f("plain.draft"), "--signer-key", f("root.pub"), "-o", target()]],
    ["retire-root", ["retire-root", "--key", f("root2.key"), "--slot", "0", "--retire-pub", f("root.pub"), "--vendor", VENDOR, "-o", target()]],
    ["sign -o", ["sign", f("plain.draft"), "--key", f("root.key"), "-o", target()]],
    ["attach-signature -o", ["attach-signature", f("plain.draft"), "--pub", f("root.pub"), "--sig", f("root.sig"), "-o", target()]],
    ["finalize", ["finalize", f("signed.draft"), "--root", f("root.pub"), "-o", target()]]
  ];

  beforeAll(async () => {
    await fwsealOk(["pack", image, "--unsigned", ...meta, "-o", f("plain.draft")]);
    await fwsealOk(["tbs", f("plain.draft"), "--signer-key", f("root.pub"), "-o", f("root.tbs")]);
    const signer = new LocalSigner(await loadPrivateKey(f("root.key")));
    fs.writeFileSync(f("root.sig"), await signer.sign(new Uint8Array(fs.readFileSync(f("root.tbs")))));
    await fwsealOk(["sign", f("plain.draft"), "--key", f("root.key"), "-o", f("signed.draft")]);
  });

  it.each([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])("writer %i: exit 5 naming the file, the file untouched; --force replaces it", async (i) => {
    const [, args] = writers()[i];
    fs.writeFileSync(target(), "precious\n");
    await expectRefused(args, ExitCode.OUTPUT, /existing\.out: already exists \(use --force to overwrite\)/);
    expect(fs.readFileSync(target(), "utf8")).toBe("precious\n");
    const r = await fwseal([...args, "--force"]);
    expect(r.code, `${writers()[i][0]}: ${r.stderr}`).toBe(0);
    expect(fs.readFileSync(target(), "utf8")).not.toBe("precious\n");
    fs.rmSync(target());
  });

  it("sign and attach-signature update their draft in place when asked (--in-place), never otherwise", async () => {
    const d = f("inplace.draft");
    await fwsealOk(["pack", image, "--unsigned", ...meta, "-o", d]);
    await fwsealOk(["sign", d, "--in-place", "--key", f("root.key")]);
    await fwsealOk(["sign", d, "--in-place", "--key", f("rel.key"), "--cert", f("rel.cert")]);
    // -o naming the draft (under any spelling) without --in-place is an output that is an input: refused.
    const r = await fwseal(["sign", d, "--key", f("root2.key"), "-o", `${dir}/./inplace.draft`]);
    expect(r.code).toBe(ExitCode.OUTPUT);
    expect((await readDraft(d)).signatures).toHaveLength(2);
  });
});

describe("repeated single-value flags and contradictory flags are usage errors (exit 2)", () => {
  it.each([
    [["pack", "IMG", "--key", "K", "--cert", "C", ...meta, "--fw-version", "2.0", "-o", "O"], /--fw-version given more than once/],
    [["pack", "IMG", "--key", "K", "--cert", "C", ...meta, "--vendor", "b.example", "-o", "O"], /--vendor given more than once/],
    [["pack", "IMG", "--key", "K", "--cert", "C", ...meta, "-o", "O", "--output", "O2"], /--output given more than once/],
    [["pack", "IMG", "--key", "K", "--cert", "C", ...meta, "--seq", "1", "-o", "O"], /--seq given more than once/],
    [["pack", "IMG", "--key", "K", "--cert", "C", ...meta, "--chunkSize=512", "-o", "O"], /--chunk-size given more than once/],
    [["verify", "B", "--root", "R", "--vendor", VENDOR, "--vendor", "b.example"], /--vendor given more than once/],
    [["delegate", "--root", "RK", "--pub", "P", "--epoch", "1", "--epoch", "2", "-o", "O"], /--epoch given more than once/],
    [["keygen", "--out", "KA", "--out", "KB"], /--output given more than once/],
    [["pubkey", "R", "--format", "hex", "--format", "c"], /--format given more than once/],
    [["retire-root", "--key", "RK", "--slot", "0", "--slot", "1", "--retire-pub", "R", "--vendor", VENDOR, "-o", "O"], /--slot given more than once/],
    [["pack", "IMG", "--key", "K", ...meta, "--threshold", "2", "-o", "O"], /--threshold applies to a draft.*needs --unsigned/],
    [["pack", "IMG", "--key", "K", ...meta, "--allow-signer", "R", "-o", "O"], /--allow-signer applies to a draft.*needs --unsigned/],
    [["pack", "IMG", "--unsigned", ...meta, "--root", "R", "-o", "O"], /--root checks a signed bundle/],
    [["keygen", "--pkcs11", "pkcs11:token=t;object=o", "--encrypt"], /--pkcs11 and --encrypt contradict/],
    [["keygen", "--pkcs11", "pkcs11:token=t;object=o", "--passphrase-file", "P"], /--pkcs11 and --passphrase-file contradict/],
    [["verify", "B", "--root", "R", "--retired-slot", "5"], /--retired-slot 5: the device has 1 root slot/]
  ])("%j", async (args, re) => {
    const files: Record<string, string> = { IMG: image, K: f("rel.key"), C: f("rel.cert"), O: f("rep.fwb"), O2: f("rep2.fwb"), B: f("by-root.fwb"), R: f("root.pub"), RK: f("root.key"), P: f("rel.pub"), KA: f("ka"), KB: f("kb") };
    await expectRefused(args.map((x) => files[x] ?? x), ExitCode.USAGE, re);
  });
});
