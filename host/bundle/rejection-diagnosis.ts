// Why a bundle was rejected, in words a release engineer can act on. The device core
// returns a reason code only (its verdict stays authoritative); this pass runs afterwards on
// the host over the envelope as decoded by inspect and the policy, and names the key or
// certificate, expected versus actual: "1 of 2 required signers (counted: 3f2a...; not
// counted: 9b1c... certificate allows classes [...], bundle targets ...)".
import { Reason, reasonName } from "../../formats/device-safe/reasons.js";
import type { ManifestView, SignerInfoView } from "./inspect.js";
import type { VerifyPolicy, VerifyResult } from "./verify.js";
import { keyIdHex } from "../keys/keys.js";
import { isUuidString } from "../../formats/host-only/uuid.js";
import { FwsealError } from "../errors.js";
import { exitCodeForReason } from "../exit-codes.js";

/** The policy a verdict was reached under, as the diagnosis needs it (IDs as hex / UUID strings). */
export interface DiagnosisPolicy {
  /** Key IDs of the root keys, in slot order. */
  rootKeyIds: string[];
  retiredRoots: number;
  /** Vendor/class UUIDs checked, and the names given for them (null when given as UUIDs or not given). */
  vendorId: string | null;
  vendorName: string | null;
  classId: string | null;
  className: string | null;
  minSequence: number;
  minEpoch: number;
  threshold: number;
  rootThreshold: number;
  /** Trusted time in seconds; null: the device has none (windows not checked). */
  now: number | null;
}

/** One signer's standing under the policy (its signature itself is the core's business). */
export interface SignerStanding {
  keyId: string | null;
  /** Root slot it counts through (its own, or its certificate's issuer), null when it does not. */
  rootSlot: number | null;
  counted: boolean;
  /** Why it does not count: the reason it would get and the words for it. */
  reason: number | null;
  reasonName: string | null;
  why: string | null;
}

/** The diagnosis of a rejection: one line of text and the same facts for JSON. */
export interface RejectionDiagnosis {
  reason: number;
  reasonName: string;
  chunk: number | null;
  /**
   * The sentence after the reason name, e.g. "1 of 2 required signers (...)". When the
   * device's first failing check hides a plainer cause (a bundle for another vendor or class
   * is first refused because its signer is not authorised for the device), it starts with
   * that cause's name.
   */
  summary: string;
  /** Expected versus actual, and the signers' standings where signers matter. */
  details: {
    summary: string;
    expected: string | number | null;
    actual: string | number | null;
    signers: SignerStanding[] | null;
    /** The underlying cause when it is not the verdict's reason (e.g. WRONG_VENDOR behind KEY_NOT_AUTHORIZED). */
    cause: { reason: number; reasonName: string } | null;
  };
}

function time(t: number): string {
  return new Date(t * 1000).toISOString().replace(".000Z", "Z");
}

function named(id: string | null, name: string | null): string {
  if (id === null) return "?";
  return name !== null ? `${id} (${name})` : id;
}

