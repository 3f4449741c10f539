// PKCS#11 (HSM / smart card / SoftHSM2) signing keys, named by RFC 7512 URIs:
//   pkcs11:token=fwseal-release;object=release-2026?module-path=/usr/lib/softhsm/libsofthsm2.so
// The private key never leaves the token: fwseal asks the token to sign (CKM_EDDSA, pure
// Ed25519) and reads only the public key (CKA_EC_POINT). The PIN comes from the URI's
// pin-source file, the FWSEAL_PKCS11_PIN environment variable or a terminal prompt; never
// from a flag or the URI itself (pin-value would land in shell history and `ps`).
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import type * as Pkcs11Types from "pkcs11js";
import { FwsealError } from "../errors.js";
import { promptHidden, readSecretLine } from "./passphrase.js";
import type { Signer } from "./signer.js";

export const PKCS11_PIN_ENV = "FWSEAL_PKCS11_PIN";
export const PKCS11_MODULE_ENV = "FWSEAL_PKCS11_MODULE";

// PKCS#11 3.0 constants for Edwards curves (not all exported by every pkcs11js version).
const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
const CKM_EDDSA = 0x1057;
const CKK_EC_EDWARDS = 0x40;
const CKK_EC = 0x3;
// CKA_EC_PARAMS for Ed25519: DER OID 1.3.101.112, or the PrintableString "edwards25519"
// that PKCS#11 3.0 also allows (some tokens accept only one of the two).
const ED25519_OID_DER = Buffer.from("06032b6570", "hex");
const ED25519_NAME_DER = Buffer.concat([Buffer.from([0x13, 12]), Buffer.from("edwards25519", "latin1")]);
const ED448_OID_DER = Buffer.from("06032b6571", "hex");

const DEFAULT_MODULES = [
  "/usr/lib/softhsm/libsofthsm2.so",
  "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
  "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
  "/usr/local/lib/softhsm/libsofthsm2.so",
  "/opt/homebrew/lib/softhsm/libsofthsm2.so"
];

// ---------------------------------------------------------------- RFC 7512 URIs

/** A parsed `pkcs11:` URI (RFC 7512). Text attributes are percent-decoded. */
export interface Pkcs11Uri {
  token?: string;
  manufacturer?: string;
  serial?: string;
  model?: string;
  object?: string;
  /** CKA_ID bytes. */
  id?: Uint8Array;
  type?: string;
  slotId?: number;
  modulePath?: string;
  moduleName?: string;
  pinSource?: string;
}

export function isPkcs11Uri(spec: string): boolean {
  return spec.slice(0, 7).toLowerCase() === "pkcs11:";
}

function pctDecode(v: string, what: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if (c === "%") {
      const h = v.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(h)) throw new FwsealError("USAGE", `pkcs11 URI: bad percent-encoding in ${what}`);
      out.push(parseInt(h, 16));
      i += 2;
    } else {
      for (const b of Buffer.from(c, "utf8")) out.push(b);
    }
  }
  return Buffer.from(out);
}

const PATH_ATTRS = new Set([
  "token", "manufacturer", "serial", "model", "object", "id", "type",
  "slot-id", "slot-description", "slot-manufacturer", "library-manufacturer", "library-description", "library-version"
]);
const QUERY_ATTRS = new Set(["pin-source", "pin-value", "module-name", "module-path"]);

