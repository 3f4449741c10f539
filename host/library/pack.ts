// The library's pack, createDraft and signDraft: the bundle code the CLI runs, with the
// library's defaults (an existing output is refused unless `overwrite`) and the same audit
// record the CLI writes when the caller names a log (the library never reads FWSEAL_AUDIT_LOG).
import { pack as packWith, type PackOptions as PackFields, type PackResult } from "../bundle/pack.js";
import { addSignature as addSignatureWith, createDraft as createDraftWith, signDraft as signDraftWith, type AddSignatureResult, type DraftOptions, type DraftResult } from "../bundle/drafts.js";
import { appendSigningRecord, preflightAuditLog } from "../audit/audit-log.js";
import { packRecordSummary, signRecordSummary } from "../audit/signing-records.js";
import { keySourceOf } from "../keys/signer-loader.js";
import type { Signer } from "../keys/signer.js";
import { libraryText, withLibraryWords } from "./wording.js";
import { checkBytes, checkId, checkOptions, checkRoots, checkSigner, checkSigners, checkString } from "./arguments.js";

/** Where signing operations are recorded: a hash-chained audit log and the operator's name. */
export interface AuditTarget {
  /** The audit log file (created if absent; refused if its history does not verify). */
  log: string;
  /** Operator name for the record (default the user running the process). */
  operator?: string;
}

/** Options of the library's pack. */
export interface PackOptions extends Omit<PackFields, "sequenceLog"> {
  /** Replace an existing output file (default false: FwsealError OUTPUT_EXISTS). */
  overwrite?: boolean;
  /**
   * Record the release in this audit log, as `fwseal pack --audit` does: the log is checked
   * before signing, a sequence it records for another image is refused (unless `force`), and
   * a record is appended after the bundle is written.
   */
  audit?: AuditTarget;
}

/** Signs an image into a bundle file (written atomically); throws FwsealError (input, key, output, audit problems, ABORTED). */
export async function pack(opts: PackOptions): Promise<PackResult> {
  checkOptions("pack", "options", opts);
  checkString("pack", "image", opts.image);
  checkString("pack", "output", opts.output);
  checkSigners("pack", "signers", opts.signers);
  checkBundleFields("pack", opts);
  checkRoots("pack", "roots", opts.roots, true);
  return withLibraryWords(() => packAndRecord(opts));
}

async function packAndRecord(opts: PackOptions): Promise<PackResult> {
  const { audit, ...fields } = opts;
  if (audit) await preflightAuditLog(audit.log);
  const r = await packWith({ ...fields, overwrite: opts.overwrite ?? false, sequenceLog: audit && !opts.force ? audit.log : undefined });
  if (audit) {
    await appendSigningRecord(audit.log, {
      op: "pack", keyIds: r.signerKeyIds, keySource: keySourceOf(opts.signers), operator: audit.operator,
      summary: packRecordSummary(r, { version: opts.version, sequence: opts.sequence, keyEpochFloor: opts.keyEpochFloor })
    }, r.output);
  }
  return { ...r, warnings: r.warnings.map(libraryText) };
}

/** What a bundle says of itself, as pack and createDraft take it: vendor, class, version (sequence is checked with the manifest). */
function checkBundleFields(fn: string, opts: { vendor: unknown; deviceClass: unknown; version: unknown }): void {
  checkId(fn, "vendor", opts.vendor);
  checkId(fn, "deviceClass", opts.deviceClass);
  checkString(fn, "version", opts.version);
}

/** Writes an unsigned draft for offline signers (an existing output refused unless `overwrite`). */
export async function createDraft(opts: DraftOptions): Promise<DraftResult> {
  checkOptions("createDraft", "options", opts);
  checkString("createDraft", "image", opts.image);
  checkString("createDraft", "output", opts.output);
  checkBundleFields("createDraft", opts);
  return withLibraryWords(() => createDraftWith({ ...opts, overwrite: opts.overwrite ?? false }));
}

/** Options of the library's signDraft. */
export interface SignDraftOptions {
  /** Write the signed draft here instead of updating the draft in place. */
  output?: string;
  /** Replace an existing `output` (default false). */
  overwrite?: boolean;
  /** Sign even with a certificate a device would refuse for this draft (a warning in the result). */
  force?: boolean;
  /** Record the signature in this audit log, as `fwseal sign --audit` does. */
  audit?: AuditTarget;
}

/** Signs a draft with a signer and adds the signature; throws FwsealError if the key may not or already did sign. */
export async function signDraft(draftPath: string, signer: Signer, opts: SignDraftOptions = {}): Promise<AddSignatureResult> {
  checkString("signDraft", "draftPath", draftPath);
  checkSigner("signDraft", "signer", signer);
  checkOptions("signDraft", "options", opts);
  checkString("signDraft", "output", opts.output, true);
  return withLibraryWords(() => signAndRecord(draftPath, signer, opts));
}

async function signAndRecord(draftPath: string, signer: Signer, opts: SignDraftOptions): Promise<AddSignatureResult> {
  if (opts.audit) await preflightAuditLog(opts.audit.log);
  const r = await signDraftWith(draftPath, signer, { output: opts.output, overwrite: opts.overwrite ?? false, force: opts.force });
  if (opts.audit) {
    await appendSigningRecord(opts.audit.log, { op: "sign", keyIds: [r.keyId], keySource: keySourceOf([signer]), operator: opts.audit.operator, summary: signRecordSummary(r) }, r.output);
  }
  return r;
}

/** Options of the library's addSignature. */
export interface AddSignatureOptions {
  /** Write the signed draft here instead of updating the draft in place. */
  output?: string;
  /** Replace an existing `output` (default false). */
  overwrite?: boolean;
  /** Add it even with a certificate a device would refuse for this draft (a warning in the result). */
  force?: boolean;
}

/**
 * Adds a signature made elsewhere (an HSM, openssl) to a draft after checking it; an existing
 * `output` is refused unless `overwrite`, as for signDraft.
 */
export async function addSignature(
  draftPath: string,
  sig: { publicKey: Uint8Array; signature: Uint8Array; certificate?: Uint8Array },
  opts: AddSignatureOptions = {}
): Promise<AddSignatureResult> {
  checkString("addSignature", "draftPath", draftPath);
  checkOptions("addSignature", "signature", sig);
  checkBytes("addSignature", "signature.publicKey", sig.publicKey);
  checkBytes("addSignature", "signature.signature", sig.signature);
  if (sig.certificate !== undefined) checkBytes("addSignature", "signature.certificate", sig.certificate, " (read the file with readFile)");
  checkOptions("addSignature", "options", opts);
  checkString("addSignature", "output", opts.output, true);
  return withLibraryWords(async () => {
    const r = await addSignatureWith(draftPath, sig, { output: opts.output, overwrite: opts.overwrite ?? false, force: opts.force });
    return { ...r, warnings: r.warnings.map(libraryText) };
  });
}
