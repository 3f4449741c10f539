// fwseal delegate: a root key signs a delegation certificate for a release key
// (SPEC §5): epoch, optional validity window, optional vendor / class scope.
import { buildCertificate, parseCertificate, type CertBody } from "../../formats/host-only/certificate.js";
import { vendorUuid, classUuid, formatUuid } from "../../formats/host-only/uuid.js";
import { Limits } from "../../formats/device-safe/limits.js";
import { createHash } from "node:crypto";
import { writeFileAtomic } from "../io/atomic-write.js";
import { FwsealError } from "../errors.js";
import { exitCodeForReason } from "../exit-codes.js";
import { Reason, reasonName } from "../../formats/device-safe/reasons.js";
import { keyIdHex } from "./keys.js";
import type { Signer } from "./signer.js";

/** What `fwseal delegate` certifies, and with which root. */
export interface DelegateOptions {
  /** The root key that signs (a LocalSigner, or any Signer: HSM, offline). */
  root: Signer;
  /** The release key's 32-byte public key. */
  subject: Uint8Array;
  /** Key epoch (default 0). */
  epoch?: number;
  /** Seconds since 1970. */
  notBefore?: number;
  notAfter?: number;
  /** Vendor the key may sign for (domain name or UUID). Needed to name classes. */
  vendor?: string;
  /** Device classes the key may sign for (names or UUIDs). */
  classes?: string[];
  /** Where to write the certificate (atomically). Omit to only return the bytes. */
  output?: string;
  /** Replace an existing `output` (default true; the CLI passes its --force). */
  overwrite?: boolean;
  /** The current time, seconds since 1970 (default the host clock): a not-after before it is refused. */
  now?: number;
}

/** The certificate made, and what it says. */
export interface DelegateResult {
  certificate: Uint8Array;
  rootKeyId: string;
  subjectKeyId: string;
  epoch: number;
  notBefore: number | null;
  notAfter: number | null;
  vendorId: string | null;
  classIds: string[] | null;
  output: string | null;
  /** What makes the certificate unbounded (no expiry, any vendor or class); empty when bounded. */
  warnings: string[];
}

const nodeSha256 = (d: Uint8Array): Uint8Array => new Uint8Array(createHash("sha256").update(d).digest());

/** The last second a time can name: 9999-12-31T23:59:59Z (RFC 3339 has four-digit years). */
const LAST_SECOND = 253402300799;

/** An ISO 8601 date, or date and time with an optional zone: the only text Date.parse is given. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * Parse a time: seconds since 1970, or an ISO 8601 date/time ("2027-01-01", "2027-01-01T00:00:00Z").
 * Anything else is refused rather than handed to Date.parse, whose fallback reads "-1" or
 * "5" as a day in 2001; and a time past 9999 is refused before it reaches a certificate.
 */
export function parseTime(s: string, what: string): number {
  const bad = (): FwsealError => new FwsealError("USAGE", `${what}: not a date (use ISO 8601 like 2027-01-01 or seconds since 1970)`);
  let t: number;
  if (/^\d+$/.test(s)) t = Number(s);
  else {
    const ms = ISO_8601.test(s) ? Date.parse(s) : NaN;
    if (Number.isNaN(ms) || ms < 0) throw bad();
    t = Math.floor(ms / 1000);
  }
  if (t > LAST_SECOND) throw new FwsealError("USAGE", `${what}: ${s} is after 9999-12-31T23:59:59Z`);
  return t;
}

/**
 * Why a certificate would be dangerous to make: a root certifying its own key (it gains
 * nothing and hides that the "release" key is the root), or a window that has already ended
 * (every device with a clock says EXPIRED_KEY). Throws USAGE.
 */
function refuseUselessCertificate(opts: DelegateOptions): void {
  if (Buffer.from(opts.subject).equals(Buffer.from(opts.root.publicKey))) {
    throw new FwsealError("USAGE", `the release key is the root key ${keyIdHex(opts.root.publicKey)} itself: a root does not delegate to itself (give the release key's public key)`);
  }
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  if (opts.notAfter !== undefined && opts.notAfter < now) {
    throw new FwsealError("USAGE", `not-after ${isoTime(opts.notAfter)} is in the past: the certificate would be expired from the start`);
  }
}