/** Parse an RFC 7512 URI. Unknown attributes and pin-value are usage errors. */
export function parsePkcs11Uri(uri: string): Pkcs11Uri {
  if (!isPkcs11Uri(uri)) throw new FwsealError("USAGE", "not a pkcs11: URI");
  const body = uri.slice(7);
  const q = body.indexOf("?");
  const pathPart = q < 0 ? body : body.slice(0, q);
  const queryPart = q < 0 ? "" : body.slice(q + 1);
  const out: Pkcs11Uri = {};
  const seen = new Set<string>();
  const take = (attr: string, raw: string, allowed: Set<string>, where: string): void => {
    const name = attr.toLowerCase();
    if (!allowed.has(name)) {
      if (name.startsWith("x-")) return; // vendor-specific: ignored (RFC 7512 §2.3)
      throw new FwsealError("USAGE", `pkcs11 URI: unknown ${where} attribute "${attr}"`);
    }
    if (seen.has(name)) throw new FwsealError("USAGE", `pkcs11 URI: attribute "${name}" given twice`);
    seen.add(name);
    const text = (): string => pctDecode(raw, name).toString("utf8");
    switch (name) {
      case "token": out.token = text(); break;
      case "manufacturer": out.manufacturer = text(); break;
      case "serial": out.serial = text(); break;
      case "model": out.model = text(); break;
      case "object": out.object = text(); break;
      case "id": out.id = new Uint8Array(pctDecode(raw, name)); break;
      case "type": out.type = text(); break;
      case "slot-id": {
        const t = text();
        if (!/^[0-9]+$/.test(t)) throw new FwsealError("USAGE", "pkcs11 URI: slot-id must be a decimal number");
        out.slotId = Number(t);
        break;
      }
      case "module-path": out.modulePath = text(); break;
      case "module-name": out.moduleName = text(); break;
      case "pin-source": out.pinSource = text(); break;
      case "pin-value":
        throw new FwsealError("USAGE", `pkcs11 URI: pin-value is refused (it would land in shell history); set ${PKCS11_PIN_ENV} or use pin-source=file:...`);
      default: break; // slot-description etc.: accepted, not used for matching
    }
  };
  for (const part of pathPart.split(";")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    if (eq <= 0) throw new FwsealError("USAGE", `pkcs11 URI: "${part}" is not attribute=value`);
    take(part.slice(0, eq), part.slice(eq + 1), PATH_ATTRS, "path");
  }
  for (const part of queryPart.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    if (eq <= 0) throw new FwsealError("USAGE", `pkcs11 URI: "${part}" is not attribute=value`);
    take(part.slice(0, eq), part.slice(eq + 1), QUERY_ATTRS, "query");
  }
  if (out.type !== undefined && out.type !== "private" && out.type !== "public") {
    throw new FwsealError("USAGE", `pkcs11 URI: type=${out.type} is not a key pair object (use private)`);
  }
  return out;
}

function pctEncode(v: Uint8Array | string, all = false): string {
  const bytes = typeof v === "string" ? Buffer.from(v, "utf8") : Buffer.from(v);
  let s = "";
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    if (!all && /[A-Za-z0-9_.~-]/.test(c)) s += c;
    else s += "%" + b.toString(16).padStart(2, "0");
  }
  return s;
}

/** Format a URI naming one key (for printing after keygen). Module path is kept if given. */
export function formatPkcs11Uri(u: Pkcs11Uri): string {
  const parts: string[] = [];
  if (u.token !== undefined) parts.push(`token=${pctEncode(u.token)}`);
  if (u.object !== undefined) parts.push(`object=${pctEncode(u.object)}`);
  if (u.id !== undefined) parts.push(`id=${pctEncode(u.id, true)}`);
  let s = "pkcs11:" + parts.join(";");
  const q: string[] = [];
  if (u.modulePath !== undefined) q.push(`module-path=${pctEncode(u.modulePath).replace(/%2f/g, "/")}`);
  if (u.pinSource !== undefined) q.push(`pin-source=${pctEncode(u.pinSource).replace(/%2f/g, "/").replace(/%3a/g, ":")}`);
  if (q.length > 0) s += "?" + q.join("&");
  return s;
}

/** Short description of the key a URI names (never includes the PIN). */
export function describeUri(u: Pkcs11Uri): string {
  const bits: string[] = [];
  if (u.token !== undefined) bits.push(`token "${u.token}"`);
  if (u.object !== undefined) bits.push(`object "${u.object}"`);
  if (u.id !== undefined) bits.push(`id ${Buffer.from(u.id).toString("hex")}`);
  return bits.length > 0 ? bits.join(", ") : "any token";
}

// ---------------------------------------------------------------- module and PIN

type Pkcs11Module = typeof Pkcs11Types;

let cachedBinding: Pkcs11Module | null = null;

function binding(): Pkcs11Module {
  if (cachedBinding) return cachedBinding;
  try {
    const req = createRequire(import.meta.url);
    cachedBinding = req("pkcs11js") as Pkcs11Module;
  } catch (e) {
    throw new FwsealError("KEY_TOKEN", "PKCS#11 support needs the pkcs11js package (npm install pkcs11js; it builds with node-gyp)", { cause: e });
  }
  return cachedBinding;
}

