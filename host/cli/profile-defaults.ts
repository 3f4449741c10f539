// Where a command's option values come from when the command line leaves them out:
// flags > FWSEAL_* environment variables > the project profile (host/cli/profile.ts) >
// the option's own default. Applied in one place, as yargs middleware before validation,
// so a profile can also supply a required option (verify's --root). A setting reaches only
// the commands where it means the project's value (vendor for pack, verify, device-sim...;
// never delegate's signing --root or finalize's draft threshold).
import * as path from "node:path";
import { FwsealError } from "../errors.js";
import { flagsOnCommandLine, type DeclaredOptions } from "./argument-checks.js";
import { isKeyFileSpec, resolveProfile, type LoadedProfile, type ProfileSettings } from "./profile.js";

type Kind = "string" | "uint" | "strings";

/** One profile setting: the flag it fills, its environment variable, and the commands it applies to. */
interface Setting {
  flag: string;
  env: string;
  kind: Kind;
  /** A relative path from the environment is taken from the working directory (as a flag's). */
  path?: boolean;
  value: (s: ProfileSettings) => string | number | string[] | undefined;
  commands: readonly string[];
}

const POLICY_COMMANDS = ["verify", "extract", "finalize"] as const;
const SIGNING_COMMANDS = ["pack", "sign", "attach-signature", "finalize", "delegate", "retire-root", "keygen"] as const;
const SETTINGS: readonly Setting[] = [
  { flag: "vendor", env: "FWSEAL_VENDOR", kind: "string", value: (s) => s.vendor, commands: ["pack", ...POLICY_COMMANDS, "device-sim", "espruino", "delegate"] },
  { flag: "class", env: "FWSEAL_CLASS", kind: "string", value: (s) => s.class, commands: ["pack", ...POLICY_COMMANDS, "device-sim", "espruino", "delegate"] },
  { flag: "root", env: "FWSEAL_ROOTS", kind: "strings", path: true, value: (s) => s.roots, commands: ["pack", ...POLICY_COMMANDS, "device-sim", "espruino"] },
  { flag: "threshold", env: "FWSEAL_THRESHOLD", kind: "uint", value: (s) => s.policy?.threshold, commands: ["verify", "extract", "device-sim", "espruino"] },
  { flag: "root-threshold", env: "FWSEAL_ROOT_THRESHOLD", kind: "uint", value: (s) => s.policy?.rootThreshold, commands: [...POLICY_COMMANDS, "device-sim", "espruino"] },
  { flag: "min-seq", env: "FWSEAL_MIN_SEQ", kind: "uint", value: (s) => s.policy?.minSequence, commands: POLICY_COMMANDS },
  { flag: "min-epoch", env: "FWSEAL_MIN_EPOCH", kind: "uint", value: (s) => s.policy?.minEpoch, commands: POLICY_COMMANDS },
  { flag: "port", env: "FWSEAL_PORT", kind: "string", value: (s) => s.port, commands: ["flash", "espruino"] },
  { flag: "baud", env: "FWSEAL_BAUD", kind: "uint", value: (s) => s.baud, commands: ["flash", "espruino", "device-sim"] },
  { flag: "audit", env: "FWSEAL_AUDIT_LOG", kind: "string", path: true, value: (s) => s.audit, commands: SIGNING_COMMANDS }
];

/** The environment variables a profile setting can come from, in table order (for help and docs). */
export const SETTING_ENV_VARS: readonly string[] = SETTINGS.map((s) => s.env);

function fromEnv(s: Setting): string | number | string[] | undefined {
  const raw = process.env[s.env];
  if (raw === undefined || raw === "") return undefined;
  if (s.kind === "uint") {
    if (!/^\d+$/.test(raw.trim())) throw new FwsealError("USAGE", `${s.env}=${JSON.stringify(raw)}: a non-negative integer is expected`);
    return Number(raw.trim());
  }
  // FWSEAL_ROOTS: comma-separated (a root is a file, 64 hex digits or a pkcs11: URI, none of which needs a comma).
  const abs = (v: string): string => (s.path && isKeyFileSpec(v) ? path.resolve(v) : v);
  if (s.kind === "strings") return raw.split(",").map((v) => v.trim()).filter((v) => v !== "").map(abs);
  return abs(raw);
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** What applyProfileDefaults filled in, for -v: each flag with where its value came from. */
export interface AppliedDefault {
  flag: string;
  from: string;
}

/**
 * Fills the options the command line left out from FWSEAL_* variables, then the profile
 * (loaded only if some setting needs it). `argv` is the raw command line (to tell a given
 * flag from a yargs default); `a` the parsed arguments, changed in place.
 */
export function applyProfileDefaults(argv: readonly string[], a: Record<string, unknown>, declared: DeclaredOptions): { profile: LoadedProfile | null; applied: AppliedDefault[] } {
  const cmd = String((a._ as unknown[] | undefined)?.[0] ?? "");
  const given = new Set(flagsOnCommandLine(argv, declared));
  const applied: AppliedDefault[] = [];
  let profile: LoadedProfile | null | undefined;
  for (const s of SETTINGS) {
    if (!s.commands.includes(cmd)) continue;
    if (!Object.prototype.hasOwnProperty.call(declared.key, s.flag) || given.has(s.flag)) continue;
    if (cmd === "pack" && s.flag === "root" && a.unsigned === true) continue; // a draft is checked by finalize --root
    let v = fromEnv(s);
    let from = s.env;
    if (v === undefined) {
      if (profile === undefined) profile = resolveProfile(typeof a.profile === "string" ? a.profile : undefined);
      v = profile ? s.value(profile.settings) : undefined;
      from = profile?.file ?? "";
    }
    if (v === undefined) continue;
    const value = declared.array.includes(s.flag) && !Array.isArray(v) ? [v] : v;
    a[s.flag] = value;
    a[camel(s.flag)] = value;
    applied.push({ flag: s.flag, from });
  }
  return { profile: profile ?? null, applied };
}
