// fwseal pack: image -> signed, hash-chained bundle.
import * as fsp from "node:fs/promises";
import type { CommandModule } from "yargs";
import { pack, sha256File } from "../../bundle/pack.js";
import { parseTime } from "../../keys/delegate.js";
import { asList, loadRoots, parseUint } from "../key-options.js";
import { loadSigners } from "../signer-options.js";
import { out, progressBar, formatBytes, hex, err } from "../output.js";
import { outDocument, signerIdDoc } from "../json-document.js";
import { policyNames } from "./verify.js";
import { forceOption } from "../argument-checks.js";
import { FwsealError, inputError } from "../../errors.js";
import { formatUuid } from "../../../formats/host-only/uuid.js";
import { draftOptions, packUnsignedCli } from "../draft-pack.js";
import { auditLogPath, auditOptions, auditSigning, preflightAudit } from "../../audit/audit-log.js";
import { closeSigners, keySourceOf } from "../../keys/signer-loader.js";
import { packRecordSummary } from "../../audit/signing-records.js";
import type { ImageFormat } from "../../bundle/image-input.js";
import type { HexGaps } from "../../io/intel-hex.js";
import type { PayloadEncodingOptions } from "../../bundle/encode-payload.js";
import { loadPrecursor } from "../../bundle/precursor.js";
import { codecName, type EncodedPayload } from "../../../formats/host-only/encoding-params.js";
import { PayloadEncoding } from "../../../formats/device-safe/labels.js";

interface Args {
  image: string;
  "input-format": string;
  "hex-gaps": string;
  key?: string | string[];
  unsigned?: boolean;
  threshold?: number;
  "allow-signer"?: string[];
  audit?: string;
  operator?: string;
  cert?: string | string[];
  root?: string[];
  force?: boolean;
  seq: number;
  vendor: string;
  class: string;
  "fw-version": string;
  /** Refused: --version is fwseal's own version, never the firmware's. */
  version?: unknown;
  "chunk-size": number;
  "source-revision"?: string;
  builder?: string;
  "build-time"?: string;
  sbom?: string;
  notes?: string;
  "key-epoch-floor"?: number;
  output: string;
  "passphrase-file"?: string;
  compress?: boolean;
  "delta-from"?: string;
  "window-bits"?: number;
  json?: boolean;
}

/** pack's payload encoding from --compress, --delta-from and --window-bits (formats/SPEC.md §15). */
async function payloadOptions(a: Args): Promise<PayloadEncodingOptions | undefined> {
  const delta = a["delta-from"];
  if (delta === undefined && a.compress !== true) {
    if (a["window-bits"] !== undefined) throw new FwsealError("USAGE", "--window-bits applies to a compressed or delta payload: add --compress or --delta-from");
    return undefined;
  }
  const windowBits = a["window-bits"];
  if (delta === undefined) return { kind: "compressed", windowBits };
  const precursor = await loadPrecursor(delta, a["chunk-size"]);
  return { kind: "delta", windowBits, precursor, compress: a.compress !== false };
}

/**
 * Flags that contradict each other: --threshold and --allow-signer describe a draft's
 * ceremony, --root the check of a signed bundle.
 */
function refuseContradictions(a: Args): void {
  if (a.unsigned) {
    if (asList(a.root).length > 0) throw new FwsealError("USAGE", "--root checks a signed bundle; a draft (--unsigned) is checked by fwseal finalize --root");
    return;
  }
  for (const flag of ["threshold", "allow-signer"] as const) {
    if (a[flag] !== undefined) throw new FwsealError("USAGE", `--${flag} applies to a draft for offline signing: it needs --unsigned (a device's threshold is its own policy: see verify --threshold)`);
  }
  if (asList(a.key).length === 0) throw new FwsealError("USAGE", "pack needs --key (or --unsigned for a draft to sign offline)");
}

async function readNotes(v: string | undefined): Promise<string | undefined> {
  if (v === undefined || !v.startsWith("@")) return v;
  const file = v.slice(1);
  try {
    return (await fsp.readFile(file, "utf8")).replace(/\s+$/, "");
  } catch (e) {
    throw inputError(file, e);
  }
}