/** The module a URI names: module-path, else FWSEAL_PKCS11_MODULE, else SoftHSM2's. */
export function resolveModulePath(u: Pkcs11Uri): string {
  if (u.modulePath !== undefined) return u.modulePath;
  const env = process.env[PKCS11_MODULE_ENV];
  if (env !== undefined && env !== "") return env;
  for (const p of DEFAULT_MODULES) if (fs.existsSync(p)) return p;
  throw new FwsealError("KEY_TOKEN", `no PKCS#11 module found: add module-path=... to the URI or set ${PKCS11_MODULE_ENV} (SoftHSM2 is not installed in the usual places)`);
}

/** The user PIN: pin-source file, FWSEAL_PKCS11_PIN, or a terminal prompt. */
export async function resolvePin(u: Pkcs11Uri, tokenLabel: string, opts: { prompt?: boolean; env?: boolean } = {}): Promise<string> {
  if (u.pinSource !== undefined) {
    const file = u.pinSource.startsWith("file:") ? u.pinSource.slice(5).replace(/^\/\/(?=\/)/, "") : u.pinSource;
    const line = await readSecretLine(file);
    if (line === "") throw new FwsealError("KEY_TOKEN", `${file}: PIN file is empty`);
    return line;
  }
  const env = opts.env !== false ? process.env[PKCS11_PIN_ENV] : undefined;
  if (env !== undefined && env !== "") return env;
  if (opts.prompt !== false && process.stdin.isTTY) return promptHidden(`PIN for token "${tokenLabel}": `);
  if (opts.env === false) throw new FwsealError("KEY_TOKEN", `token "${tokenLabel}" needs its user PIN: give the pin option or add pin-source=file:... to the URI`);
  throw new FwsealError("KEY_TOKEN", `token "${tokenLabel}" needs its user PIN: set ${PKCS11_PIN_ENV}, add pin-source=file:... to the URI, or run on a terminal`);
}

// ---------------------------------------------------------------- sessions

function ckrName(mod: Pkcs11Module, code: number): string {
  for (const k of Object.keys(mod)) {
    if (k.startsWith("CKR_") && (mod as unknown as Record<string, unknown>)[k] === code) return k;
  }
  return `CKR 0x${code.toString(16)}`;
}

function pkcs11Code(e: unknown): number {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === "number" ? c : -1;
}

/** Token error -> one clear line (the cause keeps the library's message for debugging). */
function tokenError(mod: Pkcs11Module, e: unknown, doing: string): FwsealError {
  if (e instanceof FwsealError) return e;
  const code = pkcs11Code(e);
  const name = code >= 0 ? ckrName(mod, code) : (e as Error)?.message ?? String(e);
  return new FwsealError("KEY_TOKEN", `PKCS#11: ${doing} failed (${name})`, { cause: e });
}

function trimPad(s: string): string {
  return s.replace(/[ \0]+$/, "");
}

export interface TokenSession {
  readonly mod: Pkcs11Module;
  readonly lib: Pkcs11Types.PKCS11;
  readonly session: Buffer;
  readonly slot: Buffer;
  readonly tokenLabel: string;
  readonly modulePath: string;
  close(): void;
}

// One loaded module per path per process: C_Initialize twice is an error in PKCS#11.
const openModules = new Map<string, { lib: Pkcs11Types.PKCS11; users: number }>();

function acquireModule(mod: Pkcs11Module, modulePath: string): Pkcs11Types.PKCS11 {
  const have = openModules.get(modulePath);
  if (have) {
    have.users++;
    return have.lib;
  }
  if (!fs.existsSync(modulePath)) throw new FwsealError("KEY_TOKEN", `PKCS#11 module ${modulePath}: no such file`);
  const lib = new mod.PKCS11();
  try {
    lib.load(modulePath);
  } catch (e) {
    throw new FwsealError("KEY_TOKEN", `PKCS#11 module ${modulePath}: cannot load (${(e as Error).message.split("\n")[0]})`, { cause: e });
  }
  try {
    lib.C_Initialize();
  } catch (e) {
    if (pkcs11Code(e) !== mod.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
      try { lib.close(); } catch { /* ignore */ }
      throw tokenError(mod, e, `initialising ${modulePath}`);
    }
  }
  openModules.set(modulePath, { lib, users: 1 });
  return lib;
}