/**
 * What leaves a certificate unbounded: no expiry, no vendor, no class (one warning line, whose
 * consequence names the scope that is open: a leaked key signs for it until its epoch is revoked).
 */
function unboundedWarnings(body: CertBody): string[] {
  const open: string[] = [];
  let scope = "";
  if (body.notAfter === undefined) open.push("never expires (no --not-after)");
  if (body.vendorId === undefined) {
    open.push("is valid for every vendor (no --vendor)");
    scope = " for every vendor";
  } else if (body.classIds === undefined) {
    open.push("is valid for every device class of the vendor (no --class)");
    scope = " for every device class of the vendor";
  }
  const until = body.notAfter === undefined ? "with no end date, until its epoch is revoked" : "until the certificate expires or its epoch is revoked";
  return open.length === 0 ? [] : [`the certificate ${open.join(" and ")}: if the release key leaks, it signs${scope} ${until}`];
}

function isoTime(t: number): string {
  return new Date(t * 1000).toISOString().replace(".000Z", "Z");
}

/** Certify a release key with a root key (SPEC §5); writes the certificate if `output` is given. */
export async function delegate(opts: DelegateOptions): Promise<DelegateResult> {
  refuseUselessCertificate(opts);
  if (opts.classes && opts.classes.length > 0 && opts.vendor === undefined && !opts.classes.every((c) => /^[0-9a-f-]{36}$/i.test(c))) {
    throw new FwsealError("USAGE", "--class names need --vendor (class IDs are derived from the vendor ID)");
  }
  if (opts.classes && opts.classes.length > Limits.MAX_CERT_CLASSES) throw new FwsealError("USAGE", `at most ${Limits.MAX_CERT_CLASSES} classes`);
  let vendorId: Uint8Array | undefined;
  let classIds: Uint8Array[] | undefined;
  try {
    vendorId = opts.vendor !== undefined ? vendorUuid(opts.vendor) : undefined;
    classIds = opts.classes && opts.classes.length > 0 ? opts.classes.map((c) => classUuid(vendorId ?? new Uint8Array(16), c)) : undefined;
  } catch (e) {
    throw new FwsealError("USAGE", (e as Error).message);
  }
  const body: CertBody = { publicKey: opts.subject, epoch: opts.epoch ?? 0, notBefore: opts.notBefore, notAfter: opts.notAfter, vendorId, classIds };
  let cert: Uint8Array;
  try {
    cert = await buildCertificate(opts.root, body, { sha256: nodeSha256 });
  } catch (e) {
    if (e instanceof FwsealError) throw e;
    throw new FwsealError("USAGE", (e as Error).message);
  }
  if (opts.output !== undefined) await writeFileAtomic(opts.output, cert, { overwrite: opts.overwrite ?? true });
  return {
    certificate: cert,
    rootKeyId: keyIdHex(opts.root.publicKey),
    subjectKeyId: keyIdHex(opts.subject),
    epoch: body.epoch,
    notBefore: body.notBefore ?? null,
    notAfter: body.notAfter ?? null,
    vendorId: vendorId ? formatUuid(vendorId) : null,
    classIds: classIds ? classIds.map(formatUuid) : null,
    output: opts.output ?? null,
    warnings: unboundedWarnings(body)
  };
}

/** Read a certificate file and check it is one (structure only; trust is the verifier's job). */
export function checkCertificateBytes(bytes: Uint8Array, what: string): ReturnType<typeof parseCertificate> {
  try {
    return parseCertificate(bytes);
  } catch (e) {
    throw new FwsealError("KEY_CORRUPT", `${what}: not a fwseal delegation certificate (${(e as Error).message})`);
  }
}

