// Root retirement needs several roots (SPEC §11.3): a statement counts distinct live root
// slots other than the one it retires against a majority of them (or a provisioned higher
// threshold), and one statement cannot exhaust the statement counter. The device core's
// check (RootStatementVerifier) through checkRootStatement, the host's statement building
// (several keys, co-signing at another site), and `fwseal retire-root` with several --key.
import { describe, it, expect, afterAll } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { Reason, reasonName } from "../../formats/device-safe/reasons.js";
import { MAX_ROOT_COUNTER_STEP, Limits } from "../../formats/device-safe/limits.js";
import { encodeSign, encodeProtectedHeader } from "../../formats/host-only/cose.js";
import { keyId } from "../../formats/host-only/keyid.js";
import { encodeRootRetirementPayload, rootStatementSignatureInput, splitRootStatement } from "../../formats/host-only/root-statement.js";
import { checkRootStatement, cosignRootRetirement, createRootRetirement, decodeRootStatement } from "../../host/keys/root-retirement.js";
import { retireThresholdFor, type RootTrustState } from "../../device-sim/core/verify/root-statement.js";
import { privateKeyToPem, publicKeyToPem, type LocalSigner } from "../../host/keys/keys.js";
import { seedKeyPair, seedSigner } from "../helpers/keys.js";
import { VENDOR, CLASS } from "../helpers/device.js";
import { fwseal, fwsealOk, errorLines, tempDir } from "../helpers/cli.js";
import { FwsealError } from "../../host/errors.js";

// Four deterministic roots: slot s holds the key of seed byte 0x40 + s.
const signer = (s: number): LocalSigner => seedSigner(0x40 + s);
const pub = (s: number): Uint8Array => seedKeyPair(0x40 + s).publicKey;

/** A device with `count` root slots, `retired` bits set. */
function device(count: number, retired = 0): RootTrustState {
  const roots = new Uint8Array(32 * count);
  for (let s = 0; s < count; s++) roots.set(pub(s), 32 * s);
  return { roots, rootCount: count, rootRetired: retired, vendorId: VENDOR, classId: CLASS };
}

/** A statement retiring `slot`, signed by the roots of `by` (slot numbers). */
function statement(slot: number, by: number[], counter = 100): Promise<Uint8Array> {
  return createRootRetirement(by.map(signer), { slot, counter, vendorId: VENDOR, retiredKey: pub(slot) });
}

const verdict = (stmt: Uint8Array, st: RootTrustState, stored = 0, threshold = 0): string => reasonName(checkRootStatement(stmt, st, stored, threshold).reason);

