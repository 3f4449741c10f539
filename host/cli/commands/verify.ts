// fwseal verify: the device's verdict on a bundle, computed on the host with the device
// core's own verifier. Exit 0 only when valid; otherwise the exit code of the failure class
// and one line naming the reason and where.
import type { CommandModule } from "yargs";
import { ANY, verifyFile, verifyStream, type VerifyPolicy, type VerifyResult } from "../../bundle/verify.js";
import { loadRoots, asList, parseUint, retiredMask, algorithmMask } from "../key-options.js";
import { parseTime } from "../../keys/delegate.js";
import { out, err, setExitCode, progressBar } from "../output.js";
import * as fsp from "node:fs/promises";
import { keyIdHex } from "../../keys/keys.js";
import { verdictError } from "../../bundle/rejection-diagnosis.js";
import { outDocument, outFailure, verdictDoc } from "../json-document.js";
import { isUuidString } from "../../../formats/host-only/uuid.js";
import { stdinPath } from "../stdio-paths.js";
import { refuseDraft } from "../draft-notice.js";
import { logPolicyFromArgs } from "../log-keys.js";
import { PayloadEncoding } from "../../../formats/device-safe/labels.js";
import { codecName } from "../../../formats/host-only/encoding-params.js";
import { loadPrecursor } from "../../bundle/precursor.js";
import { VerifiedImageDigest } from "../../bundle/verified-image-digest.js";
import { Limits } from "../../../formats/device-safe/limits.js";
import { FwsealError } from "../../errors.js";

export interface PolicyArgs {
  root: string | string[];
  "retired-slot"?: number[];
  vendor?: string;
  class?: string;
  "min-seq"?: number;
  "min-epoch"?: number;
  threshold?: number;
  "root-threshold"?: number;
  "require-alg"?: string[];
  now?: string;
  time?: boolean;
  "log-key"?: string[];
  "witness-key"?: string[];
  "witness-quorum"?: number;
  precursor?: string;
  "max-window-bits"?: number;
}

