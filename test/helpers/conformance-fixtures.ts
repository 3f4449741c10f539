// Bundles for the engine conformance tests (device-conformance, core-es5-duk, verifier-differential):
// built with the real host builder (formats/), written to a temp dir, each with the
// verify_bundle line for `fwseal device-conformance` and the expected answer.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildBundle, buildCertificate, vendorUuid, classUuid } from "../../formats/index.js";
import { seedSigner } from "./keys.js";
import { rampImage } from "./images.js";
import { hex } from "./engines.js";

/** Size of the image in every conformance bundle (rampImage), in 5 chunks of 1024. */
export const CONFORMANCE_IMAGE_SIZE = 5000;

export interface BundleCase {
  name: string;
  /** The verify_bundle input line (object form). */
  op: Record<string, unknown>;
  /** chunk undefined: not fixed by the spec (compared with the TS reference only). */
  expect: { valid: boolean; reason: string; chunk?: number };
  /** Bundle bytes (for direct runners). */
  bytes: Uint8Array;
}

/** The bundles, each with its device-conformance input line and expected verdict. */
export async function makeBundleCases(): Promise<BundleCase[]> {
  const dir = mkdtempSync(path.join(tmpdir(), "fwseal-conf-bundles-"));
  const VENDOR = "acme.example";
  const CLASS = "sensor-v3";
  const vendorId = vendorUuid(VENDOR);
  const classId = classUuid(vendorId, CLASS);
  const root = seedSigner(1);
  const otherRoot = seedSigner(2);
  const image = rampImage(CONFORMANCE_IMAGE_SIZE);
  const opts = { vendorId, classId, sequence: 5, version: "1.2.3", chunkSize: 1024 };
  // 5000 bytes / 1024 = 5 chunks; the last holds 904 bytes.
  const good = await buildBundle(image, opts, [root]);

  // A release key delegated by the root at epoch 2.
  const release0 = seedSigner(3);
  const cert = await buildCertificate(root, { publicKey: release0.publicKey, epoch: 2 });
  const release = seedSigner(3, cert);
  const delegated = await buildBundle(image, opts, [release]);
  // Two root-signed signers for a 2-of-n policy.
  const twoRoots = await buildBundle(image, { ...opts, envelope: { forceSign: true } }, [root, otherRoot]);

  const cases: BundleCase[] = [];
  let n = 0;
  const add = (name: string, bytes: Uint8Array, expect: BundleCase["expect"], extra: Record<string, unknown> = {}) => {
    const file = path.join(dir, `b${n++}.bundle`);
    writeFileSync(file, bytes);
    cases.push({ name, bytes, expect, op: { op: "verify_bundle", bundle: file, root: hex(root.publicKey), vendor: VENDOR, class: CLASS, minSeq: 0, ...extra } });
  };
  const ok = { valid: true, reason: "OK", chunk: -1 };
  const rej = (reason: string, chunk?: number) => ({ valid: false, reason, chunk });
  const envLen = good.length - image.length - 5 * 32;

  add("valid root-signed", good, ok);
  add("valid, equal sequence", good, ok, { minSeq: 5 });
  add("valid, vendor/class as UUID strings", good, ok, {
    vendor: Buffer.from(vendorId).toString("hex").replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5"),
    class: Buffer.from(classId).toString("hex").replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5")
  });
  add("valid, root in slot 2 of 2", good, ok, { root: [hex(otherRoot.publicKey), hex(root.publicKey)] });
  add("rollback", good, rej("ROLLBACK", -1), { minSeq: 6 });
  add("wrong vendor", good, rej("WRONG_VENDOR", -1), { vendor: "other.example" });
  add("wrong class", good, rej("WRONG_CLASS", -1), { class: "sensor-v4" });
  add("unknown key", good, rej("UNKNOWN_KEY", -1), { root: hex(otherRoot.publicKey) });
  add("retired root", good, rej("REVOKED_ROOT", -1), { root: [hex(root.publicKey)], retired: 1 });
  add("threshold 2, one signer", good, rej("THRESHOLD_NOT_MET", -1), { threshold: 2 });
  add("threshold 2, two roots", twoRoots, ok, { root: [hex(root.publicKey), hex(otherRoot.publicKey)], threshold: 2 });
  add("delegated key", delegated, ok, { minEpoch: 2 });
  add("delegated key, revoked epoch", delegated, rej("REVOKED_KEY", -1), { minEpoch: 3 });
  const badSig = good.slice();
  badSig[envLen - 5] ^= 0x01; // inside the signature (last bytes of the envelope)
  add("bad signature", badSig, rej("BAD_SIGNATURE", -1));
  const badChunk = good.slice();
  badChunk[envLen + 3 * (1024 + 32) + 100] ^= 0x80; // data of chunk 3
  add("corrupt chunk 3", badChunk, rej("CHUNK_HASH_MISMATCH", 3));
  add("truncated in the last chunk", good.slice(0, good.length - 10), rej("TRUNCATED", 4));
  add("truncated in the envelope", good.slice(0, 20), rej("TRUNCATED", -1));
  const trailing = new Uint8Array(good.length + 1);
  trailing.set(good, 0);
  add("trailing byte", trailing, rej("TRAILING_DATA"));
  add("garbage", new Uint8Array([0x01, 0x02, 0x03, 0x04]), rej("MALFORMED", -1));
  add("chunk size above the device's buffer", good, rej("TOO_LARGE", -1), { maxChunkSize: 512 });
  return cases;
}
