// The device core's log-proof check (device-sim/core/verify/log-proof.ts) inside the streaming
// verifier, on bundles logged, cosigned and attached by the host log tools: accepted under a
// log policy, and every way the proof can be missing or wrong rejected with its own reason.
import { describe, expect, it, beforeAll } from "vitest";
import { Reason } from "../../formats/device-safe/reasons.js";
import { attachLogProof, detachLogProof, encodeLogProof, readLogProof, decodeLogEntry, encodeLogEntry, type LogProof } from "../../formats/host-only/log-proof.js";
import { concatBytes } from "../../formats/host-only/cbor-encode.js";
import { decodeItem } from "../../formats/host-only/cbor-decode.js";
import { buildBundle, config, opts, release, release2, root0, run, cert, countingPrimitives } from "../helpers/verifier-fixtures.js";
import { withCert } from "../helpers/keys.js";
import { patternImage } from "../helpers/images.js";
import { logRelease, LOG_KEY, WITNESS_KEYS, type LoggedRelease } from "../helpers/log-fixtures.js";
import { logPolicyFor } from "../../host/log/device-policy.js";
import { formatNote, parseNote } from "../../host/log/note.js";

const IMG = patternImage(1500);
const name = (r: { reason: string }): string => r.reason;

function splitBundle(b: Uint8Array): { envelope: Uint8Array; rest: Uint8Array } {
  const { end } = decodeItem(b, 0, { lenient: true });
  return { envelope: b.subarray(0, end), rest: b.subarray(end) };
}

/** The bundle with its log proof replaced by `edit(proof)`. */
function withEditedProof(b: Uint8Array, edit: (p: LogProof) => LogProof): Uint8Array {
  const { envelope, rest } = splitBundle(b);
  return concatBytes(attachLogProof(envelope, encodeLogProof(edit(readLogProof(envelope)!))), rest);
}

