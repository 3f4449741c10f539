// fwseal inspect: what is in a bundle, without a key and without a verdict.
import type { CommandModule } from "yargs";
import { inspect, type InspectResult } from "../../bundle/inspect.js";
import { inspectStream } from "../../bundle/inspect-stream.js";
import { out as outLine, formatBytes, jsonReplacer, cliState } from "../output.js";
import { SCHEMA_ID, inspectedManifestDoc, rfc3339, signerDoc } from "../json-document.js";
import { stdinPath } from "../stdio-paths.js";
import { isDraftFile, draftDoc, draftStatus, draftStatusText } from "../draft-notice.js";
import { readDraft } from "../../bundle/drafts.js";
import { imageSha256OfBundle } from "../../bundle/image-digest.js";
import { escapeForTerminal, terminalSafeJson } from "../../terminal-text.js";
import { hssKeyInfo, readHssPrivateKey } from "../../keys/hss/key-info.js";
import { isHssPrivateKeyPem } from "../../keys/hss/private-key-file.js";
import { hssKeyInfoJson, printHssKeyInfo } from "../hss-key-report.js";
import { closeSync, openSync, readSync } from "node:fs";

interface Args {
  bundle: string;
  json?: boolean;
}

function when(t: number | null | undefined): string {
  return t === null || t === undefined ? "-" : `${new Date(t * 1000).toISOString().replace(".000Z", "Z")} (${t})`;
}

/** One line of the report; text taken from the bundle is shown with control characters escaped. */
function out(line: string): void {
  outLine(escapeForTerminal(line));
}

/** The human-readable report of `fwseal inspect` on stdout. */
export function printInspect(r: InspectResult, file: string, imageSha256: string | null = null): void {
  const m = r.manifest;
  out(`${file}: ${r.envelopeType} envelope (${r.envelopeSize} bytes), ${formatBytes(r.fileSize)} in all`);
  out(`  (decoded without verification; run fwseal verify for a verdict)`);
  out("manifest:");
  out(`  format version   ${m.formatVersion ?? "?"}`);
  out(`  vendor-id        ${m.vendorId ?? "?"}`);
  out(`  class-id         ${m.classId ?? "?"}`);
  out(`  sequence         ${m.sequence ?? "?"}`);
  out(`  version          ${m.version ?? "?"}`);
  out(`  image size       ${m.imageSize ?? "?"} bytes`);
  out(`  chunks           ${m.chunkCount ?? "?"} x ${m.chunkSize ?? "?"} bytes`);
  out(`  chain head       ${m.chainHead ?? "?"}`);
  out(`  payload encoding ${m.payloadEncoding ?? "?"}`);
  const e = m.encodedPayload;
  if (e !== null) {
    out(`  wire size        ${e.wireSize} bytes in ${e.wireChunkCount} chunks (${e.ratio !== null ? `${(e.ratio * 100).toFixed(1)}% of the image` : "?"})`);
    out(`  codec            ${e.codec}${e.windowBits !== null ? `, window ${2 ** e.windowBits} bytes (${e.windowBits} bits)` : ""}`);
    out(`  wire chain head  ${e.wireChainHead}`);
    if (e.precursorChainHead !== null) out(`  precursor        ${e.precursorSize ?? "?"} bytes, chain head ${e.precursorChainHead}`);
  }
  if (imageSha256 !== null) out(`  image SHA-256    ${imageSha256} (unverified)`);
  if (m.provenance) {
    if (m.provenance.sourceRevision !== undefined) out(`  source revision  ${m.provenance.sourceRevision}`);
    if (m.provenance.builder !== undefined) out(`  builder          ${m.provenance.builder}`);
    if (m.provenance.buildTime !== undefined) out(`  build time       ${when(m.provenance.buildTime)}`);
  }
  if (m.sbomDigest) out(`  SBOM SHA-256     ${m.sbomDigest}`);
  if (m.keyEpochFloor !== null) out(`  key epoch floor  ${m.keyEpochFloor}`);
  if (m.loadAddress !== null) out(`  load address     0x${m.loadAddress.toString(16).padStart(8, "0")}`);
  if (m.crit) out(`  crit             ${m.crit.join(", ")}`);
  if (m.unknownKeys.length) out(`  unknown keys     ${m.unknownKeys.join(", ")}`);
  if (m.releaseNotes !== null) {
    out("  release notes:");
    for (const line of m.releaseNotes.split("\n")) out(`    ${line}`);
  }
  out(`signers (${r.signers.length}):`);
  r.signers.forEach((s, i) => {
    out(`  [${i}] key ${s.keyId ?? "?"}, ${s.alg ?? "?"}, ${s.kind === "root" ? "root-signed (no certificate)" : "delegated"}`);
    const c = s.certificate;
    if (c) {
      out(`      certificate issued by root ${c.issuerKeyId ?? "?"} for key ${c.subjectKeyId ?? "?"}`);
      out(`        epoch ${c.epoch ?? "?"}; valid ${when(c.notBefore)} .. ${when(c.notAfter)}`);
      out(`        vendor ${c.vendorId ?? "any"}; classes ${c.classIds ? c.classIds.join(", ") : "any"}`);
    }
  });
  if (r.logProof) printLogProof(r.logProof);
  if (r.expectedBundleSize !== null) out(`size: ${r.expectedBundleSize === r.fileSize ? "matches the manifest" : `file ${r.fileSize} bytes, manifest implies ${r.expectedBundleSize}`}`);
  for (const n of r.notes) out(`note: ${n}`);
}