/** Where a signer stands under the policy: counted, or the reason it is not. */
export function signerStanding(s: SignerInfoView, p: DiagnosisPolicy): SignerStanding {
  const st = (rootSlot: number | null, reason: number | null, why: string | null): SignerStanding => ({
    keyId: s.keyId,
    rootSlot,
    counted: reason === null,
    reason,
    reasonName: reason === null ? null : reasonName(reason),
    why
  });
  const key = s.keyId ?? "?";
  const c = s.certificate;
  if (c === null) {
    const slot = s.keyId === null ? -1 : p.rootKeyIds.indexOf(s.keyId);
    if (slot < 0) return st(null, Reason.UNKNOWN_KEY, `key ${key} is not one of the given roots and carries no delegation certificate`);
    if ((p.retiredRoots >> slot) & 1) return st(null, Reason.REVOKED_ROOT, `key ${key} is root slot ${slot}, which is retired`);
    return st(slot, null, null);
  }
  const slot = c.issuerKeyId === null ? -1 : p.rootKeyIds.indexOf(c.issuerKeyId);
  if (slot < 0) {
    return st(null, Reason.BAD_CERTIFICATE, `certificate of key ${key} is issued by ${c.issuerKeyId ?? "?"}, which is not one of the given roots (${p.rootKeyIds.join(", ")})`);
  }
  if (c.subjectKeyId !== s.keyId) return st(null, Reason.BAD_CERTIFICATE, `certificate attached to key ${key} is for key ${c.subjectKeyId ?? "?"}`);
  if ((p.retiredRoots >> slot) & 1) return st(null, Reason.REVOKED_ROOT, `certificate of key ${key} is issued by root slot ${slot} (${c.issuerKeyId}), which is retired`);
  if (c.epoch !== null && c.epoch < p.minEpoch) {
    return st(null, Reason.REVOKED_KEY, `certificate of key ${key} has epoch ${c.epoch}, below the minimum key epoch ${p.minEpoch}`);
  }
  if (p.now !== null) {
    if (c.notBefore !== null && p.now < c.notBefore) return st(null, Reason.EXPIRED_KEY, `certificate of key ${key} is not valid before ${time(c.notBefore)} (trusted time ${time(p.now)})`);
    if (c.notAfter !== null && p.now > c.notAfter) return st(null, Reason.EXPIRED_KEY, `certificate of key ${key} expired at ${time(c.notAfter)} (trusted time ${time(p.now)})`);
  }
  if (c.vendorId !== null && p.vendorId !== null && c.vendorId !== p.vendorId) {
    return st(null, Reason.KEY_NOT_AUTHORIZED, `certificate ${key} allows vendor ${c.vendorId} only, not vendor ${named(p.vendorId, p.vendorName)}`);
  }
  if (c.classIds !== null && p.classId !== null && !c.classIds.includes(p.classId)) {
    return st(null, Reason.KEY_NOT_AUTHORIZED, `certificate ${key} allows classes [${c.classIds.join(", ")}], not class ${named(p.classId, p.className)}`);
  }
  return st(slot, null, null);
}

/** A bundle made for another vendor or class than the device's: the cause behind an unauthorised signer. */
function targetMismatch(m: ManifestView | null, p: DiagnosisPolicy): { reason: number; text: string; expected: string | null; actual: string | null } | null {
  if (m === null) return null;
  if (m.vendorId !== null && p.vendorId !== null && m.vendorId !== p.vendorId) {
    return { reason: Reason.WRONG_VENDOR, text: `WRONG_VENDOR: bundle is for vendor ${m.vendorId}, the device is vendor ${named(p.vendorId, p.vendorName)}`, expected: p.vendorId, actual: m.vendorId };
  }
  if (m.classId !== null && p.classId !== null && m.classId !== p.classId) {
    return { reason: Reason.WRONG_CLASS, text: `WRONG_CLASS: bundle is for class ${m.classId}, the device is class ${named(p.classId, p.className)}`, expected: p.classId, actual: m.classId };
  }
  return null;
}

/** Descriptions of the reasons that need no particulars beyond the chunk. */
const PLAIN: Record<number, string> = {
  [Reason.MALFORMED]: "not a well-formed fwseal bundle (check the file is a bundle, not a draft, certificate or image)",
  [Reason.UNSUPPORTED_VERSION]: "the manifest or a certificate has a format version this verifier does not know (a newer fwseal made it?)",
  [Reason.UNSUPPORTED_ALGORITHM]: "a signature algorithm this device does not verify",
  [Reason.UNSUPPORTED_CRITICAL]: "a field marked critical that this verifier does not understand",
  [Reason.NON_CANONICAL]: "the envelope is not deterministically encoded CBOR (it was re-encoded or edited)",
  [Reason.TOO_LARGE]: "a size limit of the device is exceeded (envelope, chunk size or chunk count)",
  [Reason.UNSUPPORTED_ENCODING]: "the payload encoding (compressed, encrypted or delta) is not supported by this device",
  [Reason.STALE_STATEMENT]: "a root-retirement statement older than one already applied"
};

