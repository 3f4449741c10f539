// The device's signer policy through its update protocol, in-process: a device provisioned
// with a root threshold refuses a bundle whose signers meet the key threshold through one
// root only, and a RESUME costs no signature check unless it names the stored bundle. The
// Ed25519 calls are counted by a wrapper around the device's real primitives.
import { describe, it, expect, beforeAll } from "vitest";
import { createHash } from "node:crypto";
import { Reason } from "../../formats/device-safe/reasons.js";
import { Msg, getU32 } from "../../formats/device-safe/protocol.js";
import { buildBundle } from "../../formats/host-only/bundle-builder.js";
import { createNodePrimitives } from "../../host/bundle/node-primitives.js";
import { InProcHost, simDevice, VENDOR, CLASS } from "../helpers/device.js";
import { makeKeys, delegatedSigner, randomSigner, type TestKeys, type TestKey } from "../helpers/keys.js";
import { countingPrimitives } from "../helpers/verifier-fixtures.js";
import { sampleImage } from "../helpers/images.js";

const IMG = sampleImage(40_000, 3);
const CHUNK = 4096;

let keys: TestKeys;
let otherRoot: ReturnType<typeof randomSigner>;
let oneRoot: Uint8Array; // two keys, both certified by keys.root
let twoRoots: Uint8Array; // two keys, certified by keys.root and by otherRoot

function bundle(signers: TestKey[], sequence: number): Promise<Uint8Array> {
  return buildBundle(IMG, { vendorId: VENDOR, classId: CLASS, sequence, version: `2.0.${sequence}`, chunkSize: CHUNK }, signers);
}

beforeAll(async () => {
  keys = await makeKeys();
  otherRoot = randomSigner();
  oneRoot = await bundle([keys.releaseSigner, await delegatedSigner(keys.rootSigner, 1)], 1);
  twoRoots = await bundle([keys.releaseSigner, await delegatedSigner(otherRoot.signer, 1)], 2);
});

function errReason(f: { type: number; body: Uint8Array }): number {
  expect(f.type).toBe(Msg.R_ERROR);
  return f.body[2];
}

function twoRootDevice(rootThreshold: number) {
  const prim = countingPrimitives(createNodePrimitives());
  const dev = simDevice(keys, { roots: [keys.root.publicKey, otherRoot.keyPair.publicKey], threshold: 2, rootThreshold, primitives: prim });
  dev.powerOn();
  return { dev, prim, h: new InProcHost(dev) };
}

describe("device: root threshold (SPEC §8.1) over the update protocol", () => {
  it("k = 2, r = 2: two keys through one root are refused (THRESHOLD_NOT_MET), through two roots installed", () => {
    const { h, dev } = twoRootDevice(2);
    expect(errReason(h.install(oneRoot))).toBe(Reason.THRESHOLD_NOT_MET);
    expect(dev.app.store.state.slots.every((s) => s.sequence !== 1)).toBe(true);
    expect(h.install(twoRoots).type).toBe(Msg.R_OK);
    expect(h.one(Msg.REBOOT).type).toBe(Msg.R_OK);
    expect(dev.app.bootReason[dev.app.runningSlot]).toBe(Reason.OK);
  });

  it("the same device with r = 1 accepts the one-root bundle (the key threshold alone is met)", () => {
    const { h } = twoRootDevice(1);
    expect(h.install(oneRoot).type).toBe(Msg.R_OK);
  });
});

describe("device: RESUME does not multiply signature work (SPEC §9)", () => {
  it("a RESUME naming another bundle costs no Ed25519 check; the stored bundle's costs one envelope", () => {
    const prim = countingPrimitives(createNodePrimitives());
    const dev = simDevice(keys, { primitives: prim, resumeStride: CHUNK });
    dev.powerOn();
    const h = new InProcHost(dev);
    expect(h.one(Msg.BEGIN, Uint8Array.of(0, 0, 0, 0, 0)).type).toBe(Msg.R_OK);
    const half = Math.floor(twoRoots.length / 2);
    for (let off = 0; off < half; off += 4096) expect(h.data(twoRoots, off, Math.min(4096, half - off)).type).toBe(Msg.R_ACK);
    dev.powerOn(); // power cut: the install stops, the resume point stays in flash
    const envLen = twoRoots.length - IMG.length - 32 * Math.ceil(IMG.length / CHUNK);
    const hash = new Uint8Array(createHash("sha256").update(twoRoots.subarray(0, envLen)).digest());
    const wrong = hash.slice();
    wrong[0] ^= 1;
    prim.ed25519Calls = 0;
    for (let i = 0; i < 20; i++) expect(errReason(h.one(Msg.RESUME, wrong))).toBe(Reason.BAD_STATE);
    expect(prim.ed25519Calls).toBe(0);
    const r = h.one(Msg.RESUME, hash);
    expect(r.type).toBe(Msg.R_OK);
    expect(prim.ed25519Calls).toBe(2); // the one counted (delegated) signer: certificate and signature
    const from = getU32(r.body, 2);
    expect(from).toBeGreaterThan(envLen);
    expect(h.install(twoRoots, 4096, from).type).toBe(Msg.R_OK);
  });
});
