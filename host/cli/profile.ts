// A project profile: the settings a release pipeline would otherwise repeat on every command
// (vendor, class, device roots, verify policy, serial port and baud, audit log). It lives in
// `fwseal.json` or under a "fwseal" key of package.json, found by walking up from the working
// directory (the nearest one wins), or is named by --profile / FWSEAL_PROFILE. Input is
// strict: an unknown key, a wrong type or invalid JSON is a usage error naming the key and
// the file. Paths in a profile are relative to the profile's folder.
import * as fs from "node:fs";
import * as path from "node:path";
import { FwsealError, inputError } from "../errors.js";
import { Limits } from "../../formats/device-safe/limits.js";

/** The verify policy part of a profile. */
export interface ProfilePolicy {
  threshold?: number;
  rootThreshold?: number;
  minSequence?: number;
  minEpoch?: number;
}

/** A profile's settings; every field optional. */
export interface ProfileSettings {
  vendor?: string;
  class?: string;
  /** Device root public keys in slot order: files (relative to the profile), 64 hex digits or pkcs11: URIs. */
  roots?: string[];
  policy?: ProfilePolicy;
  port?: string;
  baud?: number;
  /** Audit log file. */
  audit?: string;
}

/** A profile as loaded: its file (fwseal.json or package.json) and its settings, paths made absolute. */
export interface LoadedProfile {
  file: string;
  settings: ProfileSettings;
}

/** The file name `fwseal init` writes and the walk looks for first in each folder. */
export const PROFILE_FILE = "fwseal.json";
/** Names a profile file explicitly, or "none" for no profile. */
export const PROFILE_ENV = "FWSEAL_PROFILE";

type FieldKind = "string" | "uint" | "strings" | "policy";
const FIELDS: Record<keyof ProfileSettings, FieldKind> = {
  vendor: "string", class: "string", roots: "strings", policy: "policy", port: "string", baud: "uint", audit: "string"
};
const POLICY_FIELDS: Record<keyof ProfilePolicy, FieldKind> = { threshold: "uint", rootThreshold: "uint", minSequence: "uint", minEpoch: "uint" };

function profileError(file: string, message: string): FwsealError {
  return new FwsealError("USAGE", `profile ${file}: ${message}`);
}

function checkValue(file: string, key: string, kind: FieldKind, v: unknown): void {
  const ok =
    kind === "string" ? typeof v === "string" && v !== "" :
    kind === "uint" ? Number.isSafeInteger(v) && (v as number) >= 0 :
    kind === "strings" ? Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string" && x !== "") :
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!ok) {
    const want = kind === "string" ? "a non-empty string" : kind === "uint" ? "a non-negative integer" : kind === "strings" ? "a non-empty list of strings" : "an object";
    throw profileError(file, `"${key}" must be ${want}`);
  }
}

/**
 * Values of the right type that no command could use: a threshold of 0 or above a bundle's
 * signers, a root threshold above the root slots (or the profile's roots), a baud rate of 0.
 * Refused when the profile is written (fwseal init) and read, not at every verify after.
 */
function checkRanges(s: ProfileSettings, file: string): void {
  const p = s.policy ?? {};
  if (p.threshold !== undefined && (p.threshold < 1 || p.threshold > Limits.MAX_SIGNERS)) throw profileError(file, `"policy.threshold" must be 1..${Limits.MAX_SIGNERS}`);
  const maxRoots = s.roots ? Math.min(s.roots.length, Limits.MAX_ROOT_SLOTS) : Limits.MAX_ROOT_SLOTS;
  if (p.rootThreshold !== undefined && (p.rootThreshold < 1 || p.rootThreshold > maxRoots)) throw profileError(file, `"policy.rootThreshold" must be 1..${maxRoots}${s.roots ? ` (${s.roots.length} root(s))` : ""}`);
  if (s.baud !== undefined && s.baud < 1) throw profileError(file, `"baud" must be a positive integer`);
}

