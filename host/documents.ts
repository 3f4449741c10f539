// The parts of the one document shape (schema/fwseal-1.schema.json, README "JSON output")
// that describe library results: an error object of the same form for every failure,
// codes with their names (reason and reasonName, runMode and runModeCode), null for absent
// values, epoch times with an RFC 3339 twin (<name>Utc). The CLI prints documents built
// from these (host/cli/json-document.ts); update servers can emit the same shapes.
import type { FwsealError } from "./errors.js";
import { reasonName } from "../formats/device-safe/reasons.js";
import type { SignerInfoView, CertificateInfo, ManifestView } from "./bundle/inspect.js";
import type { ManifestSummary, VerifyResult } from "./bundle/verify.js";
import type { DeviceInfo } from "./device/flash-link.js";
import { formatUuid } from "../formats/host-only/uuid.js";
import { codecName } from "../formats/host-only/encoding-params.js";
import { escapeForTerminal } from "./terminal-text.js";

/** The version of the document shape; bumped only on an incompatible change. */
export const SCHEMA_ID = "fwseal/1";

/** Payload encodings by code (formats/SPEC.md manifest key payload-encoding). */
export const PAYLOAD_ENCODINGS = ["raw", "compressed", "encrypted", "delta"];

/** Device run modes by code (formats/PROTOCOL.md INFO). */
export const RUN_MODES = ["recovery", "normal", "test"];

/** The error object of a failure document: the same for a usage error and a rejected bundle. */
export interface ErrorObject {
  code: string;
  exitCode: number;
  message: string;
  reason: number | null;
  reasonName: string | null;
  chunk: number | null;
  details: Record<string, unknown> | null;
}

/** A time in epoch seconds as RFC 3339 (UTC, whole seconds), null when absent. */
export function rfc3339(seconds: number | null | undefined): string | null {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return null;
  return new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
}

/** A chunk index as documents carry it: null for "no chunk" (the envelope, or a valid bundle). */
export function chunkOrNull(chunk: number | null | undefined): number | null {
  return chunk === null || chunk === undefined || chunk < 0 ? null : chunk;
}

/** The error object for any failure. */
export function errorObject(e: FwsealError): ErrorObject {
  return {
    code: e.code,
    exitCode: e.exitCode,
    message: escapeForTerminal(e.message), // the line stderr shows
    reason: e.reason ?? null,
    reasonName: e.reason !== undefined ? reasonName(e.reason) : null,
    chunk: chunkOrNull(e.chunk),
    // A rejection always has details; where no diagnosis ran, the message is its summary.
    details: e.details ?? (e.reason !== undefined ? { summary: e.message, expected: null, actual: null, signers: null, cause: null } : null)
  };
}

/** A delegation certificate in a document (times with their RFC 3339 twins). */
export function certificateDoc(c: CertificateInfo | null): Record<string, unknown> | null {
  if (c === null) return null;
  return { ...c, notBeforeUtc: rfc3339(c.notBefore), notAfterUtc: rfc3339(c.notAfter) };
}

/** A signer in a document: always an object, whatever command lists it. */
export function signerDoc(s: SignerInfoView): Record<string, unknown> {
  return { keyId: s.keyId, alg: s.alg, kind: s.kind, crit: s.crit, certificate: certificateDoc(s.certificate) };
}

/** A signer known only by key ID and whether it is delegated (pack, finalize, drafts). */
export function signerIdDoc(keyId: string, delegated: boolean | null): Record<string, unknown> {
  return { keyId, alg: null, kind: delegated === null ? null : delegated ? "delegated" : "root", crit: null, certificate: null };
}

function encodingName(code: number | null): string | null {
  if (code === null) return null;
  return PAYLOAD_ENCODINGS[code] ?? `unknown-${code}`;
}

/** The authenticated manifest summary of a verdict, encoding by name with its code. */
export function verifiedManifestDoc(m: ManifestSummary | null): Record<string, unknown> | null {
  if (m === null) return null;
  const e = m.encodedPayload;
  return {
    ...m,
    payloadEncoding: encodingName(m.payloadEncoding),
    payloadEncodingCode: m.payloadEncoding,
    encodedPayload: e === null ? null : { ...e, encoding: encodingName(e.encoding), encodingCode: e.encoding, codec: codecName(e.codec), codecCode: e.codec }
  };
}

/** inspect's manifest view, encoding by name with its code, build time with its RFC 3339 twin. */
export function inspectedManifestDoc(m: ManifestView): Record<string, unknown> {
  const code = m.payloadEncoding === null ? null : PAYLOAD_ENCODINGS.indexOf(m.payloadEncoding);
  const prov = m.provenance;
  return {
    ...m,
    payloadEncodingCode: code === null ? null : code >= 0 ? code : Number(/\d+/.exec(m.payloadEncoding ?? "")?.[0] ?? -1),
    provenance: prov === null ? null : { sourceRevision: prov.sourceRevision ?? null, builder: prov.builder ?? null, buildTime: prov.buildTime ?? null, buildTimeUtc: rfc3339(prov.buildTime) }
  };
}

/** A verdict's fields (verify, extract), with the reason by name and code and chunk null for none. */
export function verdictDoc(r: VerifyResult): Record<string, unknown> {
  return {
    valid: r.valid,
    reason: r.reason,
    reasonName: r.reasonName,
    chunk: r.chunk,
    manifest: verifiedManifestDoc(r.manifest),
    signers: r.signers === null ? null : r.signers.map(signerDoc),
    checkedVendor: r.checkedVendor,
    checkedClass: r.checkedClass,
    vendorFromPolicy: r.vendorFromPolicy,
    classFromPolicy: r.classFromPolicy,
    bytes: r.bytes
  };
}


/** A run mode by name with its code. */
export function runModeFields(mode: string): { runMode: string; runModeCode: number } {
  return { runMode: mode, runModeCode: RUN_MODES.indexOf(mode) };
}

/** A boot check result by reason name and code; null when the slot was not checked. */
export function bootCheckDoc(code: number | null): { reason: number; reasonName: string } | null {
  return code === null || code < 0 ? null : { reason: code, reasonName: reasonName(code) };
}

/** A device's INFO in a document: IDs as UUIDs, run mode and boot checks by name with their codes, null for "none". */
export function deviceDoc(d: DeviceInfo): Record<string, unknown> {
  return {
    ...d,
    vendorId: formatUuid(d.vendorId),
    classId: formatUuid(d.classId),
    runningSlot: d.runningSlot < 0 ? null : d.runningSlot,
    ...runModeFields(d.runMode),
    bootCheck: d.bootCheck.map(bootCheckDoc)
  };
}