function releaseModule(modulePath: string): void {
  const have = openModules.get(modulePath);
  if (!have) return;
  if (--have.users > 0) return;
  openModules.delete(modulePath);
  try { have.lib.C_Finalize(); } catch { /* ignore */ }
  try { have.lib.close(); } catch { /* ignore */ }
}

function tokenMatches(u: Pkcs11Uri, ti: Pkcs11Types.TokenInfo): boolean {
  if (u.token !== undefined && trimPad(ti.label) !== u.token) return false;
  if (u.manufacturer !== undefined && trimPad(ti.manufacturerID) !== u.manufacturer) return false;
  if (u.serial !== undefined && trimPad(ti.serialNumber) !== u.serial) return false;
  if (u.model !== undefined && trimPad(ti.model) !== u.model) return false;
  return true;
}

/** Open a logged-in read/write session on the one token the URI names. */
export async function openTokenSession(u: Pkcs11Uri, opts: { prompt?: boolean; pin?: string; env?: boolean } = {}): Promise<TokenSession> {
  const mod = binding();
  const modulePath = resolveModulePath(u);
  const lib = acquireModule(mod, modulePath);
  let session: Buffer | null = null;
  try {
    let slots: Buffer[];
    try {
      slots = lib.C_GetSlotList(true);
    } catch (e) {
      throw tokenError(mod, e, "listing slots");
    }
    const matches: { slot: Buffer; label: string }[] = [];
    const seenLabels: string[] = [];
    for (const s of slots) {
      let ti: Pkcs11Types.TokenInfo;
      try {
        ti = lib.C_GetTokenInfo(s);
      } catch {
        continue;
      }
      const CKF_TOKEN_INITIALIZED = 0x400;
      if ((ti.flags & CKF_TOKEN_INITIALIZED) === 0) continue;
      seenLabels.push(trimPad(ti.label));
      if (u.slotId !== undefined && s.readUIntLE(0, Math.min(6, s.length)) !== u.slotId) continue;
      if (tokenMatches(u, ti)) matches.push({ slot: s, label: trimPad(ti.label) });
    }
    if (matches.length === 0) {
      const avail = seenLabels.length > 0 ? `available: ${seenLabels.map((l) => `"${l}"`).join(", ")}` : "no initialised token found";
      throw new FwsealError("KEY_TOKEN", `PKCS#11: no token matches ${describeUri({ ...u, object: undefined, id: undefined })} (${avail})`);
    }
    if (matches.length > 1) {
      throw new FwsealError("KEY_TOKEN", `PKCS#11: ${matches.length} tokens match ${describeUri({ ...u, object: undefined, id: undefined })}; add token=, serial= or slot-id= to the URI`);
    }
    const { slot, label } = matches[0];
    try {
      session = lib.C_OpenSession(slot, mod.CKF_SERIAL_SESSION | mod.CKF_RW_SESSION);
    } catch (e) {
      throw tokenError(mod, e, `opening a session on token "${label}"`);
    }
    const pin = opts.pin ?? (await resolvePin(u, label, opts));
    try {
      lib.C_Login(session, mod.CKU_USER, pin);
    } catch (e) {
      const c = pkcs11Code(e);
      if (c === mod.CKR_PIN_INCORRECT || c === mod.CKR_PIN_LEN_RANGE) {
        throw new FwsealError("KEY_TOKEN", `PKCS#11: wrong PIN for token "${label}"`);
      }
      if (c === mod.CKR_PIN_LOCKED) throw new FwsealError("KEY_TOKEN", `PKCS#11: the user PIN of token "${label}" is locked`);
      if (c !== mod.CKR_USER_ALREADY_LOGGED_IN) throw tokenError(mod, e, `logging in to token "${label}"`);
    }
    const sess = session;
    let closed = false;
    return {
      mod,
      lib,
      session: sess,
      slot,
      tokenLabel: label,
      modulePath,
      close(): void {
        if (closed) return;
        closed = true;
        try { lib.C_Logout(sess); } catch { /* ignore */ }
        try { lib.C_CloseSession(sess); } catch { /* ignore */ }
        releaseModule(modulePath);
      }
    };
  } catch (e) {
    if (session) {
      try { lib.C_CloseSession(session); } catch { /* ignore */ }
    }
    releaseModule(modulePath);
    throw e;
  }
}