describe("retirement threshold (SPEC §11.3)", () => {
  it("is a majority of the other live slots, at least 1, raised (never lowered) by a provisioned value", () => {
    expect([0, 1, 2, 3].map((n) => retireThresholdFor(n, 0))).toEqual([1, 1, 2, 2]);
    expect(retireThresholdFor(3, 3)).toBe(3);
    expect(retireThresholdFor(3, 1)).toBe(2);
  });

  it("one leaked root alone cannot retire another slot of a three-slot device: THRESHOLD_NOT_MET", async () => {
    const st = device(3);
    for (const target of [1, 2]) {
      const r = checkRootStatement(await statement(target, [0]), st, 0);
      expect([reasonName(r.reason), r.required]).toEqual(["THRESHOLD_NOT_MET", 2]);
    }
    // Nor with the largest counter: nothing is applied, so the counter is not exhausted.
    const max = await statement(1, [0], Number.MAX_SAFE_INTEGER);
    expect(verdict(max, st)).toBe("THRESHOLD_NOT_MET");
  });

  it("the two other roots together retire the leaked one; the result names both", async () => {
    const r = checkRootStatement(await statement(0, [2, 1]), device(3), 0);
    expect(r).toEqual({ reason: Reason.OK, slot: 0, counter: 100, retiredMask: 1, signerSlot: 1, signerMask: 6, required: 2 });
    // Four slots: two of the three others suffice.
    expect(verdict(await statement(0, [1, 3]), device(4))).toBe("OK");
    expect(verdict(await statement(0, [3]), device(4))).toBe("THRESHOLD_NOT_MET");
  });

  it("a slot counts once; a signature by the slot retired or by a retired slot never counts", async () => {
    const payload = encodeRootRetirementPayload({ slot: 0, counter: 100, vendorId: VENDOR, retiredKey: pub(0) });
    const sig = async (s: number) => {
      const prot = encodeProtectedHeader({ kid: keyId(pub(s)) });
      return { protected: prot, unprotected: new Map(), signature: await signer(s).sign(rootStatementSignatureInput(prot, payload)) };
    };
    const hand = async (slots: number[]) => encodeSign(new Uint8Array(0), new Map(), payload, await Promise.all(slots.map(sig)));
    const st = device(3);
    expect(verdict(await hand([1, 1]), st)).toBe("THRESHOLD_NOT_MET"); // root 1 twice
    expect(verdict(await hand([0, 1]), st)).toBe("KEY_NOT_AUTHORIZED"); // the retired slot's own key
    expect(verdict(await hand([1, 2]), st)).toBe("OK");
    // Four slots, slot 3 retired earlier: its signature is not counted, the others suffice.
    expect(verdict(await hand([3, 1]), device(4, 8))).toBe("REVOKED_ROOT");
    expect(verdict(await hand([3, 1, 2]), device(4, 8))).toBe("OK");
    // A broken second signature when two are needed.
    const broken = await hand([1, 2]);
    broken[broken.length - 1] ^= 1;
    expect(verdict(broken, st)).toBe("BAD_SIGNATURE");
    // More signatures than root slots: refused before any signature is checked.
    expect(verdict(await hand([1, 2, 1, 2, 1]), st)).toBe("TOO_LARGE");
  });

  it("after one retirement the threshold follows the live slots; a provisioned threshold can only raise it", async () => {
    const st = device(3, 1); // slot 0 retired: slot 1's only other live slot is 2
    expect(verdict(await statement(1, [2]), st)).toBe("OK");
    expect(verdict(await statement(1, [2]), st, 0, 2)).toBe("THRESHOLD_NOT_MET");
    expect(verdict(await statement(1, [0, 2]), st)).toBe("OK"); // the retired root's signature is skipped
    // Two slots: the other root alone (the most a two-slot device can ask for).
    expect(verdict(await statement(0, [1]), device(2))).toBe("OK");
    // The last live slot can never be retired: no other live root can sign.
    expect(verdict(await statement(2, [1]), device(3, 3))).toBe("REVOKED_ROOT");
  });

  it("the counter advances at most MAX_ROOT_COUNTER_STEP per statement; replays and a retired slot are STALE_STATEMENT", async () => {
    expect(MAX_ROOT_COUNTER_STEP).toBe(2 ** 32);
    const st = device(3);
    const at = async (c: number) => statement(0, [1, 2], c);
    expect(verdict(await at(Number.MAX_SAFE_INTEGER), st)).toBe("TOO_LARGE");
    expect(verdict(await at(1000 + 2 ** 32 + 1), st, 1000)).toBe("TOO_LARGE");
    expect(verdict(await at(1000 + 2 ** 32), st, 1000)).toBe("OK");
    // The tool's default counter (now, in seconds) applies to a fresh device.
    expect(verdict(await at(Math.floor(Date.now() / 1000)), st, 0)).toBe("OK");
    expect(verdict(await at(1000), st, 1000)).toBe("STALE_STATEMENT");
    // Slot 0 already retired (burned in, or by an earlier statement): nothing left to apply.
    expect(verdict(await statement(0, [1, 2], 2000), device(3, 1), 1000)).toBe("STALE_STATEMENT");
    // A device accepts at most rootCount - 1 statements, so its counter stays far below 2^53.
    expect((Limits.MAX_ROOT_SLOTS - 1) * MAX_ROOT_COUNTER_STEP).toBeLessThan(Number.MAX_SAFE_INTEGER);
  });

  it("a COSE_Sign1 statement (the single-signature form) still counts as one signature", async () => {
    const { encodeRootStatement, rootStatementToBeSigned } = await import("../../formats/host-only/root-statement.js");
    const payload = encodeRootRetirementPayload({ slot: 0, counter: 5, vendorId: VENDOR, retiredKey: pub(0) });
    const prot = encodeProtectedHeader({ kid: keyId(pub(1)) });
    const s1 = encodeRootStatement(prot, payload, await signer(1).sign(rootStatementToBeSigned(prot, payload)));
    expect(verdict(s1, device(2))).toBe("OK");
    expect(verdict(s1, device(3))).toBe("THRESHOLD_NOT_MET");
  });
});

