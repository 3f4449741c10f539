// The signing audit trail: every signing operation appends one hash-chained JSON line;
// `audit verify` names the line of any edited, deleted, inserted or reordered record;
// secrets never reach the log.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import * as crypto from "node:crypto";
import { fwseal, fwsealOk, errorLines, tempDir } from "../helpers/cli.js";
import { writeImage } from "../helpers/images.js";
import { verifyAuditLog, recordHash, canonicalJson, appendAuditRecord, type AuditRecord } from "../../host/audit/audit-log.js";
import { loadPrivateKey } from "../../host/keys/keys.js";
import { ExitCode } from "../../host/exit-codes.js";

let dir: string;
let log: string;
let image: string;
const f = (n: string): string => path.join(dir, n);
const PASSPHRASE = "correct horse battery staple 42";
const meta = ["--seq", "5", "--vendor", "acme.example", "--class", "meter", "--fw-version", "3.0.1"];

function lines(p: string): string[] {
  return fs.readFileSync(p, "utf8").split("\n").filter((l) => l.length > 0);
}
function records(p: string): AuditRecord[] {
  return lines(p).map((l) => JSON.parse(l) as AuditRecord);
}
function sha(p: string): string {
  return crypto.createHash("sha256").update(fs.readFileSync(p)).digest("hex");
}

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

beforeAll(async () => {
  dir = tempDir("audit");
  log = f("signing.log");
  image = writeImage(dir, "fw.bin", 30000, 5);
  await fwsealOk(["keygen", "-o", f("root")]);
  await fwsealOk(["keygen", "-o", f("root1")]);
  await fwsealOk(["keygen", "-o", f("rel"), "--encrypt"], { FWSEAL_PASSPHRASE: PASSPHRASE });
  await fwsealOk(["keygen", "-o", f("ext")]);
});