function findObjects(t: TokenSession, template: Pkcs11Types.Template): Buffer[] {
  const { lib, session } = t;
  lib.C_FindObjectsInit(session, template);
  try {
    return lib.C_FindObjects(session, 16);
  } finally {
    lib.C_FindObjectsFinal(session);
  }
}

function objectTemplate(t: TokenSession, u: Pkcs11Uri, cls: number): Pkcs11Types.Template {
  const tpl: Pkcs11Types.Template = [{ type: t.mod.CKA_CLASS, value: cls }];
  if (u.object !== undefined) tpl.push({ type: t.mod.CKA_LABEL, value: u.object });
  if (u.id !== undefined) tpl.push({ type: t.mod.CKA_ID, value: Buffer.from(u.id) });
  return tpl;
}

function getAttr(t: TokenSession, obj: Buffer, type: number): Buffer | null {
  try {
    const r = t.lib.C_GetAttributeValue(t.session, obj, [{ type }]);
    return r[0].value ?? null;
  } catch {
    return null;
  }
}

function readUlong(b: Buffer | null): number {
  if (!b || b.length === 0) return -1;
  return b.length >= 8 ? Number(b.readBigUInt64LE(0)) : b.readUInt32LE(0);
}

function describeKeyType(keyType: number, ecParams: Buffer | null): string {
  if (keyType === 0) return "an RSA key";
  if (keyType === CKK_EC) {
    const hex = ecParams ? ecParams.toString("hex") : "";
    if (hex === "06082a8648ce3d030107") return "an ECDSA key (P-256)";
    if (hex === "06052b81040022") return "an ECDSA key (P-384)";
    return "an ECDSA key";
  }
  if (keyType === CKK_EC_EDWARDS && ecParams && ecParams.equals(ED448_OID_DER)) return "an Ed448 key";
  return `a key of type 0x${keyType.toString(16)}`;
}

function isEd25519Params(p: Buffer | null): boolean {
  return !!p && (p.equals(ED25519_OID_DER) || p.equals(ED25519_NAME_DER));
}

/** The 32-byte key from CKA_EC_POINT: DER OCTET STRING (04 20 ...) or, for some tokens, raw. */
export function parseEcPoint(v: Uint8Array): Uint8Array {
  if (v.length === 34 && v[0] === 0x04 && v[1] === 0x20) return new Uint8Array(v.subarray(2));
  if (v.length === 32) return new Uint8Array(v);
  throw new FwsealError("KEY_WRONG_TYPE", `PKCS#11: CKA_EC_POINT of ${v.length} bytes is not an Ed25519 public key`);
}

function requireEddsaMechanism(t: TokenSession, mech: number, what: string): void {
  let list: number[];
  try {
    list = t.lib.C_GetMechanismList(t.slot);
  } catch {
    return; // cannot tell: let the operation itself fail
  }
  if (!list.includes(mech)) {
    throw new FwsealError("KEY_TOKEN", `PKCS#11: token "${t.tokenLabel}" does not support ${what} (needs PKCS#11 3.0 EdDSA; SoftHSM >= 2.6)`);
  }
}

// ---------------------------------------------------------------- the Signer

/** A Signer whose private key lives on a PKCS#11 token. Call close() when done. */
export class Pkcs11Signer implements Signer {
  readonly publicKey: Uint8Array;
  readonly certificate?: Uint8Array;
  readonly uri: string;
  private readonly t: TokenSession;
  private readonly key: Buffer;

  constructor(t: TokenSession, key: Buffer, publicKey: Uint8Array, uri: string, certificate?: Uint8Array) {
    this.t = t;
    this.key = key;
    this.publicKey = publicKey;
    this.uri = uri;
    if (certificate !== undefined) this.certificate = certificate;
  }

