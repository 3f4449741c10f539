// UUIDs for vendor and class IDs (formats/SPEC.md §4): vendor-id = UUIDv5(NAMESPACE_DNS,
// vendor-domain), class-id = UUIDv5(vendor-id, class-name) (RFC 9562 §5.5). A literal UUID
// string is accepted wherever a name is. Host side (normal TS).
import { sha1 } from "@noble/hashes/legacy.js";

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** True if `s` is a textual UUID (8-4-4-4-12 hex digits). */
export function isUuidString(s: string): boolean {
  return UUID_RE.test(s);
}

/** Parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" into 16 bytes. Throws on bad input. */
export function parseUuid(s: string): Uint8Array {
  if (!isUuidString(s)) throw new Error(`not a UUID: ${JSON.stringify(s)}`);
  const hex = s.replace(/-/g, "");
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

/** Formats 16 bytes as a lowercase UUID string. */
export function formatUuid(b: Uint8Array): string {
  if (b.length !== 16) throw new Error("UUID must be 16 bytes");
  let h = "";
  for (let i = 0; i < 16; i++) h += b[i].toString(16).padStart(2, "0");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** RFC 9562 NameSpace_DNS. */
export const NAMESPACE_DNS: Uint8Array = parseUuid("6ba7b810-9dad-11d1-80b4-00c04fd430c8");

/** UUIDv5(namespace, name): SHA-1 of namespace || UTF-8(name), version 5, RFC 4122 variant. */
export function uuidV5(namespace: Uint8Array, name: string): Uint8Array {
  if (namespace.length !== 16) throw new Error("namespace UUID must be 16 bytes");
  const nb = new TextEncoder().encode(name);
  const input = new Uint8Array(16 + nb.length);
  input.set(namespace, 0);
  input.set(nb, 16);
  const h = sha1(input);
  const u = h.slice(0, 16);
  u[6] = (u[6] & 0x0f) | 0x50;
  u[8] = (u[8] & 0x3f) | 0x80;
  return u;
}

/** Vendor ID: a literal UUID, or UUIDv5(NAMESPACE_DNS, vendor domain). */
export function vendorUuid(nameOrUuid: string): Uint8Array {
  if (isUuidString(nameOrUuid)) return parseUuid(nameOrUuid);
  if (nameOrUuid.length === 0) throw new Error("empty vendor name");
  return uuidV5(NAMESPACE_DNS, nameOrUuid);
}

/** Class ID: a literal UUID, or UUIDv5(vendor-id, class name). `vendor` as bytes or as accepted by vendorUuid. */
export function classUuid(vendor: Uint8Array | string, nameOrUuid: string): Uint8Array {
  if (isUuidString(nameOrUuid)) return parseUuid(nameOrUuid);
  if (nameOrUuid.length === 0) throw new Error("empty class name");
  const v = typeof vendor === "string" ? vendorUuid(vendor) : vendor;
  return uuidV5(v, nameOrUuid);
}