function diagnosis(reason: number, chunk: number | null, summary: string, expected: string | number | null = null, actual: string | number | null = null, signers: SignerStanding[] | null = null): RejectionDiagnosis {
  return { reason, reasonName: reasonName(reason), chunk, summary, details: { summary, expected, actual, signers, cause: null } };
}

function thresholdSummary(standings: SignerStanding[], p: DiagnosisPolicy): { summary: string; expected: number; actual: number } {
  const counted = standings.filter((s) => s.counted);
  const ids = [...new Set(counted.map((s) => s.keyId))];
  const slots = new Set(counted.map((s) => s.rootSlot));
  const notCounted = standings.filter((s) => !s.counted).map((s) => `${s.keyId ?? "?"}: ${s.why}`);
  const parts = [`counted: ${ids.length > 0 ? ids.join(", ") : "none"}`];
  if (notCounted.length > 0) parts.push(`not counted: ${notCounted.join("; ")}`);
  if (ids.length >= p.threshold && slots.size < p.rootThreshold) {
    return { summary: `the counted signers come through ${slots.size} distinct root(s), the policy needs ${p.rootThreshold} (${parts.join("; ")})`, expected: p.rootThreshold, actual: slots.size };
  }
  const hint = ids.length >= p.threshold ? "; a signature that does not verify is not counted either" : "";
  return { summary: `${ids.length} of ${p.threshold} required signers (${parts.join("; ")}${hint})`, expected: p.threshold, actual: ids.length };
}

/**
 * Explain a rejection (`reason` from the device core, `chunk` null for the envelope):
 * `signers` and `claimed` are the envelope's signers and manifest as decoded without a
 * verdict (null when it could not be decoded), `bytes` how much of the bundle was read.
 */
export function diagnoseRejection(
  reason: number,
  chunk: number | null,
  signers: SignerInfoView[] | null,
  claimed: ManifestView | null,
  policy: DiagnosisPolicy,
  bytes: number
): RejectionDiagnosis {
  const standings = signers ? signers.map((s) => signerStanding(s, policy)) : null;
  const m = claimed;
  switch (reason) {
    case Reason.WRONG_VENDOR:
      return diagnosis(reason, chunk, `bundle is for vendor ${m?.vendorId ?? "?"}, the device is vendor ${named(policy.vendorId, policy.vendorName)}`, policy.vendorId, m?.vendorId ?? null);
    case Reason.WRONG_CLASS:
      return diagnosis(reason, chunk, `bundle is for class ${m?.classId ?? "?"}, the device is class ${named(policy.classId, policy.className)}`, policy.classId, m?.classId ?? null);
    case Reason.ROLLBACK:
      return diagnosis(reason, chunk, `bundle sequence ${m?.sequence ?? "?"} is below the device's minimum sequence ${policy.minSequence}`, policy.minSequence, m?.sequence ?? null);
    case Reason.THRESHOLD_NOT_MET: {
      const t = thresholdSummary(standings ?? [], policy);
      return diagnosis(reason, chunk, t.summary, t.expected, t.actual, standings);
    }
    case Reason.UNKNOWN_KEY:
    case Reason.REVOKED_KEY:
    case Reason.REVOKED_ROOT:
    case Reason.EXPIRED_KEY:
    case Reason.KEY_NOT_AUTHORIZED:
    case Reason.BAD_CERTIFICATE: {
      const s = standings?.find((x) => x.reason === reason);
      const cause = reason === Reason.KEY_NOT_AUTHORIZED ? targetMismatch(m, policy) : null;
      if (cause !== null) {
        const d = diagnosis(reason, chunk, `${cause.text}${s?.why ? ` (the device refused the signer first: ${s.why})` : ""}`, cause.expected, cause.actual, standings);
        d.details.cause = { reason: cause.reason, reasonName: reasonName(cause.reason) };
        return d;
      }
      const why = s?.why ?? (reason === Reason.BAD_CERTIFICATE ? "a delegation certificate is malformed or its signature does not verify under the root that issued it" : "a signer is not trusted under this policy");
      return diagnosis(reason, chunk, why, null, null, standings);
    }
    case Reason.BAD_SIGNATURE: {
      const keys = (signers ?? []).map((s) => s.keyId ?? "?");
      const who = keys.length === 1 ? `the signature of key ${keys[0]}` : `a signature (signers: ${keys.join(", ") || "none"})`;
      return diagnosis(reason, chunk, `${who} does not verify over the envelope: it was modified after signing`, null, null, standings);
    }
    case Reason.CHUNK_HASH_MISMATCH:
      return diagnosis(reason, chunk, `chunk ${chunk ?? "?"} does not hash to the value the signed chain expects: the bundle was modified or corrupted after signing`);
    case Reason.TRUNCATED:
      return diagnosis(reason, chunk, `the bundle ends after ${bytes} bytes, before its last chunk (incomplete download or copy?)`, null, bytes);
    case Reason.TRAILING_DATA:
      return diagnosis(reason, chunk, "bytes follow the last chunk (two files concatenated, or a padded download?)");
    default:
      return diagnosis(reason, chunk, PLAIN[reason] ?? reasonName(reason).toLowerCase().replace(/_/g, " "));
  }
}