describe("records", () => {
  it("delegate, pack, pack --unsigned, sign, attach-signature, finalize and retire-root each append one record", async () => {
    const A = ["--audit", log, "--operator", "alice"];
    await fwsealOk(["delegate", "--root", f("root.key"), "--pub", f("rel.pub"), "--epoch", "3", "-o", f("rel.cert"), ...A]);
    await fwsealOk(["pack", image, "--key", f("rel.key"), "--cert", f("rel.cert"), ...meta, "-o", f("fw.fwb"), ...A], { FWSEAL_PASSPHRASE: PASSPHRASE });
    // The environment variable works as well as --audit; the operator defaults to $USER.
    const envLog = { FWSEAL_AUDIT_LOG: log, USER: "bob" };
    await fwsealOk(["pack", image, "--unsigned", ...meta, "-o", f("fw.draft")], envLog);
    await fwsealOk(["sign", f("fw.draft"), "--in-place", "--key", f("root.key")], envLog);
    await fwsealOk(["tbs", f("fw.draft"), "--signer-key", f("ext.pub"), "-o", f("ext.tbs")]);
    const extKey = await loadPrivateKey(f("ext.key"));
    fs.writeFileSync(f("ext.sig"), crypto.sign(null, fs.readFileSync(f("ext.tbs")), extKey));
    await fwsealOk(["attach-signature", f("fw.draft"), "--in-place", "--pub", f("ext.pub"), "--sig", f("ext.sig")], envLog);
    await fwsealOk(["finalize", f("fw.draft"), "--root", f("root.pub"), "-o", f("final.fwb")], envLog);
    await fwsealOk(["retire-root", "--key", f("root1.key"), "--slot", "0", "--retire-pub", f("root.pub"), "--vendor", "acme.example", "--counter", "7", "-o", f("retire.cose"), ...A]);

    const recs = records(log);
    expect(recs.map((r) => r.op)).toEqual(["delegate", "pack", "pack", "sign", "attach-signature", "finalize", "retire-root"]);
    expect(recs.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(recs.map((r) => r.operator)).toEqual(["alice", "alice", "bob", "bob", "bob", "bob", "alice"]);
    // Hash chain: each prev is the previous record's hash, each hash covers its record.
    expect(recs[0].prev).toBe("0".repeat(64));
    for (let i = 0; i < recs.length; i++) {
      expect(recs[i].hash).toBe(recordHash(recs[i]));
      if (i > 0) expect(recs[i].prev).toBe(recs[i - 1].hash);
      expect(Date.parse(recs[i].time)).not.toBeNaN();
    }
    // Key IDs, artifact digests and the manifest summary.
    const pack = recs[1];
    const relId = JSON.parse((await fwsealOk(["pubkey", f("rel.pub"), "--json"])).stdout).keyId;
    expect(pack.keyIds).toEqual([relId]);
    expect(pack.keySource).toBe("file");
    expect(pack.artifact).toMatchObject({ file: f("fw.fwb"), sha256: sha(f("fw.fwb")) });
    expect(pack.summary).toMatchObject({ version: "3.0.1", sequence: 5, imageSize: 30000, signatures: 1 });
    expect(recs[4].keySource).toBe("external");
    expect(recs[5].artifact?.sha256).toBe(sha(f("final.fwb")));
    expect(recs[6].summary).toMatchObject({ slot: 0, counter: 7 });
    expect((await fwseal(["audit", "verify", log])).code).toBe(0);
  });

  it("secret material never reaches the log", async () => {
    const text = fs.readFileSync(log, "utf8");
    expect(text).not.toContain(PASSPHRASE);
    expect(text).not.toContain("PRIVATE KEY");
    for (const k of ["root", "root1", "ext"]) {
      const pem = fs.readFileSync(f(`${k}.key`), "utf8");
      const der = Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
      const seed = der.subarray(der.length - 32);
      expect(text).not.toContain(seed.toString("hex"));
      expect(text).not.toContain(seed.toString("base64"));
      expect(text).not.toContain(seed.toString("base64url").slice(0, 20));
    }
  });

  it("audit list: one readable line per record, and --json", async () => {
    const r = await fwsealOk(["audit", "list", log]);
    const out = r.stdout.trim().split("\n");
    expect(out).toHaveLength(7);
    expect(out[1]).toMatch(/^#2\s+\S+Z\s+pack\s+by alice\s+key [0-9a-f]{16}\s+\(file\)\s+version 3\.0\.1 sequence 5/);
    const j = JSON.parse((await fwsealOk(["audit", "list", log, "--json"])).stdout);
    expect(j.records).toHaveLength(7);
    expect(j.records[3]).toMatchObject({ line: 4, op: "sign", seq: 4 });
    // Epoch seconds beside the stored RFC 3339 time, the same instant.
    for (const rec of j.records) expect(rec.timeSeconds).toBe(Math.floor(Date.parse(rec.time) / 1000));
    expect(typeof j.records[0].timeSeconds).toBe("number");
  });
});

describe("tamper detection (audit verify names the line)", () => {
  function variant(name: string, edit: (ls: string[]) => string[]): string {
    const p = f(name);
    fs.writeFileSync(p, edit(lines(log)).join("\n") + "\n");
    return p;
  }

  async function expectBroken(p: string, line: number, what: RegExp): Promise<void> {
    const r = await fwseal(["audit", "verify", p]);
    expect(r.code).toBe(ExitCode.TRUST);
    const errs = errorLines(r);
    expect(errs[errs.length - 1]).toMatch(new RegExp(`^fwseal: error: ${p.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: line ${line}: `));
    expect(errs[errs.length - 1]).toMatch(what);
  }

  it("an edited record (operator changed)", async () => {
    const p = variant("edited.log", (ls) => ls.map((l, i) => (i === 2 ? l.replace('"operator":"bob"', '"operator":"eve"') : l)));
    await expectBroken(p, 3, /edited/);
  });

  it("an edited record whose own hash was recomputed (the next record's prev catches it)", async () => {
    const p = variant("rehashed.log", (ls) =>
      ls.map((l, i) => {
        if (i !== 1) return l;
        const r = JSON.parse(l) as AuditRecord;
        r.summary = { ...r.summary, version: "6.6.6" };
        r.hash = recordHash(r);
        return JSON.stringify(r);
      })
    );
    await expectBroken(p, 3, /prev does not match the hash of line 2/);
  });

  it("a deleted record", async () => {
    const p = variant("deleted.log", (ls) => ls.filter((_, i) => i !== 3));
    await expectBroken(p, 4, /1 record\(s\) deleted before this line/);
  });

  it("reordered records", async () => {
    const p = variant("reordered.log", (ls) => [ls[0], ls[2], ls[1], ...ls.slice(3)]);
    await expectBroken(p, 2, /seq 3 where 2 was expected/);
  });

  it("the first record deleted", async () => {
    const p = variant("headless.log", (ls) => ls.slice(1));
    await expectBroken(p, 1, /seq 2 where 1 was expected/);
  });

  it("records cut from the end are caught against an anchored head hash or count", async () => {
    const full = await verifyAuditLog(log);
    expect(full.ok).toBe(true);
    const p = variant("cut.log", (ls) => ls.slice(0, 5));
    expect((await fwseal(["audit", "verify", p])).code).toBe(0); // undetectable from the file alone
    const r = await fwseal(["audit", "verify", p, "--head", full.head]);
    expect(r.code).toBe(ExitCode.TRUST);
    expect(r.stderr).toMatch(/anchored head hash is not in the log/);
    const c = await fwseal(["audit", "verify", p, "--count", "7"]);
    expect(c.code).toBe(ExitCode.TRUST);
    expect(c.stderr).toMatch(/5 record\(s\), 7 expected/);
  });

  it("a damaged log refuses further signing records, before anything is signed", async () => {
    const p = variant("damaged.log", (ls) => ls.map((l, i) => (i === ls.length - 1 ? l.replace('"counter":7', '"counter":8') : l)));
    const out = f("after-damage.fwb");
    const r = await fwseal(["pack", image, "--key", f("root.key"), ...meta, "-o", out, "--audit", p]);
    expect(r.code).toBe(ExitCode.OUTPUT);
    expect(errorLines(r)).toHaveLength(1);
    expect(r.stderr).toMatch(/last audit record was edited/);
    expect(fs.existsSync(out)).toBe(false);
  });

  it("concurrent appends keep one chain (lock file)", async () => {
    const p = f("concurrent.log");
    await Promise.all(Array.from({ length: 12 }, (_, i) => appendAuditRecord(p, { op: "sign", keyIds: [i.toString(16).padStart(16, "0")] })));
    const v = await verifyAuditLog(p);
    expect(v).toMatchObject({ ok: true, records: 12 });
    expect(fs.existsSync(`${p}.lock`)).toBe(false);
  });

  it("canonical JSON sorts keys and refuses non-integers", () => {
    expect(canonicalJson({ b: 1, a: [true, null, "x"], c: { z: 0, y: 1 } })).toBe('{"a":[true,null,"x"],"b":1,"c":{"y":1,"z":0}}');
    expect(() => canonicalJson({ x: 1.5 })).toThrow();
  });
});

describe("sequence reuse", () => {
  it("pack refuses a sequence the log records for this vendor and class with another image; the same image, another class or --force pass", async () => {
    const seqLog = f("sequences.log");
    const other = writeImage(dir, "fw-other.bin", 30000, 6);
    const pack = (img: string, out: string, extra: string[] = []) =>
      fwseal(["pack", img, "--key", f("root.key"), "--root", f("root.pub"), ...meta, "-o", f(out), "--audit", seqLog, ...extra]);
    expect((await pack(image, "seq-a.fwb")).code).toBe(0);
    const refused = await pack(other, "seq-b.fwb");
    expect(refused.code).toBe(ExitCode.USAGE);
    expect(errorLines(refused)).toHaveLength(1);
    expect(errorLines(refused)[0]).toMatch(/sequence 5 is already used for this vendor and class by another image \(.*sequences\.log record #1, pack\): devices refuse it \(ROLLBACK\)/);
    expect(fs.existsSync(f("seq-b.fwb"))).toBe(false);
    expect(records(seqLog)).toHaveLength(1);
    // The same release re-signed (same chain head) is no reuse.
    expect((await pack(image, "seq-a2.fwb")).code).toBe(0);
    // Another class has its own sequence space.
    const otherClass = ["pack", other, "--key", f("root.key"), "--root", f("root.pub"), "--seq", "5", "--vendor", "acme.example", "--class", "hub", "--fw-version", "3.0.1", "-o", f("seq-hub.fwb"), "--audit", seqLog];
    expect((await fwseal(otherClass)).code).toBe(0);
    // --force packs it anyway (and logs it).
    expect((await pack(other, "seq-b.fwb", ["--force"])).code).toBe(0);
    expect(records(seqLog)).toHaveLength(4);
  });
});