  get keyId(): string {
    return crypto.createHash("sha256").update(this.publicKey).digest().subarray(0, 8).toString("hex");
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    const { lib, session, mod } = this.t;
    let sig: Buffer;
    try {
      lib.C_SignInit(session, { mechanism: CKM_EDDSA }, this.key);
      sig = lib.C_Sign(session, Buffer.from(message.buffer, message.byteOffset, message.byteLength), Buffer.alloc(64));
    } catch (e) {
      throw tokenError(mod, e, `signing on token "${this.t.tokenLabel}"`);
    }
    if (sig.length !== 64) throw new FwsealError("KEY_TOKEN", `PKCS#11: token returned a ${sig.length}-byte signature; expected Ed25519 (64)`);
    // A token that signs with another key or another EdDSA variant (Ed25519ph/ctx) must not
    // produce a bundle that fails later on every device: check now.
    const spki = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(this.publicKey)]);
    const pk = crypto.createPublicKey({ key: spki, format: "der", type: "spki" });
    if (!crypto.verify(null, message, pk, sig)) {
      throw new FwsealError("KEY_TOKEN", `PKCS#11: the token's signature does not verify under its public key (token "${this.t.tokenLabel}")`);
    }
    return new Uint8Array(sig);
  }

  close(): void {
    this.t.close();
  }

  toJSON(): object {
    return { uri: this.uri, keyId: this.keyId };
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `Pkcs11Signer(${this.keyId})`;
  }
}

/** Find the one Ed25519 private key the URI names and its public key. */
function locateKey(t: TokenSession, u: Pkcs11Uri): { priv: Buffer; publicKey: Uint8Array } {
  if (u.object === undefined && u.id === undefined) {
    throw new FwsealError("USAGE", "pkcs11 URI: name the key with object=<label> and/or id=<%xx bytes>");
  }
  const mod = t.mod;
  let privs: Buffer[];
  try {
    privs = findObjects(t, objectTemplate(t, u, mod.CKO_PRIVATE_KEY));
  } catch (e) {
    throw tokenError(mod, e, "searching for the key");
  }
  if (privs.length === 0) {
    throw new FwsealError("KEY_TOKEN", `PKCS#11: no private key ${describeUri({ object: u.object, id: u.id })} on token "${t.tokenLabel}"`);
  }
  if (privs.length > 1) {
    throw new FwsealError("KEY_TOKEN", `PKCS#11: ${privs.length} private keys match ${describeUri({ object: u.object, id: u.id })} on token "${t.tokenLabel}"; add id= to the URI`);
  }
  const priv = privs[0];
  const keyType = readUlong(getAttr(t, priv, mod.CKA_KEY_TYPE));
  const params = getAttr(t, priv, mod.CKA_EC_PARAMS);
  if (keyType !== CKK_EC_EDWARDS || (params !== null && !isEd25519Params(params))) {
    throw new FwsealError("KEY_WRONG_TYPE", `PKCS#11: ${describeUri({ object: u.object, id: u.id })} is ${describeKeyType(keyType, params)}; fwseal needs an Ed25519 key (fwseal keygen --pkcs11)`);
  }
  // The public half: the public-key object with the same label/id (CKA_ID of the private
  // key when the URI names only a label).
  const pubTpl = objectTemplate(t, u, mod.CKO_PUBLIC_KEY);
  if (u.id === undefined) {
    const id = getAttr(t, priv, mod.CKA_ID);
    if (id && id.length > 0) pubTpl.push({ type: mod.CKA_ID, value: id });
  }
  let pubs: Buffer[];
  try {
    pubs = findObjects(t, pubTpl);
  } catch (e) {
    throw tokenError(mod, e, "searching for the public key");
  }
  if (pubs.length !== 1) {
    throw new FwsealError("KEY_TOKEN", `PKCS#11: ${pubs.length === 0 ? "no" : "more than one"} public-key object for ${describeUri({ object: u.object, id: u.id })} on token "${t.tokenLabel}"`);
  }
  const point = getAttr(t, pubs[0], mod.CKA_EC_POINT);
  if (!point) throw new FwsealError("KEY_TOKEN", `PKCS#11: cannot read CKA_EC_POINT of ${describeUri({ object: u.object, id: u.id })}`);
  return { priv, publicKey: parseEcPoint(point) };
}