describe("device log-proof check", () => {
  let one: LoggedRelease; // COSE_Sign1, root-signed
  let two: LoggedRelease; // COSE_Sign, two delegated signers
  beforeAll(async () => {
    one = await logRelease(await buildBundle(IMG, opts(), [root0]), { before: 5, after: 6 });
    const signers = [withCert(release, await cert(root0, release)), withCert(release2, await cert(root0, release2))];
    two = await logRelease(await buildBundle(IMG, opts(), signers), { before: 0, after: 0 });
  });

  it("accepts logged bundles (COSE_Sign1 and COSE_Sign) under a log policy, with one leaf or twelve", () => {
    expect(one.pathHashes).toBe(4);
    expect(name(run(one.logged, config({ ...one.policy })))).toBe("OK");
    expect(name(run(two.logged, config({ ...two.policy, threshold: 2 })))).toBe("OK");
    expect(two.pathHashes).toBe(0);
    // Fragmented input: byte by byte through the envelope.
    expect(name(run(one.logged, config({ ...one.policy }), [1, 7, 64, 1000]))).toBe("OK");
  });

  it("without a log policy the proof is ignored, and the bare bundle still verifies", () => {
    expect(name(run(one.logged))).toBe("OK");
    expect(name(run(one.bare))).toBe("OK");
  });

  it("rejects the same bundle without its proof: NOT_LOGGED", () => {
    expect(name(run(one.bare, config({ ...one.policy })))).toBe("NOT_LOGGED");
    // Taking the proof out of the logged bundle gives back the bare bundle, byte for byte.
    const { envelope, rest } = splitBundle(one.logged);
    const stripped = concatBytes(detachLogProof(envelope).envelope, rest);
    expect(Buffer.from(stripped).equals(Buffer.from(one.bare))).toBe(true);
    expect(name(run(stripped, config({ ...one.policy })))).toBe("NOT_LOGGED");
  });

  it("rejects a proof of another release, another signer set, a wrong path, index or checkpoint: BAD_LOG_PROOF", () => {
    const cfg = config({ ...one.policy });
    const entry = (f: (e: ReturnType<typeof decodeLogEntry>) => void) => (p: LogProof) => {
      const e = decodeLogEntry(p.entry);
      f(e);
      return { ...p, entry: encodeLogEntry(e) };
    };
    const cases: [string, Uint8Array][] = [
      ["entry of another manifest", withEditedProof(one.logged, entry((e) => (e.manifestDigest = new Uint8Array(32))))],
      ["entry naming another signer", withEditedProof(one.logged, entry((e) => (e.signerKeyIds = [new Uint8Array(8).fill(1)])))],
      ["entry naming an extra signer", withEditedProof(one.logged, entry((e) => e.signerKeyIds.push(new Uint8Array(8))))],
      ["entry with another time (leaf no longer in the tree)", withEditedProof(one.logged, entry((e) => (e.loggedAt += 1)))],
      ["path hash flipped", withEditedProof(one.logged, (p) => ({ ...p, path: p.path.map((h, i) => (i === 2 ? Uint8Array.from(h, (x, j) => (j === 0 ? x ^ 1 : x)) : h)) }))],
      ["path too short", withEditedProof(one.logged, (p) => ({ ...p, path: p.path.slice(1) }))],
      ["path too long", withEditedProof(one.logged, (p) => ({ ...p, path: [...p.path, new Uint8Array(32)] }))],
      ["wrong leaf index", withEditedProof(one.logged, (p) => ({ ...p, leafIndex: p.leafIndex + 1 }))],
      ["index beyond the tree", withEditedProof(one.logged, (p) => ({ ...p, leafIndex: 1000 }))],
      ["checkpoint size changed", withEditedProof(one.logged, (p) => ({ ...p, checkpoint: new TextEncoder().encode(new TextDecoder().decode(p.checkpoint).replace("\n12\n", "\n13\n")) }))],
      ["checkpoint without the log's signature", withEditedProof(one.logged, (p) => {
        const n = parseNote(p.checkpoint);
        return { ...p, checkpoint: new TextEncoder().encode(formatNote({ text: n.text, signatures: n.signatures.slice(1) })) };
      })],
      ["no blank line", withEditedProof(one.logged, (p) => ({ ...p, checkpoint: new TextEncoder().encode(new TextDecoder().decode(p.checkpoint).replace("\n\n", "\n")) }))]
    ];
    for (const [what, b] of cases) expect(name(run(b, cfg)), what).toBe("BAD_LOG_PROOF");
    // A log the device does not trust: its signature line is ignored, so none verifies.
    const otherLog = logPolicyFor([{ ...LOG_KEY, name: "other.example/log" }], WITNESS_KEYS, 2);
    expect(name(run(one.logged, config({ ...otherLog })))).toBe("BAD_LOG_PROOF");
  });

  it("counts distinct trusted witnesses against the quorum: WITNESS_QUORUM_NOT_MET", async () => {
    expect(name(run(one.logged, config({ ...one.policy, witnessQuorum: 3 })))).toBe("WITNESS_QUORUM_NOT_MET");
    expect(name(run(one.logged, config({ ...one.policy, witnessQuorum: 0 })))).toBe("OK");
    const oneWitness = await logRelease(one.bare, { witnesses: 1 });
    expect(name(run(oneWitness.logged, config({ ...oneWitness.policy, witnessQuorum: 1 })))).toBe("OK");
    expect(name(run(oneWitness.logged, config({ ...oneWitness.policy })))).toBe("WITNESS_QUORUM_NOT_MET");
    // A duplicated cosignature line counts once.
    const dup = withEditedProof(oneWitness.logged, (p) => {
      const n = parseNote(p.checkpoint);
      return { ...p, checkpoint: new TextEncoder().encode(formatNote({ text: n.text, signatures: [...n.signatures, n.signatures[1]] })) };
    });
    expect(name(run(dup, config({ ...oneWitness.policy })))).toBe("WITNESS_QUORUM_NOT_MET");
    // A trusted witness's cosignature that does not verify rejects the note.
    const bad = withEditedProof(one.logged, (p) => {
      const n = parseNote(p.checkpoint);
      const s = n.signatures[2];
      return { ...p, checkpoint: new TextEncoder().encode(formatNote({ text: n.text, signatures: [n.signatures[0], n.signatures[1], { ...s, signature: Uint8Array.from(s.signature, (x, j) => (j === 3 ? x ^ 1 : x)) }] })) };
    });
    expect(name(run(bad, config({ ...one.policy })))).toBe("BAD_LOG_PROOF");
  });

  it("costs 1 + quorum Ed25519 verifications and a bounded number of hashes beyond the bundle's own", () => {
    const counting = () => {
      const c = countingPrimitives();
      const sha = c.sha256;
      const p = Object.assign(c, { sha256Calls: 0 });
      p.sha256 = (b, o, l, out) => {
        p.sha256Calls++;
        sha(b, o, l, out);
      };
      return p;
    };
    const plain = counting();
    run(one.logged, config({ primitives: plain }));
    const logged = counting();
    expect(name(run(one.logged, config({ ...one.policy, primitives: logged })))).toBe("OK");
    expect(logged.ed25519Calls - plain.ed25519Calls).toBe(3);
    expect(logged.sha256Calls - plain.sha256Calls).toBe(2 + one.pathHashes); // manifest digest, leaf, one per path hash
  });
});
