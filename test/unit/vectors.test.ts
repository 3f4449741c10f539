// Golden vectors (formats/vectors/): regenerating gives the committed bytes, and the host
// verifier (both engines: the core's push() all the way, and the fast chunk path) reaches
// every expected verdict.
import { describe, it, expect } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { generateVectors, type VectorEntry } from "../../dev/vectors-gen.js";
import type { StatementVectorEntry } from "../../dev/root-statement-vectors.js";
import { checkRootStatement } from "../../host/keys/root-retirement.js";
import { statementVectorState } from "../helpers/statement-vectors.js";
import { verifyFile, type VerifyPolicy } from "../../host/bundle/verify.js";
import { loadPrivateKey, loadPublicKey, rawPublicKey } from "../../host/keys/keys.js";
import { Reason, REASON_NAMES } from "../../formats/device-safe/reasons.js";

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../formats/vectors");
const index = JSON.parse(fs.readFileSync(path.join(dir, "index.json"), "utf8")) as {
  now: number;
  keys: Record<string, { seed: string; publicKey: string; keyId: string }>;
  vectors: VectorEntry[];
  rootStatements: StatementVectorEntry[];
};

function policyOf(v: VectorEntry): VerifyPolicy {
  const p = v.policy;
  return {
    roots: p.roots.map((h) => new Uint8Array(Buffer.from(h, "hex"))),
    retiredRoots: p.retiredRoots,
    vendor: p.vendor,
    deviceClass: p.class,
    minSequence: p.minSeq,
    minEpoch: p.minEpoch,
    threshold: p.threshold,
    rootThreshold: p.rootThreshold,
    requiredAlgorithms: p.requiredAlgorithms,
    hss: p.hss ?? false,
    maxWindowBits: p.maxWindowBits ?? 0,
    ...(p.precursor ? { precursor: { image: new Uint8Array(fs.readFileSync(path.join(dir, p.precursor.file))), chainHead: new Uint8Array(Buffer.from(p.precursor.chainHead, "hex")) } } : {}),
    now: p.now < 0 ? null : p.now,
    ...(p.log ? { log: { ...p.log, logKeys: new Uint8Array(Buffer.from(p.log.logKeys, "hex")), witnessKeys: new Uint8Array(Buffer.from(p.log.witnessKeys, "hex")) } } : {})
  };
}

describe("golden vectors", () => {
  it("regenerate byte for byte (deterministic generator == committed files)", async () => {
    const { files } = await generateVectors();
    expect(files.size).toBeGreaterThan(50);
    for (const [rel, bytes] of files) {
      const committed = fs.readFileSync(path.join(dir, rel));
      expect(Buffer.compare(committed, Buffer.from(bytes)), rel).toBe(0);
    }
    // No stale bundle files that the generator no longer produces.
    const fwb = fs.readdirSync(dir).filter((f) => f.endsWith(".fwb"));
    expect(fwb.sort()).toEqual([...files.keys()].filter((f) => f.endsWith(".fwb")).sort());
  });

  it("cover valid bundles and every rejection reason a bundle can trigger", () => {
    const reasons = new Set(index.vectors.map((v) => v.expected.reason));
    expect(index.vectors.filter((v) => v.expected.valid).length).toBeGreaterThanOrEqual(5);
    // STALE_STATEMENT (root statements) and BAD_STATE (caller error) are not bundle verdicts.
    const notBundle = new Set(["OK", "STALE_STATEMENT", "BAD_STATE"]);
    for (const name of REASON_NAMES) if (!notBundle.has(name)) expect(reasons.has(name), name).toBe(true);
  });

  it("test keys match their published seeds and are Ed25519 PKCS#8 / SPKI", async () => {
    for (const [name, k] of Object.entries(index.keys)) {
      const priv = await loadPrivateKey(path.join(dir, "keys", `${name}.key`));
      expect(Buffer.from(rawPublicKey(priv)).toString("hex")).toBe(k.publicKey);
      expect(Buffer.from(await loadPublicKey(path.join(dir, "keys", `${name}.pub`))).toString("hex")).toBe(k.publicKey);
      expect(Buffer.from(priv.export({ format: "der", type: "pkcs8" })).subarray(16).toString("hex")).toBe(k.seed);
    }
  });

  it("every root-statement vector gives its expected verdict and stored state (device core on Node)", () => {
    expect(index.rootStatements.length).toBeGreaterThanOrEqual(10);
    for (const v of index.rootStatements) {
      const bytes = new Uint8Array(fs.readFileSync(path.join(dir, v.file)));
      const { state, storedCounter, retireThreshold } = statementVectorState(v);
      const r = checkRootStatement(bytes, state, storedCounter, retireThreshold);
      const got = { name: v.name, reason: REASON_NAMES[r.reason], retiredMask: r.reason === Reason.OK ? r.retiredMask : -1, counter: r.reason === Reason.OK ? r.counter : -1 };
      expect(got).toEqual({ name: v.name, reason: v.expected.reason, retiredMask: v.expected.retiredMask, counter: v.expected.counter });
      expect(r.reason).toBe(v.expected.reasonCode);
    }
  });

  for (const engine of ["fast", "core"] as const) {
    it(`every vector gives its expected verdict (engine ${engine})`, async () => {
      for (const v of index.vectors) {
        const r = await verifyFile(path.join(dir, v.file), { ...policyOf(v), engine });
        // The vectors index keeps the device core's -1 for "no chunk"; results say null.
        expect({ name: v.name, valid: r.valid, reason: r.reasonName, chunk: r.chunk }).toEqual({
          name: v.name,
          valid: v.expected.valid,
          reason: v.expected.reason,
          chunk: v.expected.chunk >= 0 ? v.expected.chunk : null
        });
        expect(r.reason).toBe(v.expected.reasonCode);
        expect(r.valid).toBe(r.reason === Reason.OK);
      }
    });
  }
});