export interface Pkcs11SignerOptions {
  certificate?: Uint8Array;
  /** Allow a terminal PIN prompt (default true). */
  prompt?: boolean;
  /** PIN given directly (library use and tests). */
  pin?: string;
  /** Read FWSEAL_PKCS11_PIN (default true: the CLI). */
  env?: boolean;
}

/** Open the key a `pkcs11:` URI names as a Signer. */
export async function openPkcs11Signer(uri: string, opts: Pkcs11SignerOptions = {}): Promise<Pkcs11Signer> {
  const u = parsePkcs11Uri(uri);
  if (u.object === undefined && u.id === undefined) {
    throw new FwsealError("USAGE", "pkcs11 URI: name the key with object=<label> and/or id=<%xx bytes>");
  }
  const t = await openTokenSession(u, opts);
  try {
    requireEddsaMechanism(t, CKM_EDDSA, "CKM_EDDSA");
    const { priv, publicKey } = locateKey(t, u);
    return new Pkcs11Signer(t, priv, publicKey, uri, opts.certificate);
  } catch (e) {
    t.close();
    throw e;
  }
}

/** Read only the public key of a token key (no signing; still needs the PIN on most tokens). */
export async function readPkcs11PublicKey(uri: string, opts: Pkcs11SignerOptions = {}): Promise<Uint8Array> {
  const s = await openPkcs11Signer(uri, opts);
  try {
    return s.publicKey;
  } finally {
    s.close();
  }
}

export interface Pkcs11KeygenResult {
  keyId: string;
  publicKey: Uint8Array;
  /** URI naming the new key (token, object label and CKA_ID). */
  uri: string;
  tokenLabel: string;
  extractable: boolean;
  sensitive: boolean;
}

/**
 * Generate an Ed25519 key pair on the token: private key sensitive, non-extractable,
 * private (needs login), sign-only. CKA_ID defaults to the fwseal key ID (8 bytes), so
 * `id=` in a URI and the key ID printed by every fwseal command agree.
 */
