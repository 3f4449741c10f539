// Key rotation and revocation, end to end: release keys rotated by delegation with a higher
// epoch, revoked through key-epoch-floor (on the simulated device: the minimum epoch rises
// only when the update is confirmed), root slots retired by signed statements (SPEC §11),
// and replayed statements refused. In-process: the CLI through main(), the simulated device
// through its protocol driver.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { fwseal, fwsealOk, errorLines, tempDir } from "../helpers/cli.js";
import { writeImage } from "../helpers/images.js";
import { InProcHost } from "../helpers/device.js";
import { SimDevice } from "../../device-sim/sim/sim-device.js";
import { Msg } from "../../formats/device-safe/protocol.js";
import { Reason, reasonName } from "../../formats/device-safe/reasons.js";
import { vendorUuid, classUuid } from "../../formats/host-only/uuid.js";
import * as crypto from "node:crypto";
import { CborTag, encodeCanonical, type Cbor } from "../../formats/host-only/cbor-encode.js";
import { loadPublicKey, loadPrivateKey, LocalSigner } from "../../host/keys/keys.js";
import { createRootRetirement, checkRootStatement, decodeRootStatement, rootStatementToBeSigned } from "../../host/keys/root-retirement.js";
import { RootStatementVerifier, type RootTrustState } from "../../device-sim/core/verify/root-statement.js";
import { createNodePrimitives } from "../../host/bundle/node-primitives.js";
import { verifyFile } from "../../host/bundle/verify.js";
import { ExitCode } from "../../host/exit-codes.js";
import { MAX_ROOT_STATEMENT, ROOT_RETIRE_AAD } from "../../formats/device-safe/limits.js";

const VENDOR = "acme.example";
const CLASS = "sensor-v3";
const VID = vendorUuid(VENDOR);
const CID = classUuid(VID, CLASS);

let dir: string;
let image1: string;
let image2: string;
const f = (n: string): string => path.join(dir, n);

function errReason(fr: { type: number; body: Uint8Array }): number {
  expect(fr.type).toBe(Msg.R_ERROR);
  return fr.body[2];
}

function pack(key: string, cert: string | null, seq: number, out: string, img: string, extra: string[] = []): Promise<unknown> {
  // A key without a certificate signs as a root: --root names it as one (pack refuses otherwise).
  const trust = cert ? ["--cert", f(cert)] : ["--root", f(key.replace(/\.key$/, ".pub"))];
  return fwsealOk(["pack", img, "--key", f(key), ...trust, "--seq", String(seq), "--vendor", VENDOR, "--class", CLASS, "--fw-version", `1.0.${seq}`, "-o", f(out), ...extra]);
}

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

beforeAll(async () => {
  dir = tempDir("keys");
  image1 = writeImage(dir, "fw1.bin", 12000, 1);
  image2 = writeImage(dir, "fw2.bin", 9000, 2);
  for (const k of ["root0", "root1", "rel-a", "rel-b"]) await fwsealOk(["keygen", "-o", f(k)]);
  await fwsealOk(["delegate", "--root", f("root0.key"), "--pub", f("rel-a.pub"), "--epoch", "1", "-o", f("rel-a.cert")]);
});