const command: CommandModule<object, Args> = {
  command: "pack <image>",
  describe: "Sign a firmware image into a bundle (envelope + hash-chained chunks)",
  builder: (y) =>
    forceOption(auditOptions(draftOptions(y)), "Overwrite an existing output; write the bundle even if the signing checks refuse it or the audit log records its sequence for another image")
      .version(false) // refused below with a pointer to --fw-version, so an old command line cannot print a version and exit 0
      .positional("image", { type: "string", demandOption: true, description: "Firmware image file" })
      .option("key", { alias: "k", type: "string", array: true, description: "Signing key (.key file or pkcs11: URI); repeat for k-of-n (COSE_Sign)" })
      .option("cert", { alias: "c", type: "string", array: true, description: "Delegation certificate of a --key (omit for a root key); repeatable" })
      .option("root", { alias: "r", type: "string", array: true, description: "Device root public key(s), in slot order: the bundle must verify under them before it is written; a --key without --cert must be one of them" })
      .option("seq", { type: "number", demandOption: true, description: "Sequence number (anti-rollback; monotonic)" })
      .option("vendor", { type: "string", demandOption: true, description: "Vendor domain (UUIDv5) or UUID" })
      .option("class", { type: "string", demandOption: true, description: "Device class name (UUIDv5 under the vendor) or UUID" })
      // Required, checked in the handler: a stray --version must be named before a missing --fw-version.
      .option("fw-version", { type: "string", description: "Human-readable firmware version, e.g. 1.4.2 (never compared) [required]" })
      .option("version", { type: "string", hidden: true })
      .option("chunk-size", { type: "number", default: 4096, description: "Chunk size, power of two 256..65536" })
      .option("source-revision", { type: "string", description: "Provenance: source revision (git commit)" })
      .option("builder", { type: "string", description: "Provenance: builder identity" })
      .option("build-time", { type: "string", description: "Provenance: build time (ISO 8601 or seconds since 1970)" })
      .option("sbom", { type: "string", description: "SBOM file; its SHA-256 goes in the manifest" })
      .option("notes", { type: "string", description: "Release notes text, or @file" })
      .option("key-epoch-floor", { type: "number", description: "Raise devices' minimum key epoch to this once confirmed" })
      .option("output", { alias: "o", type: "string", demandOption: true, description: "Bundle file to write" })
      .option("passphrase-file", { type: "string", description: "Passphrase for encrypted keys" })
      .option("input-format", { type: "string", choices: ["auto", "binary", "ihex"], default: "auto", description: "Image format: auto = Intel HEX when the file starts with a valid record, else raw binary" })
      .option("hex-gaps", { type: "string", choices: ["fill", "refuse"], default: "fill", description: "Intel HEX: fill addresses no record covers with 0xFF (erased flash), or refuse them" })
      .option("compress", { type: "boolean", description: "Deflate-code the payload (each wire chunk decodes on its own; devices need a decoder, SPEC §15); with --delta-from the default, --no-compress sends the patch as it is" })
      .option("delta-from", { type: "string", description: "Send a patch against the release the devices run: its bundle (raw or compressed), or its image (chain head computed with --chunk-size)" })
      .option("window-bits", { type: "number", description: "Deflate window, 9..15 bits (default 12: 4 KiB); devices refuse a window above their own (TOO_LARGE)" })
      .example("$0 pack fw.bin --key release.key --cert release.cert --seq 42 --vendor acme.example --class sensor-v3 --fw-version 1.4.2 -o fw.fwb", "sign with a delegated release key")
      .example("$0 pack fw.hex --key release.key --cert release.cert --seq 43 --vendor acme.example --class sensor-v3 --fw-version 1.4.3 -o fw.fwb", "an Intel HEX image: the load address goes in the manifest")
      .example("$0 pack fw.bin --key release.key --cert release.cert --seq 44 --vendor acme.example --class sensor-v3 --fw-version 1.4.4 --compress -o fw.fwb", "a compressed payload")
      .example("$0 pack fw.bin --key release.key --cert release.cert --seq 45 --vendor acme.example --class sensor-v3 --fw-version 1.4.5 --delta-from fw-1.4.4.fwb -o fw-delta.fwb", "a delta against the release the devices run")
      .example("$0 pack fw.bin -k a.key -c a.cert -k b.key -c b.cert -k c.key -c c.cert --seq 7 --vendor acme.example --class hub --fw-version 2.0.0 -o fw.fwb", "three delegated signers (COSE_Sign) for a 2-of-3 device policy") as never,
  handler: async (a) => {
    if (a.version !== undefined) throw new FwsealError("USAGE", "--version is fwseal's version; give the firmware's version with --fw-version");
    if (a["fw-version"] === undefined) throw new FwsealError("USAGE", "Missing required argument: fw-version (see fwseal --help)");
    refuseContradictions(a);
    await preflightAudit(a);
    const seq = parseUint(a.seq, "--seq") as number;
    const buildTime = a["build-time"] !== undefined ? parseTime(a["build-time"], "--build-time") : undefined;
    const provenance =
      a["source-revision"] !== undefined || a.builder !== undefined || buildTime !== undefined
        ? { sourceRevision: a["source-revision"], builder: a.builder, buildTime }
        : undefined;
    const sbomDigest = a.sbom !== undefined ? await sha256File(a.sbom) : undefined;
    const releaseNotes = await readNotes(a.notes);
    if (a.unsigned) {
      return packUnsignedCli(a, { sequence: seq, provenance, sbomDigest, releaseNotes, keyEpochFloor: parseUint(a["key-epoch-floor"], "--key-epoch-floor") });
    }
    const payload = await payloadOptions(a);
    const signers = await loadSigners(asList(a.key), asList(a.cert), a["passphrase-file"], a.audit);
    let roots: Uint8Array[] | undefined;
    try {
      roots = asList(a.root).length > 0 ? await loadRoots(asList(a.root)) : undefined;
    } catch (e) {
      closeSigners(signers);
      throw e;
    }
    // The bar's total is the image's size, known once the image is read (Intel HEX: after conversion).
    let bar: ReturnType<typeof progressBar> | undefined;
    let r;
    try {
      r = await pack({
        image: a.image,
        output: a.output,
        signers,
        vendor: a.vendor,
        deviceClass: a.class,
        sequence: seq,
        version: a["fw-version"],
        chunkSize: a["chunk-size"],
        provenance,
        sbomDigest,
        releaseNotes,
        keyEpochFloor: parseUint(a["key-epoch-floor"], "--key-epoch-floor"),
        roots,
        requireRoots: true,
        force: !!a.force,
        overwrite: !!a.force,
        sequenceLog: a.force ? undefined : auditLogPath(a.audit),
        inputFormat: a["input-format"] as ImageFormat,
        hexGaps: a["hex-gaps"] as HexGaps,
        payload,
        onProgress: (d, t) => {
          if (!a.json) (bar ??= progressBar("packing", t)).update(d);
        }
      });
    } finally {
      bar?.finish();
      closeSigners(signers);
    }
    await auditSigning(a, "pack", r.signerKeyIds, keySourceOf(signers), r.output, packRecordSummary(r, { version: a["fw-version"], sequence: seq, keyEpochFloor: a["key-epoch-floor"] }));
    for (const w of r.warnings) err(`fwseal: warning: ${w}`);
    const imageSha256 = hex(r.imageSha256);
    if (a.json) {
      outDocument({
        warnings: r.warnings, file: r.output, bundleSize: r.bundleSize, envelopeSize: r.envelopeSize, imageSize: r.imageSize, imageSha256,
        chunkSize: r.chunkSize, chunkCount: r.chunkCount, chainHead: hex(r.chainHead),
        vendorId: formatUuid(r.vendorId), classId: formatUuid(r.classId), ...policyNames(a), sequence: seq, version: a["fw-version"],
        signers: signers.map((s) => signerIdDoc(s.keyId, s.certificate !== undefined)),
        inputFormat: r.inputFormat, loadAddress: r.loadAddress ?? null,
        encodedPayload: encodedPayloadDoc(r)
      });
      return;
    }
    if (signers.length === 0) throw new FwsealError("INTERNAL", "no signer");
    // What the file holds after the envelope: the image's chunks, or an encoded payload's wire chunks.
    const carried = r.encoded
      ? `${r.encoded.wireChunkCount} wire chunk${r.encoded.wireChunkCount === 1 ? "" : "s"} of at most ${r.chunkSize} bytes`
      : `${r.chunkCount} chunk${r.chunkCount === 1 ? "" : "s"} of ${r.chunkSize} bytes`;
    out(`bundle ${r.output}: ${formatBytes(r.bundleSize)} (${r.envelopeSize}-byte envelope + ${carried})`);
    out(`  version ${a["fw-version"]}, sequence ${seq}, image ${r.imageSize} bytes, SHA-256 ${imageSha256}${r.loadAddress !== undefined ? `, from Intel HEX, load address 0x${r.loadAddress.toString(16).padStart(8, "0")}` : ""}`);
    out(`  vendor ${formatUuid(r.vendorId)} (${a.vendor}), class ${formatUuid(r.classId)} (${a.class})`);
    if (r.encoded) {
      const e = r.encoded;
      out(`  payload ${e.encoding === PayloadEncoding.DELTA ? "delta" : "compressed"} (${codecName(e.codec)}${e.windowBits !== undefined ? `, window ${e.windowBits} bits` : ""}): ${e.wireSize} bytes on the wire, ${((e.wireSize / r.imageSize) * 100).toFixed(1)}% of the image${e.precursorChainHead ? `; applies to the image with chain head ${hex(e.precursorChainHead)} (${e.precursorSize} bytes)` : ""}`);
    }
    out(`  signed by ${signers.map((s) => `${s.keyId}${s.certificate ? " (delegated)" : " (root)"}`).join(", ")}`);
  }
};
/** pack's encodedPayload in --json: null for a raw payload. */
function encodedPayloadDoc(r: { encoded?: EncodedPayload; imageSize: number }): Record<string, unknown> | null {
  const e = r.encoded;
  if (!e) return null;
  return {
    encoding: e.encoding === PayloadEncoding.DELTA ? "delta" : "compressed", encodingCode: e.encoding,
    wireSize: e.wireSize, wireChunkCount: e.wireChunkCount, wireChainHead: hex(e.wireChainHead),
    codec: codecName(e.codec), codecCode: e.codec, windowBits: e.windowBits ?? null,
    precursorChainHead: e.precursorChainHead ? hex(e.precursorChainHead) : null, precursorSize: e.precursorSize ?? null,
    ratio: Math.round((e.wireSize / r.imageSize) * 10000) / 10000
  };
}

export default command;
