// The library's verify functions: the same verifier as the CLI, but the caller must say
// which vendor and device class it expects, or pass ANY for either. Verifying "whatever the
// bundle claims" is then a visible choice in the caller's code, never a default.
import {
  ANY, verifyBytes as verifyBytesWith, verifyFile as verifyFileWith, verifyStream as verifyStreamWith,
  type VerifyHooks, type VerifyPolicy as PolicyFields, type VerifyResult
} from "../bundle/verify.js";
import { FwsealError } from "../errors.js";
import { extract as extractWith, type ExtractOptions as ExtractFields } from "../bundle/extract.js";
import { verdictError } from "../bundle/rejection-diagnosis.js";
import { finalizeDraft as finalizeWith, type FinalizeOptions as FinalizeFields, type FinalizeResult } from "../bundle/drafts.js";
import { libraryText, withLibraryWords } from "./wording.js";
import { checkBytes, checkHooks, checkOptions, checkPolicy, checkString } from "./arguments.js";

/** What a device trusts and enforces; `vendor` and `deviceClass` are required (a value, or ANY). */
export interface VerifyPolicy extends PolicyFields {
  /** Expected vendor (domain name, UUID string or 16 bytes), or ANY. */
  vendor: string | Uint8Array;
  /** Expected device class (name, UUID string or 16 bytes), or ANY. */
  deviceClass: string | Uint8Array;
}

/** Throws FwsealError USAGE when the policy leaves vendor or deviceClass out. */
function explicit<P extends { vendor?: unknown; deviceClass?: unknown }>(policy: P): P {
  for (const [field, v] of [["vendor", policy?.vendor], ["deviceClass", policy?.deviceClass]] as const) {
    if (v === undefined || v === null) {
      throw new FwsealError("USAGE", `verify policy: ${field} is required: the expected ${field === "vendor" ? "vendor (domain name or UUID)" : "device class (name or UUID)"}, or ANY to accept any`);
    }
  }
  return policy;
}

/** The policy (vendor and deviceClass given, roots as bytes) and hooks of a verify function, or FwsealError USAGE. */
function checkVerifyArguments(fn: string, policy: VerifyPolicy, hooks: VerifyHooks): void {
  explicit(policy);
  checkPolicy(fn, "policy", policy);
  checkHooks(fn, hooks);
}

/** Verifies the bundle file at `path` as a device would; rejections are results, not throws. */
export async function verifyFile(path: string, policy: VerifyPolicy, hooks: VerifyHooks = {}): Promise<VerifyResult> {
  checkString("verifyFile", "path", path);
  checkVerifyArguments("verifyFile", policy, hooks);
  return verifyFileWith(path, policy, hooks);
}

/** Verifies a bundle arriving as a stream (a Node Readable or any async iterable of bytes), as it arrives. */
export async function verifyStream(stream: AsyncIterable<Uint8Array | string>, policy: VerifyPolicy, hooks: VerifyHooks = {}): Promise<VerifyResult> {
  if (typeof (stream as { [Symbol.asyncIterator]?: unknown } | null | undefined)?.[Symbol.asyncIterator] !== "function") {
    throw new FwsealError("USAGE", "verifyStream: stream must be a Node Readable (an HTTP request, a file stream) or an async iterable of Uint8Array");
  }
  checkVerifyArguments("verifyStream", policy, hooks);
  return verifyStreamWith(stream, policy, hooks);
}

/** Verifies a bundle held in memory. */
export async function verifyBytes(bundle: Uint8Array, policy: VerifyPolicy, hooks: VerifyHooks = {}): Promise<VerifyResult> {
  checkBytes("verifyBytes", "bundle", bundle);
  checkVerifyArguments("verifyBytes", policy, hooks);
  return verifyBytesWith(bundle, policy, hooks);
}

/** Options of extract: the policy's vendor and deviceClass are required (a value, or ANY). */
export interface ExtractOptions extends ExtractFields {
  policy: VerifyPolicy;
}

/** What extract resolves to: the verdict (always valid: a rejection throws) and the image written. */
export interface ExtractResult extends VerifyResult {
  /** The image file written. */
  output: string;
}

/**
 * Verifies a bundle and writes its image only if it is valid (an existing output refused
 * unless overwrite). A rejected bundle throws the CLI's error, BUNDLE_REJECTED with the
 * reason, chunk and details, so a caller cannot take a missing image for a written one.
 */
export async function extract(opts: ExtractOptions): Promise<ExtractResult> {
  checkOptions("extract", "options", opts);
  checkString("extract", "bundle", opts.bundle);
  checkString("extract", "output", opts.output);
  explicit(opts.policy);
  checkPolicy("extract", "policy", opts.policy);
  return withLibraryWords(async () => {
    const r = await extractWith({ ...opts, overwrite: opts.overwrite ?? false });
    if (!r.valid || r.output === null) throw verdictError(r, opts.policy);
    return { ...r, output: r.output };
  });
}

/** Options of finalizeDraft: the policy's vendor and deviceClass are required (a value, or ANY). */
export interface FinalizeOptions extends FinalizeFields {
  policy: Omit<VerifyPolicy, "threshold">;
}

/** Builds the bundle from a signed draft, verifies it under the policy, then writes it (an existing output refused unless overwrite). */
export async function finalizeDraft(draftPath: string, opts: FinalizeOptions): Promise<FinalizeResult> {
  checkString("finalizeDraft", "draftPath", draftPath);
  checkOptions("finalizeDraft", "options", opts);
  checkString("finalizeDraft", "output", opts.output);
  explicit(opts.policy);
  checkPolicy("finalizeDraft", "policy", opts.policy);
  return withLibraryWords(async () => {
    const r = await finalizeWith(draftPath, { ...opts, overwrite: opts.overwrite ?? false });
    return { ...r, warnings: r.warnings.map(libraryText) };
  });
}

export { ANY };
