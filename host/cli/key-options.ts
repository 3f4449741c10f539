// CLI helpers shared by commands that take keys to check against: --root lists, retired
// slots, algorithm policies, and the numbers they come with. Signing keys (--key, --cert):
// signer-options.ts, which the checking commands do not load.
import { AlgorithmBit } from "../../formats/device-safe/limits.js";
import { loadPublicKeySpec } from "../keys/public-key-spec.js";
import { FwsealError } from "../errors.js";

export function asList(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

export async function loadRoots(roots: string[]): Promise<Uint8Array[]> {
  if (roots.length === 0) throw new FwsealError("USAGE", "--root is required");
  const out: Uint8Array[] = [];
  for (const r of roots) out.push(await loadPublicKeySpec(r)); // file, hex or pkcs11: URI
  return out;
}

/**
 * The device's retired-slot bitmask from repeated --retired-slot, each a slot that exists
 * among the `rootCount` roots given (a slot beyond them is a typo, not a device state).
 */
export function retiredMask(slots: readonly unknown[] | undefined, rootCount: number): number {
  let mask = 0;
  for (const s of slots ?? []) {
    const n = parseUint(s, "--retired-slot") as number;
    if (n >= rootCount) throw new FwsealError("USAGE", `--retired-slot ${n}: the device has ${rootCount} root slot(s) (--root), numbered 0..${rootCount - 1}`);
    mask |= 1 << n;
  }
  return mask;
}

export function parseUint(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === "number" ? v : Number(String(v));
  if (!Number.isSafeInteger(n) || n < 0) throw new FwsealError("USAGE", `${what} must be a non-negative integer`);
  return n;
}

/** Algorithm names the CLI takes for hybrid policies (--require-alg, --boot-alg), and their AlgorithmBits. */
const ALGORITHM_FLAGS: Record<string, number> = { ed25519: AlgorithmBit.ED25519, "hss-lms": AlgorithmBit.HSS_LMS };

/** AlgorithmBits from a repeated or comma-separated list of "ed25519" / "hss-lms" (absent: 0). */
export function algorithmMask(list: readonly unknown[] | undefined, flag: string): number {
  let mask = 0;
  for (const item of list ?? []) {
    for (const name of String(item).split(",")) {
      const bit = ALGORITHM_FLAGS[name.trim().toLowerCase()];
      if (bit === undefined) throw new FwsealError("USAGE", `${flag} ${name}: not an algorithm (ed25519, hss-lms)`);
      mask |= bit;
    }
  }
  return mask;
}

/** The device trust policy options device-sim and espruino provision share (one set of flags for both kinds of device). */
export interface DevicePolicyArgs {
  root: string[];
  vendor: string;
  class: string;
  threshold: number;
  "root-threshold": number;
  "require-alg"?: string[];
  "boot-alg"?: string[];
}
