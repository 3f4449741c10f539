// A draft (fwseal pack --unsigned) given where a bundle is expected: inspect, verify and
// flash say it is a draft, how many signatures it has and which are missing, and what to
// run next, instead of calling it malformed.
import * as fsp from "node:fs/promises";
import { readDraft, type Draft } from "../bundle/drafts.js";
import { startsWithDraftMagic } from "../../formats/host-only/draft.js";
import { Reason } from "../../formats/device-safe/reasons.js";
import { FwsealError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { signerIdDoc } from "./json-document.js";

/** True when the file at `path` is a draft (false when it is not, or cannot be read: the caller reports that). */
export async function isDraftFile(path: string): Promise<boolean> {
  let fh: fsp.FileHandle | null = null;
  try {
    fh = await fsp.open(path, "r");
    const head = Buffer.alloc(32);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return startsWithDraftMagic(head.subarray(0, bytesRead));
  } catch {
    return false;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** A draft's signing status: signatures present, required, and the allowed signers still missing. */
export function draftStatus(d: Draft): { signatures: string[]; required: number; missing: string[] | null } {
  const have = d.signatures.map((s) => s.keyId);
  const required = d.policy.threshold ?? 1;
  const missing = d.policy.signers ? d.policy.signers.filter((k) => !have.includes(k)) : null;
  return { signatures: have, required, missing };
}

/** A draft in a document (sign, attach-signature, inspect): manifest, signers as objects, what is missing, its policy. */
export function draftDoc(d: Draft): Record<string, unknown> {
  const s = draftStatus(d);
  return {
    manifest: d.manifest,
    signers: d.signatures.map((x) => signerIdDoc(x.keyId, x.certificate !== undefined)),
    required: s.required,
    missing: s.missing,
    policy: { threshold: d.policy.threshold ?? null, signers: d.policy.signers ?? null }
  };
}

/** One sentence on a draft's status, e.g. "a draft with 1 of 2 required signatures (signed: a; missing: b, c)". */
export function draftStatusText(d: Draft): string {
  const s = draftStatus(d);
  const parts = [`signed: ${s.signatures.length > 0 ? s.signatures.join(", ") : "none"}`];
  if (s.missing !== null) parts.push(`not yet signed by: ${s.missing.length > 0 ? s.missing.join(", ") : "none"}`);
  else if (s.signatures.length < s.required) parts.push(`${s.required - s.signatures.length} more signature(s) from any trusted key`);
  return `a draft with ${s.signatures.length} of ${s.required} required signature(s) (${parts.join("; ")})`;
}

/** The refusal verify and flash give a draft: it is not a bundle until fwseal finalize makes one. */
export async function refuseDraft(path: string): Promise<void> {
  if (!(await isDraftFile(path))) return;
  const d = await readDraft(path);
  const s = draftStatus(d);
  const next = s.signatures.length < s.required ? `add signatures with fwseal sign ${path} --in-place --key <key>, then ` : "";
  throw new FwsealError("BUNDLE_REJECTED", `${path} is ${draftStatusText(d)}, not a bundle: ${next}run fwseal finalize ${path} --root <root> -o <bundle>`, {
    exitCode: ExitCode.BUNDLE_MALFORMED,
    reason: Reason.MALFORMED,
    chunk: -1,
    details: { summary: "draft, not a bundle", expected: "bundle", actual: "draft", draft: { signatures: s.signatures, required: s.required, missing: s.missing } }
  });
}
