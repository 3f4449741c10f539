// fwseal delegate: a root key signs a delegation certificate for a release key
// (SPEC §5): epoch, optional validity window, optional vendor / class scope.
import { buildCertificate, parseCertificate, type CertBody } from "../../formats/host-only/certificate.js";
import { vendorUuid, classUuid, formatUuid } from "../../formats/host-only/uuid.js";
import { Limits } from "../../formats/device-safe/limits.js";
import { createHash } from "node:crypto";
import { writeFileAtomic } from "../io/atomic-write.js";
import { FwsealError } from "../errors.js";
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
}

const nodeSha256 = (d: Uint8Array): Uint8Array => new Uint8Array(createHash("sha256").update(d).digest());

/** Parse a time: seconds since 1970, or an ISO 8601 date/time ("2027-01-01", "2027-01-01T00:00:00Z"). */
export function parseTime(s: string, what: string): number {
  if (/^\d+$/.test(s)) return Number(s);
  const ms = Date.parse(s);
  if (Number.isNaN(ms) || ms < 0) throw new FwsealError("USAGE", `${what}: not a date (use ISO 8601 like 2027-01-01 or seconds since 1970)`);
  return Math.floor(ms / 1000);
}

/** Certify a release key with a root key (SPEC §5); writes the certificate if `output` is given. */
export async function delegate(opts: DelegateOptions): Promise<DelegateResult> {
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
  if (opts.output !== undefined) await writeFileAtomic(opts.output, cert);
  return {
    certificate: cert,
    rootKeyId: keyIdHex(opts.root.publicKey),
    subjectKeyId: keyIdHex(opts.subject),
    epoch: body.epoch,
    notBefore: body.notBefore ?? null,
    notAfter: body.notAfter ?? null,
    vendorId: vendorId ? formatUuid(vendorId) : null,
    classIds: classIds ? classIds.map(formatUuid) : null,
    output: opts.output ?? null
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
