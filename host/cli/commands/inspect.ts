// fwseal inspect: what is in a bundle, without a key and without a verdict.
import type { CommandModule } from "yargs";
import { inspect, type InspectResult } from "../../bundle/inspect.js";
import { out as outLine, formatBytes, jsonReplacer } from "../output.js";
import { escapeForTerminal, terminalSafeJson } from "../terminal-text.js";
import { hssKeyInfo, readHssPrivateKey, isHssPrivateKeyPem } from "../../keys/hss-lms.js";
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
export function printInspect(r: InspectResult, file: string): void {
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
  if (m.provenance) {
    if (m.provenance.sourceRevision !== undefined) out(`  source revision  ${m.provenance.sourceRevision}`);
    if (m.provenance.builder !== undefined) out(`  builder          ${m.provenance.builder}`);
    if (m.provenance.buildTime !== undefined) out(`  build time       ${when(m.provenance.buildTime)}`);
  }
  if (m.sbomDigest) out(`  SBOM SHA-256     ${m.sbomDigest}`);
  if (m.keyEpochFloor !== null) out(`  key epoch floor  ${m.keyEpochFloor}`);
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

const command: CommandModule<object, Args> = {
  command: "inspect <bundle>",
  describe: "Show a bundle's manifest, signers and certificates (no key needed, no verdict), or an HSS/LMS key's signatures left",
  builder: (y) =>
    y
      .positional("bundle", { type: "string", demandOption: true, description: "Bundle file" })
      .example("$0 inspect fw.fwb", "human-readable summary")
      .example("$0 inspect fw.fwb --json | jq .manifest.sequence", "for scripts")
      .example("$0 inspect pq.key", "an HSS/LMS private key: parameters and signatures left") as never,
  handler: async (a) => {
    if (isHssKeyFile(a.bundle)) {
      const info = hssKeyInfo(await readHssPrivateKey(a.bundle));
      if (a.json) outLine(JSON.stringify({ ok: true, file: a.bundle, ...hssKeyInfoJson(info) }, jsonReplacer, 2));
      else {
        out(`${a.bundle}: HSS/LMS private key, key ID ${info.keyId}`);
        printHssKeyInfo(info);
      }
      return;
    }
    const r = await inspect(a.bundle);
    if (a.json) outLine(terminalSafeJson(JSON.stringify({ ok: true, file: a.bundle, ...r }, jsonReplacer, 2)));
    else printInspect(r, a.bundle);
  }
};
export default command;
