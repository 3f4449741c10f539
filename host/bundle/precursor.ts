// The image a delta applies to (formats/SPEC.md §15), from the file a user names: the bundle
// of the release the devices run, raw or compressed (its image, decoded by the device core's
// decoder for a compressed one, and the chain head its manifest names), or the image itself
// (its chain head computed with the chunk size given). The precursor is the user's own file:
// it is read, not verified; a device compares the chain head with the one of the image it
// runs, and refuses a delta for anything else (WRONG_PRECURSOR).
import * as fsp from "node:fs/promises";
import { createHash } from "node:crypto";
import { Limits } from "../../formats/device-safe/limits.js";
import { Reason, reasonName } from "../../formats/device-safe/reasons.js";
import { PayloadEncoding } from "../../formats/device-safe/labels.js";
import { PayloadDecoder } from "../../device-sim/core/decode/payload-decoder.js";
import { chunkCountFor } from "../../formats/device-safe/chunk-layout.js";
import { inspectBytes } from "./inspect.js";
import { chunkGeometry, computeChain } from "../../formats/host-only/chunk-chain.js";
import { FwsealError, inputError } from "../errors.js";

/** The image a delta applies to. */
export interface Precursor {
  image: Uint8Array;
  /** Its chain head as its own manifest names it (key 9); absent: computed with the delta's chunk size. */
  chainHead?: Uint8Array;
}

/** One SHA-256 (node:crypto) as the chain builders take it. */
export const sha256 = (d: Uint8Array): Uint8Array => new Uint8Array(createHash("sha256").update(d).digest());

/** H_0 of the SPEC §7 chain over bytes held in memory. */
export async function chainHeadOf(bytes: Uint8Array, chunkSize: number): Promise<Uint8Array> {
  const g = chunkGeometry(bytes.length, chunkSize);
  const hashes = await computeChain((o, dst, dOff, len) => dst.set(bytes.subarray(o, o + len), dOff), g, sha256);
  return hashes.slice(0, Limits.HASH_LEN);
}

/** A precursor and where it came from. */
export interface LoadedPrecursor extends Precursor {
  /** "bundle": from a raw bundle's chunks and manifest; "image": the file as the image. */
  source: "bundle" | "image";
}

/** Reads the precursor named by `path`; a plain image's chain head is computed with chunkSize (absent: left to the delta's chunk size). */
export async function loadPrecursor(path: string, chunkSize?: number): Promise<LoadedPrecursor> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fsp.readFile(path));
  } catch (e) {
    throw inputError(path, e);
  }
  if (bytes.length < 1) throw new FwsealError("INPUT_UNREADABLE", `${path}: precursor is empty`);
  let bundle: ReturnType<typeof inspectBytes> | null = null;
  try {
    bundle = inspectBytes(bytes.subarray(0, Math.min(bytes.length, Limits.MAX_ENVELOPE)), bytes.length);
  } catch {
    bundle = null; // not a bundle: the file is the image
  }
  if (bundle === null) return { image: bytes, ...(chunkSize !== undefined ? { chainHead: await chainHeadOf(bytes, chunkSize) } : {}), source: "image" };
  const m = bundle.manifest;
  const enc = m.encodedPayload;
  const compressed = m.payloadEncoding === "compressed" && enc !== null;
  if (!compressed && (enc !== null || (m.payloadEncoding !== null && m.payloadEncoding !== "raw"))) {
    throw new FwsealError("USAGE", `${path}: a ${m.payloadEncoding} bundle; give the image it installs (fwseal extract it) as the precursor`);
  }
  if (m.imageSize === null || m.chunkSize === null || m.chainHead === null || bundle.expectedBundleSize !== bytes.length) {
    throw new FwsealError("INPUT_UNREADABLE", `${path}: not a complete bundle (its size does not match its manifest)`);
  }
  const cs = m.chunkSize;
  // The chunks carry the image, or for a compressed bundle its deflate-coded wire stream.
  const carried = compressed ? enc.wireSize : m.imageSize;
  const n = chunkCountFor(carried, cs);
  const stream = new Uint8Array(carried);
  for (let i = 0; i < n; i++) {
    const from = bundle.envelopeSize + i * (cs + Limits.HASH_LEN);
    const len = i === n - 1 ? carried - i * cs : cs;
    stream.set(bytes.subarray(from, from + len), i * cs);
  }
  if (compressed && Buffer.from(await chainHeadOf(stream, cs)).toString("hex") !== enc.wireChainHead) {
    throw new FwsealError("INPUT_UNREADABLE", `${path}: its chunks do not hash to the wire chain head its manifest names (a damaged bundle)`);
  }
  const image = compressed ? decodeCompressed(path, stream, cs, m.imageSize, enc.codecCode, enc.windowBits ?? 0) : stream;
  const head = await chainHeadOf(image, cs);
  if (Buffer.from(head).toString("hex") !== m.chainHead) {
    throw new FwsealError("INPUT_UNREADABLE", `${path}: its chunks do not hash to the chain head its manifest names (a damaged bundle)`);
  }
  return { image, chainHead: head, source: "bundle" };
}

/** A compressed bundle's image: each wire chunk through the device core's decoder, as a device installs it. */
function decodeCompressed(path: string, wire: Uint8Array, chunkSize: number, imageSize: number, codec: number, windowBits: number): Uint8Array {
  const image = new Uint8Array(imageSize);
  let written = 0;
  const sink = {
    output(b: Uint8Array, o: number, n: number): void {
      image.set(b.subarray(o, o + n), written);
      written += n;
    },
    readPrecursor(): void {}
  };
  const dec = new PayloadDecoder(Limits.MAX_WINDOW_BITS);
  let rc = dec.start({ encoding: PayloadEncoding.COMPRESSED, codec, windowBits, imageSize, precursorSize: 0 });
  for (let off = 0; rc === Reason.OK && off < wire.length; off += chunkSize) {
    rc = dec.chunk(wire, off, Math.min(chunkSize, wire.length - off), sink);
  }
  if (rc === Reason.OK) rc = dec.finish();
  if (rc !== Reason.OK) throw new FwsealError("INPUT_UNREADABLE", `${path}: its compressed payload does not decode to the image its manifest names (${reasonName(rc)})`);
  return image;
}
