// The library's front door checks what a JavaScript caller (or a TypeScript cast) can get
// wrong before any work starts: a missing option or a value of the wrong type is one
// FwsealError USAGE naming the function and the option, never a TypeError from deep inside
// or a verdict on a policy nobody meant (a vendor given as a number).
import { FwsealError } from "../errors.js";

/** How a wrong value is named in a message: its type, never its contents (it may be a secret). */
function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (v instanceof ArrayBuffer) return "an ArrayBuffer (wrap it: new Uint8Array(buffer))";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

function usage(fn: string, message: string): never {
  throw new FwsealError("USAGE", `${fn}: ${message}`);
}

/** `v` is a plain options object (not null, not an array). */
export function checkOptions(fn: string, name: string, v: unknown, optional = false): void {
  if (optional && v === undefined) return;
  if (typeof v !== "object" || v === null || Array.isArray(v)) usage(fn, `${name} must be an object, not ${v === undefined ? "missing" : kindOf(v)}`);
}

/** `v` is a non-empty string (a path, a name, a version). */
export function checkString(fn: string, name: string, v: unknown, optional = false): void {
  if (optional && v === undefined) return;
  if (typeof v !== "string" || v.length === 0) usage(fn, `${name} must be a non-empty string, not ${v === undefined ? "missing" : kindOf(v)}`);
}

/** `v` is bytes (a Uint8Array or Buffer). */
export function checkBytes(fn: string, name: string, v: unknown, hint = ""): void {
  if (!(v instanceof Uint8Array)) usage(fn, `${name} must be a Uint8Array, not ${v === undefined ? "missing" : kindOf(v)}${hint}`);
}

/** A vendor or device class: a name, a UUID string or 16 bytes. */
export function checkId(fn: string, name: string, v: unknown, optional = false): void {
  if (optional && v === undefined) return;
  if (!(typeof v === "string" || v instanceof Uint8Array)) usage(fn, `${name} must be a name, a UUID string or 16 bytes, not ${v === undefined ? "missing" : kindOf(v)}`);
}

/** `v` is a function, if given. */
export function checkFunction(fn: string, name: string, v: unknown): void {
  if (v !== undefined && typeof v !== "function") usage(fn, `${name} must be a function, not ${kindOf(v)}`);
}

/** A Signer: its public key and sign() (loadSigner and withCertificate make them). */
export function checkSigner(fn: string, name: string, v: unknown): void {
  const s = v as { publicKey?: unknown; sign?: unknown } | null | undefined;
  if (typeof s !== "object" || s === null || !(s.publicKey instanceof Uint8Array) || typeof s.sign !== "function") {
    usage(fn, `${name} must be a signer (from loadSigner), not ${v === undefined ? "missing" : kindOf(v)}`);
  }
}

/** A non-empty array of signers. */
export function checkSigners(fn: string, name: string, v: unknown): void {
  if (!Array.isArray(v) || v.length === 0) usage(fn, `${name} must be a non-empty array of signers (from loadSigner), not ${v === undefined ? "missing" : Array.isArray(v) ? "an empty array" : kindOf(v)}`);
  v.forEach((s, i) => checkSigner(fn, `${name}[${i}]`, s));
}

/** Root public keys: an array of Uint8Array (loadPublicKey reads them from files). */
export function checkRoots(fn: string, name: string, v: unknown, optional = false): void {
  if (optional && v === undefined) return;
  if (!Array.isArray(v)) usage(fn, `${name} must be an array of public keys (Uint8Array, from loadPublicKey), not ${v === undefined ? "missing" : kindOf(v)}`);
  v.forEach((r, i) => checkBytes(fn, `${name}[${i}]`, r, " (read a key file with loadPublicKey)"));
}

/** A verify policy's shape: roots, and vendor and deviceClass of the right types (their presence is checked by the caller). */
export function checkPolicy(fn: string, name: string, p: unknown): void {
  checkOptions(fn, name, p);
  const policy = p as { roots?: unknown; vendor?: unknown; deviceClass?: unknown };
  checkRoots(fn, `${name}.roots`, policy.roots);
  checkId(fn, `${name}.vendor`, policy.vendor, true);
  checkId(fn, `${name}.deviceClass`, policy.deviceClass, true);
}

/** The verify functions' hooks: an object of functions and an AbortSignal, all optional. */
export function checkHooks(fn: string, v: unknown): void {
  checkOptions(fn, "hooks", v, true);
  const h = (v ?? {}) as { onChunk?: unknown; onProgress?: unknown; signal?: unknown };
  checkFunction(fn, "hooks.onChunk", h.onChunk);
  checkFunction(fn, "hooks.onProgress", h.onProgress);
  if (h.signal !== undefined && !(h.signal instanceof AbortSignal)) usage(fn, `hooks.signal must be an AbortSignal, not ${kindOf(h.signal)}`);
}