/** The log proof lines of the report (decoded, not verified). */
function printLogProof(p: NonNullable<InspectResult["logProof"]>): void {
  out(`log proof: entry ${p.leafIndex}, ${p.pathHashes}-hash inclusion path`);
  if (p.checkpoint) out(`  checkpoint       ${p.checkpoint.origin}, size ${p.checkpoint.size}, root ${p.checkpoint.root}`);
  for (const s of p.signatures) out(`  signed by        ${s.name} (key ID ${s.keyId}, ${s.bytes === 72 ? "cosignature/v1" : "note signature"})`);
  if (p.entry) out(`  entry            sequence ${p.entry.sequence}, version ${p.entry.version}, logged ${when(p.entry.loggedAt)}, signers ${p.entry.signerKeyIds.join(", ")}`);
  for (const x of p.problems) out(`  problem          ${x}`);
}

/** An HSS/LMS private key file (inspect then reports its state instead of a bundle's). */
function isHssKeyFile(file: string): boolean {
  try {
    const fd = openSync(file, "r");
    const head = Buffer.alloc(100);
    try {
      return isHssPrivateKeyPem(head.subarray(0, readSync(fd, head, 0, head.length, 0)).toString("latin1"));
    } finally {
      closeSync(fd);
    }
  } catch {
    return false; // inspect() reports a missing or unreadable file
  }
}

/** A success document whose text comes from the bundle: control characters escaped as in the text report. */
function outInspectDocument(body: Record<string, unknown>): void {
  outLine(terminalSafeJson(JSON.stringify({ schema: SCHEMA_ID, command: cliState.command, ok: true, ...body }, jsonReplacer, 2)));
}

/** inspect's result as a document: signers as objects, encoding by name and code, times with RFC 3339 twins. */
export function inspectDoc(r: InspectResult, imageSha256: string | null): Record<string, unknown> {
  return { ...r, manifest: inspectedManifestDoc(r.manifest), signers: r.signers.map(signerDoc), logProof: logProofDoc(r.logProof), imageSha256 };
}

/** The log proof in a document: an unreadable proof's entry index null, the entry's time with its RFC 3339 twin. */
function logProofDoc(p: InspectResult["logProof"]): Record<string, unknown> | null {
  if (p === null) return null;
  return { ...p, leafIndex: p.leafIndex < 0 ? null : p.leafIndex, entry: p.entry && { ...p.entry, loggedAtUtc: rfc3339(p.entry.loggedAt) } };
}

/** The image's SHA-256 as the bundle file carries it (unverified), when its size matches the manifest; else null. */
async function claimedImageSha256(file: string, r: InspectResult): Promise<string | null> {
  const m = r.manifest;
  // An encoded payload's image exists only once decoded (fwseal verify / extract).
  if (m.encodedPayload !== null) return null;
  if (m.chunkSize === null || m.imageSize === null || r.expectedBundleSize === null || r.expectedBundleSize !== r.fileSize) return null;
  return imageSha256OfBundle(file, { envelopeSize: r.envelopeSize, chunkSize: m.chunkSize, imageSize: m.imageSize });
}

/** inspect on a draft: its manifest, and which signatures it has and which it still needs. */
async function inspectDraft(file: string, json: boolean | undefined): Promise<void> {
  const d = await readDraft(file);
  const s = draftStatus(d);
  if (json) {
    outInspectDocument({ file, kind: "draft", ...draftDoc(d) });
    return;
  }
  out(`${file}: ${draftStatusText(d)}`);
  out(`  version ${d.manifest.version}, sequence ${d.manifest.sequence}, ${d.manifest.chunkCount} chunks of ${d.manifest.chunkSize} bytes, image ${d.manifest.imageSize} bytes`);
  out(`  vendor-id ${d.manifest.vendorId}, class-id ${d.manifest.classId}`);
  out(`  next: ${s.signatures.length < s.required ? `fwseal sign ${file} --in-place --key <key>, then ` : ""}fwseal finalize ${file} --root <root> -o <bundle>`);
}

const command: CommandModule<object, Args> = {
  command: "inspect <bundle>",
  describe: "Show a bundle's manifest, signers and certificates (no key needed, no verdict), or an HSS/LMS key's signatures left",
  builder: (y) =>
    y
      .positional("bundle", { type: "string", demandOption: true, description: "Bundle file (or draft, or HSS/LMS key), or - for stdin" })
      .example("$0 inspect fw.fwb", "human-readable summary")
      .example("$0 inspect fw.fwb --json | jq .manifest.sequence", "for scripts")
      .example("$0 inspect pq.key", "an HSS/LMS private key: parameters and signatures left") as never,
  handler: async (a) => {
    a.bundle = stdinPath(a.bundle);
    if (a.bundle === "-") {
      const { result: r, imageSha256: sha } = await inspectStream(process.stdin);
      if (a.json) outInspectDocument({ file: a.bundle, kind: "bundle", ...inspectDoc(r, sha) });
      else printInspect(r, a.bundle, sha);
      return;
    }
    if (await isDraftFile(a.bundle)) return inspectDraft(a.bundle, a.json);
    if (isHssKeyFile(a.bundle)) {
      const info = hssKeyInfo(await readHssPrivateKey(a.bundle));
      if (a.json) outInspectDocument({ file: a.bundle, kind: "hss-lms-key", ...hssKeyInfoJson(info) });
      else {
        out(`${a.bundle}: HSS/LMS private key, key ID ${info.keyId}`);
        printHssKeyInfo(info);
      }
      return;
    }
    const r = await inspect(a.bundle);
    const sha = await claimedImageSha256(a.bundle, r);
    if (a.json) outInspectDocument({ file: a.bundle, kind: "bundle", ...inspectDoc(r, sha) });
    else printInspect(r, a.bundle, sha);
  }
};
export default command;