interface Args extends PolicyArgs {
  bundle: string;
  json?: boolean;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function policyOptions(y: any): any {
  return y
    .option("root", { alias: "r", type: "string", array: true, demandOption: true, description: "Root public key(s) (.pub / .key / hex), in device slot order" })
    .option("retired-slot", { type: "number", array: true, description: "Root slot(s) marked retired on the device" })
    .option("vendor", { type: "string", description: "Device vendor (domain or UUID); default: not checked" })
    .option("class", { type: "string", description: "Device class (name or UUID); default: not checked" })
    .option("min-seq", { type: "number", default: 0, description: "Device minimum sequence (rollback check)" })
    .option("min-epoch", { type: "number", default: 0, description: "Device minimum key epoch" })
    .option("threshold", { type: "number", default: 1, description: "Distinct authorised signers (keys) required (k of n)" })
    .option("root-threshold", { type: "number", default: 1, description: "Distinct roots those signers must come through (2 = two-person rule when roots have different custodians)" })
    .option("require-alg", { type: "string", array: true, description: "Hybrid policy: the counted signers must include each of these algorithms (ed25519, hss-lms)" })
    .option("now", { type: "string", description: "Trusted time for certificate windows (ISO 8601 / seconds); default the host clock" })
    .option("time", { type: "boolean", default: true, description: "Check certificate validity windows; --no-time verifies as a device without a trusted clock" })
    .option("log-key", { type: "string", array: true, description: "Require a transparency-log proof from this log (its vkey, string or file)" })
    .option("witness-key", { type: "string", array: true, description: "A trusted witness's cosignature vkey (string or file)" })
    .option("witness-quorum", { type: "number", default: 0, description: "Valid cosignatures by distinct trusted witnesses required" })
    .option("precursor", { type: "string", description: "A delta payload's precursor (the bundle, raw or compressed, or the image devices run): the delta is checked against it, decoded and its result checked" })
    .option("max-window-bits", { type: "number", description: "Compressed/delta payloads: the largest deflate window (bits) the device decodes (default 15; 0: no decoder)" });
}

/** --max-window-bits as device-sim and espruino take it: 9..15, or 0 for a device without a decoder. */
function windowBits(v: number): number {
  const n = parseUint(v, "--max-window-bits") as number;
  if (n !== 0 && (n < Limits.MIN_WINDOW_BITS || n > Limits.MAX_WINDOW_BITS)) throw new FwsealError("USAGE", `--max-window-bits ${n}: ${Limits.MIN_WINDOW_BITS}..${Limits.MAX_WINDOW_BITS}, or 0 for a device without a decoder`);
  return n;
}

export async function policyFromArgs(a: PolicyArgs): Promise<VerifyPolicy> {
  // Checked here, not only by the verifier: finalize raises a threshold below the draft's own, which hid --threshold 0.
  const threshold = parseUint(a.threshold, "--threshold");
  if (threshold !== undefined && (threshold < 1 || threshold > Limits.MAX_SIGNERS)) throw new FwsealError("USAGE", `--threshold ${threshold}: must be 1..${Limits.MAX_SIGNERS}`);
  const roots = await loadRoots(asList(a.root));
  return {
    roots,
    retiredRoots: retiredMask(a["retired-slot"], roots.length),
    vendor: a.vendor ?? ANY, // explicit: without --vendor / --class, any (shown as "not checked")
    deviceClass: a.class ?? ANY,
    minSequence: parseUint(a["min-seq"], "--min-seq"),
    minEpoch: parseUint(a["min-epoch"], "--min-epoch"),
    threshold,
    rootThreshold: parseUint(a["root-threshold"], "--root-threshold"),
    requiredAlgorithms: algorithmMask(a["require-alg"], "--require-alg"),
    now: a.time === false ? null : a.now !== undefined ? parseTime(a.now, "--now") : undefined,
    ...(a.precursor !== undefined ? { precursor: await loadPrecursor(a.precursor) } : {}),
    ...(a["max-window-bits"] !== undefined ? { maxWindowBits: windowBits(a["max-window-bits"]) } : {}),
    ...logPolicyFromArgs(a)
  };
}

/** A rejected verdict: one line on stderr (reason, where, why), the failure document with --json, the exit code. */
export function reportRejection(r: VerifyResult, policy: VerifyPolicy, file: string, json: boolean | undefined): void {
  const e = verdictError(r, policy);
  if (json) outFailure(e, { file, ...verdictDoc(r) });
  err(`fwseal: ${e.message}`);
  setExitCode(e.exitCode);
}

/** The vendor and class names a policy gave (null when given as UUIDs or not at all), for documents. */
export function policyNames(a: { vendor?: string; class?: string }): { vendorName: string | null; className: string | null } {
  const nameOf = (v: string | undefined): string | null => (v !== undefined && !isUuidString(v) ? v : null);
  return { vendorName: nameOf(a.vendor), className: nameOf(a.class) };
}

/**
 * `rootKeyIds`: key IDs of the policy's roots, in slot order. A signer that is neither a
 * root nor delegated by one did not count towards the threshold: say so, rather than
 * calling it a root key.
 */
export function printValid(r: VerifyResult, file: string, rootKeyIds?: string[], imageSha256?: string, names?: { vendorName: string | null; className: string | null }): void {
  const m = r.manifest;
  out(`${file}: OK`);
  if (m) {
    out(`  version ${m.version}, sequence ${m.sequence}, ${m.chunkCount} chunks of ${m.chunkSize} bytes, image ${m.imageSize} bytes`);
    out(`  vendor ${m.vendorId}${names?.vendorName ? ` (${names.vendorName})` : ""}${r.vendorFromPolicy ? "" : " (not checked: no --vendor)"}`);
    out(`  class  ${m.classId}${names?.className ? ` (${names.className})` : ""}${r.classFromPolicy ? "" : " (not checked: no --class)"}`);
    if (imageSha256) out(`  image SHA-256 ${imageSha256}`);
    const e = m.encodedPayload;
    if (e !== null) {
      const kind = e.encoding === PayloadEncoding.DELTA ? "delta" : "compressed";
      out(`  payload ${kind}, ${e.wireSize} bytes on the wire (${codecName(e.codec)}${e.windowBits !== null ? `, window ${e.windowBits} bits` : ""}): ${e.resultChecked ? "decoded, and the image matches the manifest" : "result NOT checked (give --precursor to decode the delta)"}`);
    }
  }
  for (const s of r.signers ?? []) {
    const c = s.certificate;
    const known = (id: string | null): boolean => rootKeyIds === undefined || (id !== null && rootKeyIds.includes(id));
    const what = c
      ? `delegated by root ${c.issuerKeyId ?? "?"}, epoch ${c.epoch ?? "?"}${known(c.issuerKeyId) ? "" : " (not one of the given roots: not counted)"}`
      : known(s.keyId) ? "root key" : "not one of the given roots: not counted";
    out(`  signer ${s.keyId ?? "?"}: ${what}${s.alg ? ` (${s.alg})` : ""}`);
  }
}

const command: CommandModule<object, Args> = {
  command: "verify <bundle>",
  describe: "Verify a bundle exactly as a device would (exit 0 only if valid)",
  builder: (y) =>
    policyOptions(
      y
        .positional("bundle", { type: "string", demandOption: true, description: "Bundle file, or - for stdin (streamed)" })
        .example("$0 verify fw.fwb --root root.pub --vendor acme.example --class sensor-v3 --min-seq 41", "as a sensor-v3 that runs sequence 41")
        .example("curl -s https://updates.example/fw.fwb | $0 verify - -r root.pub", "verify while downloading")
        .example("$0 verify fw.fwb -r root.pub --threshold 2 --json", "2-of-n policy, JSON verdict")
        .example("$0 verify fw.fwb -r r0.pub -r r1.pub --threshold 2 --root-threshold 2", "two signers through two different roots")
    ) as never,
  handler: async (a) => {
    const policy = await policyFromArgs(a);
    a.bundle = stdinPath(a.bundle);
    if (a.bundle !== "-") await refuseDraft(a.bundle);
    let total = 0;
    try {
      total = a.bundle === "-" ? 0 : (await fsp.stat(a.bundle)).size;
    } catch {
      total = 0; // verifyFile reports the missing file
    }
    const bar = a.json ? { update: () => undefined, finish: () => undefined } : progressBar("verifying", total);
    let r: VerifyResult;
    const image = await VerifiedImageDigest.start(a.bundle, { size: total });
    const hooks = { onProgress: (d: number) => bar.update(d), ...image.hooks };
    try {
      r = a.bundle === "-" ? await verifyStream(process.stdin, policy, hooks) : await verifyFile(a.bundle, policy, hooks);
    } catch (e) {
      await image.cancel();
      throw e;
    } finally {
      bar.finish();
    }
    if (!r.valid) {
      await image.cancel();
      return reportRejection(r, policy, a.bundle, a.json);
    }
    const imageSha256 = await image.result(r);
    const names = policyNames(a);
    if (a.json) outDocument({ file: a.bundle, ...verdictDoc(r), imageSha256, ...names });
    else printValid(r, a.bundle, policy.roots.map((k) => keyIdHex(k)), imageSha256 ?? undefined, names);
  }
};
export default command;