/** What a signed bundle is for: the manifest's vendor and class, and the signing time. */
export interface SigningTarget {
  vendorId: Uint8Array;
  classId: Uint8Array;
  /** Seconds since 1970 (default the host clock); null: no time check. */
  now?: number | null;
  /** The device roots, when known: a key without a certificate must be one of them, a certificate's issuer too. */
  roots?: readonly Uint8Array[];
}

function trustProblem(reason: number, message: string): FwsealError {
  return new FwsealError("BUNDLE_REJECTED", `${message} (${reasonName(reason)})`, { exitCode: exitCodeForReason(reason), reason, chunk: -1 });
}

/**
 * The first reason a device would refuse `signer`'s signature on a bundle for `target`, as
 * a FwsealError (exit code of the reason class), or null: a key without a certificate that
 * is not a known root (UNKNOWN_KEY), a certificate by another root, for another vendor or
 * class (KEY_NOT_AUTHORIZED), outside its validity window (EXPIRED_KEY). A certificate that
 * certifies a different key is thrown at once (KEY_WRONG_TYPE, exit 4): that is a mix-up of
 * files, not a policy question `--force` could answer.
 */
export function signerProblem(signer: { publicKey: Uint8Array; certificate?: Uint8Array }, target: SigningTarget, what = "certificate"): FwsealError | null {
  const kid = keyIdHex(signer.publicKey);
  const rootIds = target.roots?.map((r) => keyIdHex(r));
  if (signer.certificate === undefined) {
    if (rootIds === undefined) {
      return trustProblem(Reason.UNKNOWN_KEY, `key ${kid} has no certificate, so it signs as a root key; give its certificate (--cert), or the device roots (--root) if it is one`);
    }
    if (!rootIds.includes(kid)) return trustProblem(Reason.UNKNOWN_KEY, `key ${kid} has no certificate and is not one of the device roots (${rootIds.join(", ")})`);
    return null;
  }
  const cert = checkCertificateBytes(signer.certificate, what);
  assertCertifies(cert.body.publicKey, signer.publicKey, what);
  const issuer = Buffer.from(cert.issuerKeyId).toString("hex");
  if (rootIds !== undefined && !rootIds.includes(issuer)) {
    return trustProblem(Reason.UNKNOWN_KEY, `${what}: issued by ${issuer}, which is not one of the device roots (${rootIds.join(", ")})`);
  }
  const b = cert.body;
  if (b.vendorId !== undefined && !Buffer.from(b.vendorId).equals(Buffer.from(target.vendorId))) {
    return trustProblem(Reason.KEY_NOT_AUTHORIZED, `${what}: limited to vendor ${formatUuid(b.vendorId)}, the bundle is for vendor ${formatUuid(target.vendorId)}`);
  }
  if (b.classIds !== undefined && !b.classIds.some((c) => Buffer.from(c).equals(Buffer.from(target.classId)))) {
    return trustProblem(Reason.KEY_NOT_AUTHORIZED, `${what}: limited to class(es) ${b.classIds.map(formatUuid).join(", ")}, the bundle is for class ${formatUuid(target.classId)}`);
  }
  const now = target.now === undefined ? Math.floor(Date.now() / 1000) : target.now;
  if (now !== null && b.notBefore !== undefined && now < b.notBefore) return trustProblem(Reason.EXPIRED_KEY, `${what}: not valid before ${isoTime(b.notBefore)}`);
  if (now !== null && b.notAfter !== undefined && now > b.notAfter) return trustProblem(Reason.EXPIRED_KEY, `${what}: expired at ${isoTime(b.notAfter)}`);
  return null;
}

/** Throws KEY_WRONG_TYPE (exit 4) unless the certificate's subject is `publicKey`. */
export function assertCertifies(subject: Uint8Array, publicKey: Uint8Array, what: string): void {
  if (!Buffer.from(subject).equals(Buffer.from(publicKey))) {
    throw new FwsealError("KEY_WRONG_TYPE", `${what}: certifies key ${keyIdHex(subject)}, not the signing key ${keyIdHex(publicKey)}`);
  }
}