export async function pkcs11Keygen(uri: string, opts: Pkcs11SignerOptions = {}): Promise<Pkcs11KeygenResult> {
  const u = parsePkcs11Uri(uri);
  if (u.object === undefined) throw new FwsealError("USAGE", "keygen --pkcs11: the URI must name the new key with object=<label>");
  const t = await openTokenSession(u, opts);
  const mod = t.mod;
  try {
    requireEddsaMechanism(t, CKM_EC_EDWARDS_KEY_PAIR_GEN, "CKM_EC_EDWARDS_KEY_PAIR_GEN");
    requireEddsaMechanism(t, CKM_EDDSA, "CKM_EDDSA");
    // Never create a second key under an existing label: later URIs would be ambiguous.
    const clash = findObjects(t, [{ type: mod.CKA_LABEL, value: u.object }]);
    if (clash.length > 0) {
      throw new FwsealError("OUTPUT_EXISTS", `PKCS#11: token "${t.tokenLabel}" already has an object labelled "${u.object}"`);
    }
    const tmpId = u.id !== undefined ? Buffer.from(u.id) : crypto.randomBytes(8);
    const gen = (params: Buffer): Pkcs11Types.KeyPair =>
      t.lib.C_GenerateKeyPair(
        t.session,
        { mechanism: CKM_EC_EDWARDS_KEY_PAIR_GEN },
        [
          { type: mod.CKA_CLASS, value: mod.CKO_PUBLIC_KEY },
          { type: mod.CKA_KEY_TYPE, value: CKK_EC_EDWARDS },
          { type: mod.CKA_TOKEN, value: true },
          { type: mod.CKA_PRIVATE, value: false },
          { type: mod.CKA_VERIFY, value: true },
          { type: mod.CKA_EC_PARAMS, value: params },
          { type: mod.CKA_LABEL, value: u.object },
          { type: mod.CKA_ID, value: tmpId }
        ],
        [
          { type: mod.CKA_CLASS, value: mod.CKO_PRIVATE_KEY },
          { type: mod.CKA_KEY_TYPE, value: CKK_EC_EDWARDS },
          { type: mod.CKA_TOKEN, value: true },
          { type: mod.CKA_PRIVATE, value: true },
          { type: mod.CKA_SENSITIVE, value: true },
          { type: mod.CKA_EXTRACTABLE, value: false },
          { type: mod.CKA_SIGN, value: true },
          { type: mod.CKA_DECRYPT, value: false },
          { type: mod.CKA_DERIVE, value: false },
          { type: mod.CKA_LABEL, value: u.object },
          { type: mod.CKA_ID, value: tmpId }
        ]
      );
    let kp: Pkcs11Types.KeyPair;
    try {
      kp = gen(ED25519_OID_DER);
    } catch (e) {
      const c = pkcs11Code(e);
      if (c !== mod.CKR_ATTRIBUTE_VALUE_INVALID && c !== mod.CKR_DOMAIN_PARAMS_INVALID && c !== 0x140 /* CKR_CURVE_NOT_SUPPORTED */) {
        throw tokenError(mod, e, `generating an Ed25519 key on token "${t.tokenLabel}"`);
      }
      try {
        kp = gen(ED25519_NAME_DER);
      } catch (e2) {
        throw tokenError(mod, e2, `generating an Ed25519 key on token "${t.tokenLabel}"`);
      }
    }
    const point = getAttr(t, kp.publicKey, mod.CKA_EC_POINT);
    if (!point) throw new FwsealError("KEY_TOKEN", "PKCS#11: the new key has no readable CKA_EC_POINT");
    const publicKey = parseEcPoint(point);
    const kid = crypto.createHash("sha256").update(publicKey).digest().subarray(0, 8);
    let id: Buffer = tmpId;
    if (u.id === undefined) {
      try {
        t.lib.C_SetAttributeValue(t.session, kp.privateKey, [{ type: mod.CKA_ID, value: kid }]);
        t.lib.C_SetAttributeValue(t.session, kp.publicKey, [{ type: mod.CKA_ID, value: kid }]);
        id = Buffer.from(kid);
      } catch {
        // Some tokens refuse to change CKA_ID: keep the random one; the URI below names it.
      }
    }
    const extractable = getAttr(t, kp.privateKey, mod.CKA_EXTRACTABLE);
    const sensitive = getAttr(t, kp.privateKey, mod.CKA_SENSITIVE);
    const isExtractable = !!extractable && extractable[0] !== 0;
    const isSensitive = !!sensitive && sensitive[0] !== 0;
    if (isExtractable || !isSensitive) {
      // The token ignored our template: do not leave an exportable release key behind.
      try { t.lib.C_DestroyObject(t.session, kp.privateKey); } catch { /* ignore */ }
      try { t.lib.C_DestroyObject(t.session, kp.publicKey); } catch { /* ignore */ }
      throw new FwsealError("KEY_TOKEN", `PKCS#11: token "${t.tokenLabel}" created an extractable or non-sensitive key; destroyed it`);
    }
    const outUri: Pkcs11Uri = { token: t.tokenLabel, object: u.object, id };
    if (u.modulePath !== undefined) outUri.modulePath = u.modulePath;
    return {
      keyId: kid.toString("hex"),
      publicKey,
      uri: formatPkcs11Uri(outUri),
      tokenLabel: t.tokenLabel,
      extractable: isExtractable,
      sensitive: isSensitive
    };
  } catch (e) {
    throw e instanceof FwsealError ? e : tokenError(mod, e, `key generation on token "${t.tokenLabel}"`);
  } finally {
    t.close();
  }
}

/** Attributes of a token key that say whether it could ever leave the token (tests, audit). */
export async function pkcs11KeyProtection(uri: string, opts: Pkcs11SignerOptions = {}): Promise<{ extractable: boolean; sensitive: boolean; neverExtractable: boolean; valueReadable: boolean }> {
  const u = parsePkcs11Uri(uri);
  const t = await openTokenSession(u, opts);
  try {
    const { priv } = locateKey(t, u);
    const flag = (a: number): boolean => {
      const v = getAttr(t, priv, a);
      return !!v && v[0] !== 0;
    };
    const value = getAttr(t, priv, t.mod.CKA_VALUE);
    return {
      extractable: flag(t.mod.CKA_EXTRACTABLE),
      sensitive: flag(t.mod.CKA_SENSITIVE),
      neverExtractable: flag(t.mod.CKA_NEVER_EXTRACTABLE),
      valueReadable: value !== null && value.length > 0
    };
  } finally {
    t.close();
  }
}
