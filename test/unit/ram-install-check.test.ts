// The core's RAM install check (device-sim/core/decode/ram-install-check.ts), in process on
// Node: every golden vector gives its expected verdict and chunk; the valid encoded vectors
// decode to the published images; a target too small, a device running nothing, and reuse
// after reset() behave as an installing device does.
import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import path from "node:path";
import { createRamInstallCheck, type RamInstallCheck } from "../../device-sim/core/decode/ram-install-check.js";
import { VerifyEvent, type VerifierConfig } from "../../device-sim/core/verify/bundle-verifier.js";
import { createNodePrimitives } from "../../host/bundle/node-primitives.js";
import { packRoots } from "../../formats/host-only/root-slots.js";
import { parseUuid } from "../../formats/host-only/uuid.js";
import { Limits } from "../../formats/device-safe/limits.js";
import { reasonName } from "../../formats/device-safe/reasons.js";
import type { VectorEntry } from "../../dev/vectors-gen.js";
import { REPO } from "../helpers/repo.js";

const DIR = path.join(REPO, "formats/vectors");
const index = JSON.parse(readFileSync(path.join(DIR, "index.json"), "utf8")) as { vectors: VectorEntry[] };
const vector = (name: string): VectorEntry => index.vectors.find((v) => v.name === name) as VectorEntry;
const read = (rel: string): Uint8Array => new Uint8Array(readFileSync(path.join(DIR, rel)));
const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, "hex"));
const NONE = new Uint8Array(0);

function configOf(v: VectorEntry): VerifierConfig {
  const p = v.policy;
  const roots = p.roots.map(fromHex);
  const packed = packRoots(roots);
  return {
    primitives: createNodePrimitives(), roots: packed.roots, rootCount: roots.length, rootHssMask: packed.rootHssMask,
    requiredAlgorithms: p.requiredAlgorithms ?? 0, hss: p.hss ?? false, rootRetired: p.retiredRoots,
    vendorId: parseUuid(p.vendor), classId: parseUuid(p.class), minSequence: p.minSeq, minEpoch: p.minEpoch,
    threshold: p.threshold, rootThreshold: p.rootThreshold, now: p.now, maxChunkSize: Limits.MAX_CHUNK_SIZE,
    maxWindowBits: p.maxWindowBits ?? 0,
    ...(p.log ? { ...p.log, logKeys: fromHex(p.log.logKeys), witnessKeys: fromHex(p.log.witnessKeys) } : {})
  };
}

/** A check for the vector's device, with a target slot of `slotSize` bytes. */
function checkFor(v: VectorEntry, slotSize = 1 << 16): RamInstallCheck {
  const pre = v.policy.precursor;
  const image = pre ? read(pre.file) : NONE;
  return createRamInstallCheck(configOf(v), new Uint8Array(slotSize), image, image.length, pre ? fromHex(pre.chainHead) : NONE);
}

/** The whole bundle in one push (then end()): verdict, chunk and the chunks released. */
function run(c: RamInstallCheck, bundle: Uint8Array): { reason: string; chunk: number; released: number } {
  let off = 0;
  let ev = VerifyEvent.NEED_MORE;
  let released = 0;
  while (off < bundle.length && ev !== VerifyEvent.REJECT) {
    ev = c.push(bundle, off, bundle.length - off);
    off += c.consumed;
    if (ev === VerifyEvent.CHUNK) released++;
  }
  if (ev !== VerifyEvent.REJECT) ev = c.end();
  const ok = ev === VerifyEvent.DONE;
  return { reason: reasonName(ok ? 0 : c.reason), chunk: ok ? -1 : c.rejectChunk, released };
}

describe("RAM install check (core, on Node)", () => {
  it("every golden vector gives its expected verdict and chunk", () => {
    for (const v of index.vectors) {
      const got = run(checkFor(v), read(v.file));
      expect({ name: v.name, reason: got.reason, chunk: got.chunk }).toEqual({ name: v.name, reason: v.expected.reason, chunk: v.expected.chunk });
    }
  });

  it("decodes the valid compressed and delta vectors to the published images", () => {
    for (const [name, file] of [["valid-compressed", "images/compressible-image.bin"], ["valid-delta", "images/delta-image.bin"]]) {
      const c = checkFor(vector(name));
      expect(run(c, read(`${name}.fwb`)).reason, name).toBe("OK");
      const want = read(file);
      expect(c.encoded).toBe(true);
      expect(c.written, name).toBe(want.length);
      expect(Buffer.compare(Buffer.from(c.image.subarray(0, c.written)), Buffer.from(want)), name).toBe(0);
    }
  });

  it("a raw payload is verified only: nothing is written to the target", () => {
    const c = checkFor(vector("valid-sign1-root"));
    expect(run(c, read("valid-sign1-root.fwb"))).toEqual({ reason: "OK", chunk: -1, released: 5 });
    expect(c.encoded).toBe(false);
    expect(c.written).toBe(0);
  });

  it("an image one byte larger than the target is TOO_LARGE before any chunk", () => {
    const v = vector("valid-compressed");
    const size = read("images/compressible-image.bin").length;
    expect(run(checkFor(v, size - 1), read(v.file))).toEqual({ reason: "TOO_LARGE", chunk: -1, released: 0 });
    expect(run(checkFor(v, size), read(v.file)).reason).toBe("OK");
  });

  it("a delta on a device that runs nothing is WRONG_PRECURSOR", () => {
    const v = vector("valid-delta");
    const c = createRamInstallCheck(configOf(v), new Uint8Array(1 << 16), NONE, 0, NONE);
    expect(run(c, read(v.file))).toEqual({ reason: "WRONG_PRECURSOR", chunk: -1, released: 0 });
  });

  it("reset() makes one check reusable: a rejection leaves no state behind", () => {
    const c = checkFor(vector("valid-compressed"));
    const valid = read("valid-compressed.fwb");
    const first = run(c, valid);
    expect(first.reason).toBe("OK");
    c.reset();
    expect(run(c, read("compressed-corrupt-stream.fwb"))).toEqual({ reason: "BAD_PAYLOAD", chunk: 1, released: 1 });
    c.reset();
    expect(run(c, read("compressed-result-mismatch.fwb"))).toEqual({ reason: "RESULT_MISMATCH", chunk: -1, released: first.released });
    c.reset();
    expect(run(c, valid)).toEqual(first);
  });
});