/** The diagnosis policy of a library VerifyPolicy and the IDs a verdict was checked against. */
export function diagnosisPolicy(policy: VerifyPolicy, r: Pick<VerifyResult, "checkedVendor" | "checkedClass">): DiagnosisPolicy {
  const nameOf = (v: string | Uint8Array | undefined): string | null => (typeof v === "string" && !isUuidString(v) ? v : null);
  return {
    rootKeyIds: policy.roots.map((k) => keyIdHex(k)),
    retiredRoots: policy.retiredRoots ?? 0,
    vendorId: r.checkedVendor,
    vendorName: nameOf(policy.vendor),
    classId: r.checkedClass,
    className: nameOf(policy.deviceClass),
    minSequence: policy.minSequence ?? 0,
    minEpoch: policy.minEpoch ?? 0,
    threshold: policy.threshold ?? 1,
    rootThreshold: policy.rootThreshold ?? 1,
    now: policy.now === undefined ? Math.floor(Date.now() / 1000) : policy.now
  };
}

/** Explain a rejected verdict of verifyFile/verifyBytes/verifyStream under `policy`. */
export function explainVerdict(r: VerifyResult, policy: VerifyPolicy): RejectionDiagnosis {
  return diagnoseRejection(r.reason, r.chunk, r.signers, r.claimedManifest, diagnosisPolicy(policy, r), r.bytes);
}

/** The one line a rejection prints after "rejected: ": reason, where, and why. */
export function rejectionText(d: RejectionDiagnosis): string {
  return `${d.reasonName}${d.chunk !== null ? ` at chunk ${d.chunk}` : " (envelope)"}: ${d.summary}`;
}

/** A rejected verdict as the error every command reports (code BUNDLE_REJECTED, details attached). */
export function verdictError(r: VerifyResult, policy: VerifyPolicy, what = "rejected"): FwsealError {
  const d = explainVerdict(r, policy);
  return new FwsealError("BUNDLE_REJECTED", `${what}: ${rejectionText(d)}`, {
    exitCode: exitCodeForReason(r.reason),
    reason: r.reason,
    chunk: r.chunk ?? -1, // FwsealError.chunk: -1 for the envelope
    details: d.details
  });
}