describe("release key rotation and revocation", () => {
  it("rotate: a new release key delegated with a higher epoch signs the next release", async () => {
    await fwsealOk(["delegate", "--root", f("root0.key"), "--pub", f("rel-b.pub"), "--epoch", "2", "--vendor", VENDOR, "--class", CLASS, "-o", f("rel-b.cert")]);
    await pack("rel-a.key", "rel-a.cert", 1, "v1-old.fwb", image1);
    await pack("rel-b.key", "rel-b.cert", 2, "v2-new.fwb", image2, ["--key-epoch-floor", "2"]);
    for (const b of ["v1-old.fwb", "v2-new.fwb"]) {
      const r = await fwseal(["verify", f(b), "--root", f("root0.pub"), "--vendor", VENDOR, "--class", CLASS]);
      expect(r.code).toBe(0);
    }
    const v = await verifyFile(f("v2-new.fwb"), { roots: [await loadPublicKey(f("root0.pub"))] });
    expect(v.manifest?.keyEpochFloor).toBe(2);
  });

  it("revoke: the device raises its minimum epoch on CONFIRM of the floor update, then refuses the old key (REVOKED_KEY)", async () => {
    const root0 = await loadPublicKey(f("root0.pub"));
    const dev = new SimDevice({ roots: [root0], vendorId: VID, classId: CID });
    dev.powerOn();
    const h = new InProcHost(dev);
    const v1 = new Uint8Array(fs.readFileSync(f("v1-old.fwb")));
    const v2 = new Uint8Array(fs.readFileSync(f("v2-new.fwb")));
    expect(h.install(v1).type).toBe(Msg.R_OK);
    expect(h.one(Msg.REBOOT).type).toBe(Msg.R_OK);
    expect(h.one(Msg.CONFIRM).type).toBe(Msg.R_OK);
    expect(dev.app.store.state.minEpoch).toBe(0);
    // The floor update installs; before confirmation the old key still works (a bad image
    // can revert), afterwards the epoch floor is 2.
    expect(h.install(v2).type).toBe(Msg.R_OK);
    expect(h.one(Msg.REBOOT).type).toBe(Msg.R_OK);
    expect(dev.app.store.state.minEpoch).toBe(0);
    expect(h.one(Msg.CONFIRM).type).toBe(Msg.R_OK);
    expect(dev.app.store.state.minEpoch).toBe(2);
    // The old (epoch 1) release key signs a NEWER sequence: refused all the same.
    await pack("rel-a.key", "rel-a.cert", 3, "v3-revoked.fwb", image1);
    const v3 = new Uint8Array(fs.readFileSync(f("v3-revoked.fwb")));
    expect(reasonName(errReason(h.install(v3)))).toBe("REVOKED_KEY");
    // The new key keeps working.
    await pack("rel-b.key", "rel-b.cert", 3, "v3-new.fwb", image1);
    expect(h.install(new Uint8Array(fs.readFileSync(f("v3-new.fwb")))).type).toBe(Msg.R_OK);
  });

  it("attempted use of a revoked key: verify and finalize refuse it with one line and exit 11", async () => {
    const r = await fwseal(["verify", f("v3-revoked.fwb"), "--root", f("root0.pub"), "--min-epoch", "2"]);
    expect(r.code).toBe(ExitCode.TRUST);
    expect(r.stdout + r.stderr).toMatch(/REVOKED_KEY/);
    // An offline ceremony with the revoked key cannot produce a bundle for that policy.
    const draft = f("revoked.draft");
    await fwsealOk(["pack", image2, "--unsigned", "--seq", "4", "--vendor", VENDOR, "--class", CLASS, "--fw-version", "1.0.4", "-o", draft]);
    await fwsealOk(["sign", draft, "--in-place", "--key", f("rel-a.key"), "--cert", f("rel-a.cert")]);
    const fin = await fwseal(["finalize", draft, "--root", f("root0.pub"), "--min-epoch", "2", "-o", f("revoked.fwb")]);
    expect(fin.code).toBe(ExitCode.TRUST);
    expect(errorLines(fin)).toEqual([expect.stringMatching(/^fwseal: error: finalize: the signed bundle does not pass the policy: REVOKED_KEY \(envelope\): certificate of key [0-9a-f]{16} has epoch 1, below the minimum key epoch 2$/)]);
    expect(fs.existsSync(f("revoked.fwb"))).toBe(false);
  });

  it("a release cannot revoke its own signer: pack refuses a key-epoch floor above the certificate's epoch in one line", async () => {
    const out = f("self-revoking.fwb");
    const r = await fwseal(["pack", image1, "--key", f("rel-a.key"), "--cert", f("rel-a.cert"), "--seq", "5", "--vendor", VENDOR, "--class", CLASS,
      "--fw-version", "1.0.5", "--key-epoch-floor", "2", "-o", out]);
    expect(r.code).toBe(ExitCode.USAGE);
    const lines = errorLines(r);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/key-epoch-floor 2 is above the epoch 1 of the certificate of key [0-9a-f]{16}/);
    expect(fs.existsSync(out)).toBe(false);
    // At the certificate's own epoch the floor is allowed.
    await pack("rel-a.key", "rel-a.cert", 5, "floor-at-epoch.fwb", image1, ["--key-epoch-floor", "1"]);
  });
});

