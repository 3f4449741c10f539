// Signing-side checks: refuse to write a bundle no device would accept. Before signing,
// each signer's certificate is checked against its key, the bundle's vendor and class, and
// the current time; given the device roots, the finished bundle's envelope is verified by
// the device core's verifier (host/bundle/verify.ts) before it is moved into place. `force` turns a
// refusal into a warning (the bundle is written anyway).
import { verdictError } from "./rejection-diagnosis.js";
import { signerProblem } from "../keys/delegate.js";
import type { FwsealError } from "../errors.js";
import { verifyEnvelopeFile } from "./verify.js";

/** What a release is checked against before it is written. */
export interface ReleaseCheckOptions {
  /** The device roots in slot order: cert-less signers must be among them, and the bundle must verify under them. */
  roots?: Uint8Array[];
  /** Refuse a signer without a certificate unless `roots` name it (it signs as a root; the CLI sets this). */
  requireRoots?: boolean;
  /** Write anyway; each refusal becomes a warning. */
  force?: boolean;
  /** Signing time for certificate windows, seconds since 1970 (default the host clock; null: not checked). */
  now?: number | null;
}

/** The vendor and class a bundle is for. */
export interface ReleaseTarget {
  vendorId: Uint8Array;
  classId: Uint8Array;
}

function refuseOrWarn(problem: FwsealError | null, force: boolean | undefined, warnings: string[]): void {
  if (problem === null) return;
  if (!force) throw problem;
  warnings.push(`${problem.message} (written anyway: --force)`);
}

/**
 * Check every signer as a device would before any signature is made: a certificate must
 * certify its key (always thrown, exit 4), cover the vendor and class and be valid now; with
 * roots, a key without a certificate must be a root and a certificate's issuer too. Returns
 * the warnings `force` let through.
 */
export function checkReleaseSigners(signers: readonly { publicKey: Uint8Array; certificate?: Uint8Array }[], target: ReleaseTarget, opts: ReleaseCheckOptions): string[] {
  const warnings: string[] = [];
  signers.forEach((s, i) => {
    if (s.certificate === undefined && opts.roots === undefined && !opts.requireRoots) return; // a root key, as far as we can tell
    const what = signers.length > 1 ? `certificate of signer ${i + 1}` : "certificate";
    refuseOrWarn(signerProblem(s, { ...target, now: opts.now, roots: opts.roots }, what), opts.force, warnings);
  });
  return warnings;
}

/**
 * Verify the envelope of the finished (not yet committed) bundle at `path` under the device
 * roots, with the bundle's vendor and class and the signing time: the verdict a device with
 * those roots would give. The chunks are not read again: pack wrote them from the hashes the
 * manifest commits to, so a second hashing pass over the image (as long as packing itself)
 * could only find a fault in the disk. Without roots there is nothing to check. Returns the
 * warnings `force` let through.
 */
export async function checkBundleBeforeWrite(path: string, target: ReleaseTarget, opts: ReleaseCheckOptions): Promise<string[]> {
  if (opts.roots === undefined) return [];
  const policy = { roots: opts.roots, vendor: target.vendorId, deviceClass: target.classId, now: opts.now };
  const v = await verifyEnvelopeFile(path, policy);
  const warnings: string[] = [];
  refuseOrWarn(v.valid ? null : verdictError(v, policy, "no device with the given roots would accept this bundle"), opts.force, warnings);
  return warnings;
}