describe("building statements with several roots", () => {
  it("co-signing at another site gives the same bytes as signing together, in any order", async () => {
    const together = await statement(0, [1, 2]);
    const a = await cosignRootRetirement(await statement(0, [2]), signer(1));
    const b = await cosignRootRetirement(await statement(0, [1]), signer(2));
    expect(Buffer.from(a).equals(Buffer.from(together))).toBe(true);
    expect(Buffer.from(b).equals(Buffer.from(together))).toBe(true);
    expect(decodeRootStatement(together).signerKeyIds.sort()).toEqual([1, 2].map((s) => Buffer.from(keyId(pub(s))).toString("hex")).sort());
    expect(splitRootStatement(together).sign).toBe(true);
  });

  it("refuses a signer that is the retired key, the same key twice, and more signatures than slots", async () => {
    const usage = async (p: Promise<unknown>) => {
      const e = await p.then(() => null, (x: unknown) => x);
      expect(e).toBeInstanceOf(FwsealError);
      return (e as FwsealError).message;
    };
    expect(await usage(statement(0, [0, 1]))).toMatch(/cannot retire itself/);
    expect(await usage(cosignRootRetirement(await statement(0, [1]), signer(0)))).toMatch(/cannot retire itself/);
    expect(await usage(cosignRootRetirement(await statement(0, [1]), signer(1)))).toMatch(/already signed by key/);
    expect(await usage(statement(0, [1, 1]))).toMatch(/the same root key signed twice/);
  });
});

describe("fwseal retire-root with several roots", () => {
  const dir = tempDir("fwseal-retire-threshold-");
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const f = (n: string): string => path.join(dir, n);
  const roots = (n: number) => [0, 1, 2].slice(0, n).flatMap((s) => ["--root", f(`r${s}.pub`)]);

  it("--key twice makes a statement three-slot devices accept; one --key is refused THRESHOLD_NOT_MET; --cosign adds the second", async () => {
    for (let s = 0; s < 3; s++) {
      fs.writeFileSync(f(`r${s}.key`), privateKeyToPem(seedKeyPair(0x40 + s).privateKey));
      fs.writeFileSync(f(`r${s}.pub`), publicKeyToPem(pub(s)));
    }
    const common = ["--slot", "0", "--retire-pub", f("r0.pub"), "--counter", "100", "--vendor", "acme.example"];
    const check = ["--vendor", "acme.example", "--class", "sensor-v3"];
    const both = await fwsealOk(["retire-root", "--key", f("r1.key"), "--key", f("r2.key"), ...common, "-o", f("both.cose"), "--json"]);
    expect(JSON.parse(both.stdout).signerKeyIds).toHaveLength(2);
    const ok = await fwsealOk(["retire-root", "--check", f("both.cose"), ...roots(3), ...check, "--json"]);
    expect(JSON.parse(ok.stdout)).toMatchObject({ slot: 0, signerSlots: [1, 2], required: 2, retiredMask: 1, counter: 100 });

    await fwsealOk(["retire-root", "--key", f("r1.key"), ...common, "-o", f("one.cose")]);
    const one = await fwseal(["retire-root", "--check", f("one.cose"), ...roots(3), ...check]);
    expect(one.code).not.toBe(0);
    expect(errorLines(one)).toEqual([`fwseal: error: ${f("one.cose")}: root-retirement statement refused (needs 2 signatures of other live root slots): THRESHOLD_NOT_MET`]);
    // The same single-root statement is enough for a two-slot device.
    expect((await fwseal(["retire-root", "--check", f("one.cose"), ...roots(2), ...check])).code).toBe(0);
    // ... unless that device was provisioned with a higher threshold.
    expect((await fwseal(["retire-root", "--check", f("one.cose"), ...roots(2), ...check, "--retire-threshold", "2"])).code).not.toBe(0);

    await fwsealOk(["retire-root", "--cosign", f("one.cose"), "--key", f("r2.key"), "-o", f("cosigned.cose"), "--vendor", "acme.example"]);
    expect(fs.readFileSync(f("cosigned.cose")).equals(fs.readFileSync(f("both.cose")))).toBe(true);
    expect((await fwseal(["retire-root", "--check", f("cosigned.cose"), ...roots(3), ...check])).code).toBe(0);
  });
});