/** Checks a profile object strictly (unknown keys, types); `file` names it in messages. */
export function checkProfile(value: unknown, file: string): ProfileSettings {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw profileError(file, "must be a JSON object");
  for (const [k, v] of Object.entries(value)) {
    if (!Object.prototype.hasOwnProperty.call(FIELDS, k)) throw profileError(file, `unknown key "${k}" (known: ${Object.keys(FIELDS).join(", ")})`);
    const kind = FIELDS[k as keyof ProfileSettings];
    checkValue(file, k, kind, v);
    if (kind === "policy") {
      for (const [pk, pv] of Object.entries(v as object)) {
        if (!Object.prototype.hasOwnProperty.call(POLICY_FIELDS, pk)) throw profileError(file, `unknown key "policy.${pk}" (known: ${Object.keys(POLICY_FIELDS).join(", ")})`);
        checkValue(file, `policy.${pk}`, "uint", pv);
      }
    }
  }
  checkRanges(value as ProfileSettings, file);
  return value as ProfileSettings;
}

/** A key spec that names a file (not 64 hex digits, not a pkcs11: URI): such a spec is a path to resolve. */
export function isKeyFileSpec(spec: string): boolean {
  return !/^[0-9a-fA-F]{64}$/.test(spec) && !spec.startsWith("pkcs11:");
}

/** The settings with their paths made absolute against `dir` (roots files, audit log, a relative port path). */
function resolvePaths(s: ProfileSettings, dir: string): ProfileSettings {
  const out: ProfileSettings = { ...s };
  if (s.roots) out.roots = s.roots.map((r) => (isKeyFileSpec(r) ? path.resolve(dir, r) : r));
  if (s.audit !== undefined) out.audit = path.resolve(dir, s.audit);
  // "/dev/ttyACM0" and "COM3" stay; "sim/tty" is a path next to the profile.
  if (s.port !== undefined && s.port.includes("/")) out.port = path.resolve(dir, s.port);
  return out;
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    const ie = inputError(file, e); // "no such file", "is a directory", "permission denied"
    throw new FwsealError(ie.code, `profile ${ie.message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw profileError(file, `not valid JSON${jsonErrorPlace(text, (e as Error).message)}`);
  }
}

/**
 * Where JSON.parse stopped, as " (line L, column C)", or "" when its message gives no place.
 * Never the text itself: V8's message quotes the file, and a key file given as --profile by
 * mistake must not reach stderr or a log.
 */
function jsonErrorPlace(text: string, message: string): string {
  const m = /at position (\d+)/.exec(message);
  if (m === null) return /end of JSON input/.test(message) ? " (it ends early)" : "";
  const before = text.slice(0, Number(m[1])).split("\n");
  return ` (line ${before.length}, column ${before[before.length - 1].length + 1})`;
}

/** Loads and checks the profile file `file` (fwseal.json-style, or a package.json's "fwseal" key). */
export function loadProfileFile(file: string): LoadedProfile {
  const abs = path.resolve(file);
  const json = readJson(abs);
  const isPackage = path.basename(abs) === "package.json";
  if (isPackage && (typeof json !== "object" || json === null || !("fwseal" in json))) throw profileError(abs, 'has no "fwseal" key');
  const settings = checkProfile(isPackage ? (json as { fwseal: unknown }).fwseal : json, isPackage ? `${abs} ("fwseal" key)` : abs);
  return { file: abs, settings: resolvePaths(settings, path.dirname(abs)) };
}

/** The nearest profile from `start` upwards: fwseal.json, else a package.json with a "fwseal" key; null if none. */
export function findProfile(start: string): string | null {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    const own = path.join(dir, PROFILE_FILE);
    if (fs.existsSync(own)) return own;
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg) && packageHasProfile(pkg)) return pkg;
    if (path.dirname(dir) === dir) return null;
  }
}

function packageHasProfile(pkg: string): boolean {
  try {
    const j = JSON.parse(fs.readFileSync(pkg, "utf8")) as unknown;
    return typeof j === "object" && j !== null && "fwseal" in j;
  } catch {
    return false; // a broken package.json belongs to npm, not to us: not a profile
  }
}

/**
 * The profile in force: `explicit` (--profile) or FWSEAL_PROFILE if set ("none": no profile),
 * else the nearest one from `cwd`. Null when there is none.
 */
export function resolveProfile(explicit: string | undefined, cwd: string = process.cwd()): LoadedProfile | null {
  const named = explicit ?? (process.env[PROFILE_ENV] || undefined);
  if (named === "none") return null;
  if (named !== undefined) return loadProfileFile(path.resolve(cwd, named));
  const found = findProfile(cwd);
  return found ? loadProfileFile(found) : null;
}