describe("root slots: retirement statements", () => {
  let stmt1: string;
  let stmt2: string;

  it("retire-root: slot 1 signs a statement retiring slot 0; --check applies it as the device would", async () => {
    stmt1 = f("retire-0.cose");
    const r = await fwsealOk(["retire-root", "--key", f("root1.key"), "--slot", "0", "--retire-pub", f("root0.pub"), "--counter", "100", "--vendor", VENDOR, "--note", "INC-42", "-o", stmt1, "--json"]);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, slot: 0, counter: 100 });
    const d = decodeRootStatement(new Uint8Array(fs.readFileSync(stmt1)));
    expect(d).toMatchObject({ slot: 0, counter: 100, version: 1, note: "INC-42" });
    expect(d.classId).toBeUndefined(); // every class of the vendor
    const c = await fwsealOk(["retire-root", "--check", stmt1, "--root", f("root0.pub"), "--root", f("root1.pub"), "--vendor", VENDOR, "--class", CLASS, "--json"]);
    expect(JSON.parse(c.stdout)).toMatchObject({ slot: 0, signerSlot: 1, counter: 100, retiredMask: 1 });
  });

  it("after retirement, bundles and certificates of the retired root are refused (REVOKED_ROOT), the other root works", async () => {
    await pack("root0.key", null, 10, "by-root0.fwb", image1);
    await pack("rel-b.key", "rel-b.cert", 10, "by-rel-b.fwb", image1); // certificate issued by root0
    await pack("root1.key", null, 10, "by-root1.fwb", image1);
    const roots = ["--root", f("root0.pub"), "--root", f("root1.pub")];
    for (const b of ["by-root0.fwb", "by-rel-b.fwb", "by-root1.fwb"]) {
      expect((await fwseal(["verify", f(b), ...roots])).code).toBe(0);
    }
    for (const b of ["by-root0.fwb", "by-rel-b.fwb"]) {
      const r = await fwseal(["verify", f(b), ...roots, "--retired-slot", "0"]);
      expect(r.code).toBe(ExitCode.TRUST);
      expect(r.stdout + r.stderr).toMatch(/REVOKED_ROOT/);
    }
    expect((await fwseal(["verify", f("by-root1.fwb"), ...roots, "--retired-slot", "0"])).code).toBe(0);
    // Same verdicts on the simulated device whose slot 0 carries the retired mark.
    const r0 = await loadPublicKey(f("root0.pub"));
    const r1 = await loadPublicKey(f("root1.pub"));
    const dev = new SimDevice({ roots: [r0, r1], rootRetired: 1, vendorId: VID, classId: CID });
    dev.powerOn();
    const h = new InProcHost(dev);
    expect(reasonName(errReason(h.install(new Uint8Array(fs.readFileSync(f("by-root0.fwb"))))))).toBe("REVOKED_ROOT");
    expect(reasonName(errReason(h.install(new Uint8Array(fs.readFileSync(f("by-rel-b.fwb"))))))).toBe("REVOKED_ROOT");
    expect(h.install(new Uint8Array(fs.readFileSync(f("by-root1.fwb")))).type).toBe(Msg.R_OK);
  });

  it("replay of an old statement is STALE_STATEMENT; a newer one applies", async () => {
    const roots = ["--root", f("root0.pub"), "--root", f("root1.pub")];
    // The device already applied counter 100: the same statement again is a replay.
    const again = await fwseal(["retire-root", "--check", stmt1, ...roots, "--retired-slot", "0", "--stored-counter", "100", "--vendor", VENDOR, "--class", CLASS]);
    expect(again.code).toBe(ExitCode.TRUST);
    expect(errorLines(again)).toEqual([`fwseal: error: ${stmt1}: root-retirement statement refused: STALE_STATEMENT`]);
    // An older statement (lower counter) after a newer one: also stale.
    stmt2 = f("retire-0-old.cose");
    await fwsealOk(["retire-root", "--key", f("root1.key"), "--slot", "0", "--retire-pub", f("root0.pub"), "--counter", "50", "--vendor", VENDOR, "--class", CLASS, "-o", stmt2]);
    const old = await fwseal(["retire-root", "--check", stmt2, ...roots, "--stored-counter", "100", "--vendor", VENDOR, "--class", CLASS]);
    expect(old.code).toBe(ExitCode.TRUST);
    expect(old.stderr).toMatch(/STALE_STATEMENT/);
    // Default counter = now (seconds): above any explicit small counter used before.
    const fresh = f("retire-0-fresh.cose");
    await fwsealOk(["retire-root", "--key", f("root1.key"), "--slot", "0", "--retire-pub", f("root0.pub"), "--vendor", VENDOR, "-o", fresh]);
    expect((await fwseal(["retire-root", "--check", fresh, ...roots, "--stored-counter", "100", "--vendor", VENDOR, "--class", CLASS])).code).toBe(0);
  });

  describe("the device-core check, reason by reason", () => {
    let roots: Uint8Array[];
    let signers: LocalSigner[];
    let state: RootTrustState;

    beforeAll(async () => {
      await fwsealOk(["keygen", "-o", f("root2")]);
      roots = [await loadPublicKey(f("root0.pub")), await loadPublicKey(f("root1.pub")), await loadPublicKey(f("root2.pub"))];
      signers = [new LocalSigner(await loadPrivateKey(f("root0.key"))), new LocalSigner(await loadPrivateKey(f("root1.key"))), new LocalSigner(await loadPrivateKey(f("root2.key")))];
      const buf = new Uint8Array(96);
      roots.forEach((r, i) => buf.set(r, 32 * i));
      state = { roots: buf, rootCount: 3, rootRetired: 0, vendorId: VID, classId: CID };
    });

    // A device with three live slots needs both other roots (a majority of the two).
    const make = (signer: number | number[], slot: number, counter: number, extra: { classId?: Uint8Array; vendorId?: Uint8Array; retiredKey?: Uint8Array } = {}) =>
      createRootRetirement((Array.isArray(signer) ? signer : [signer]).map((i) => signers[i]), { slot, counter, vendorId: extra.vendorId ?? VID, classId: extra.classId, retiredKey: extra.retiredKey ?? roots[slot] });

    it("accepts a good statement and reports what to persist", async () => {
      const s = await make([2, 0], 1, 7, { classId: CID });
      expect(checkRootStatement(s, state, 6)).toEqual({ reason: Reason.OK, slot: 1, counter: 7, retiredMask: 2, signerSlot: 0, signerMask: 5, required: 2 });
    });

    it("refuses: self-retirement, a retired signer, an unknown signer, a tampered byte", async () => {
      expect(reasonName(checkRootStatement(await make(1, 0, 9), { ...state, rootRetired: 2 }, 0).reason)).toBe("REVOKED_ROOT");
      // A root cannot retire its own slot (host refuses to make it; hand-build one).
      const kid0 = new Uint8Array(crypto.createHash("sha256").update(roots[0]).digest().subarray(0, 8));
      const prot = encodeCanonical(new Map<number, Cbor>([[1, -19], [4, kid0]]));
      const payload = encodeCanonical(new Map<number, Cbor>([[1, 1], [2, 0], [3, 5], [4, VID], [6, kid0]]));
      const sig = await signers[0].sign(rootStatementToBeSigned(prot, payload));
      const self = encodeCanonical(new CborTag(18, [prot, new Map(), payload, sig]));
      expect(reasonName(checkRootStatement(self, state, 0).reason)).toBe("KEY_NOT_AUTHORIZED");
      await fwsealOk(["keygen", "-o", f("stranger")]);
      const stranger = new LocalSigner(await loadPrivateKey(f("stranger.key")));
      const s3 = await createRootRetirement(stranger, { slot: 0, counter: 9, vendorId: VID, retiredKey: roots[0] });
      expect(reasonName(checkRootStatement(s3, state, 0).reason)).toBe("UNKNOWN_KEY");
      const good = await make([1, 2], 0, 9);
      for (const at of [good.length - 1, good.length - 70, 20]) {
        const t = good.slice();
        t[at] ^= 0x01;
        const reason = checkRootStatement(t, state, 0).reason;
        expect(reason).not.toBe(Reason.OK);
      }
      const t = good.slice();
      t[t.length - 1] ^= 0x01;
      expect(reasonName(checkRootStatement(t, state, 0).reason)).toBe("BAD_SIGNATURE");
    });

    it("refuses the wrong vendor, class, slot/key binding, and stale counters", async () => {
      expect(reasonName(checkRootStatement(await make([1, 2], 0, 9, { vendorId: vendorUuid("other.example") }), state, 0).reason)).toBe("WRONG_VENDOR");
      expect(reasonName(checkRootStatement(await make([1, 2], 0, 9, { classId: classUuid(VID, "hub") }), state, 0).reason)).toBe("WRONG_CLASS");
      expect(reasonName(checkRootStatement(await make([1, 2], 0, 9, { retiredKey: new Uint8Array(32).fill(9) }), state, 0).reason)).toBe("UNKNOWN_KEY");
      const s = await make([1, 2], 0, 9);
      expect(reasonName(checkRootStatement(s, state, 9).reason)).toBe("STALE_STATEMENT");
      expect(reasonName(checkRootStatement(s, state, 10).reason)).toBe("STALE_STATEMENT");
      expect(checkRootStatement(s, state, 8).reason).toBe(Reason.OK);
    });

    it("a statement is never a valid certificate and vice versa (domain-separated by the AAD)", async () => {
      expect(Buffer.from(ROOT_RETIRE_AAD).toString("latin1")).toBe("fwseal/root-retire/v1");
      // A delegation certificate (signed by root0, empty AAD) presented as a statement.
      const cert = new Uint8Array(fs.readFileSync(f("rel-a.cert")));
      expect(checkRootStatement(cert, state, 0).reason).not.toBe(Reason.OK);
      // Garbage and oversize inputs: a reason, never an exception.
      const v = new RootStatementVerifier(createNodePrimitives());
      expect(v.check(new Uint8Array(MAX_ROOT_STATEMENT + 88), MAX_ROOT_STATEMENT + 88, state, 0, 0)).toBe(Reason.TOO_LARGE);
      expect(v.check(new Uint8Array([0xd2, 0x84]), 2, state, 0, 0)).toBe(Reason.MALFORMED);
      expect(v.check(new Uint8Array([0xd8, 0x12]), 2, state, 0, 0)).toBe(Reason.NON_CANONICAL);
    });
  });
});
