// fwseal init: write a project profile (fwseal.json) from flags, so later commands in this
// folder (and below) take vendor, class, roots, policy, port, baud and audit log from it.
// Paths given here are relative to the working directory; the profile stores them relative
// to its own folder, which is how it reads them back.
import * as path from "node:path";
import type { CommandModule } from "yargs";
import { writeFileAtomic } from "../../io/atomic-write.js";
import { FwsealError } from "../../errors.js";
import { forceOption } from "../argument-checks.js";
import { out } from "../output.js";
import { outDocument } from "../json-document.js";
import { checkProfile, isKeyFileSpec, PROFILE_FILE, type ProfileSettings } from "../profile.js";
import { parseUint } from "../key-options.js";
import { loadPublicKey } from "../../keys/keys.js";

interface Args {
  vendor?: string;
  class?: string;
  root?: string[];
  threshold?: number;
  "root-threshold"?: number;
  "min-seq"?: number;
  "min-epoch"?: number;
  port?: string;
  baud?: number;
  audit?: string;
  output: string;
  force?: boolean;
  json?: boolean;
}

/** `p` (relative to the working directory) as the profile in `dir` will read it. */
function relativeTo(dir: string, p: string): string {
  const rel = path.relative(dir, path.resolve(p));
  return rel === "" ? "." : rel.split(path.sep).join("/");
}

/** The profile the flags describe (only what was given), paths relative to the profile's folder. */
export function profileFromFlags(a: Args, dir: string): ProfileSettings {
  const uint = (v: number | undefined, flag: string): number | undefined => parseUint(v, flag);
  const policy = {
    threshold: uint(a.threshold, "--threshold"),
    rootThreshold: uint(a["root-threshold"], "--root-threshold"),
    minSequence: uint(a["min-seq"], "--min-seq"),
    minEpoch: uint(a["min-epoch"], "--min-epoch")
  };
  const p: ProfileSettings = {
    vendor: a.vendor,
    class: a.class,
    roots: a.root?.map((r) => (isKeyFileSpec(r) ? relativeTo(dir, r) : r)),
    policy: Object.values(policy).some((v) => v !== undefined) ? policy : undefined,
    port: a.port !== undefined && a.port.includes("/") && !path.isAbsolute(a.port) ? relativeTo(dir, a.port) : a.port,
    baud: uint(a.baud, "--baud"),
    audit: a.audit !== undefined ? relativeTo(dir, a.audit) : undefined
  };
  return JSON.parse(JSON.stringify(p)) as ProfileSettings; // drops the absent fields
}

const command: CommandModule<object, Args> = {
  command: "init",
  describe: "Write a project profile (fwseal.json): defaults for vendor, class, roots, policy, port, baud, audit log",
  builder: (y) =>
    forceOption(y, "Replace an existing profile")
      .option("vendor", { type: "string", description: "Vendor domain or UUID" })
      .option("class", { type: "string", description: "Device class name or UUID" })
      .option("root", { alias: "r", type: "string", array: true, description: "Device root public key(s), in slot order (files, 64 hex digits or pkcs11: URIs)" })
      .option("threshold", { type: "number", description: "Distinct authorised signers verify requires" })
      .option("root-threshold", { type: "number", description: "Distinct roots those signers must come through" })
      .option("min-seq", { type: "number", description: "Minimum sequence verify enforces" })
      .option("min-epoch", { type: "number", description: "Minimum key epoch verify enforces" })
      .option("port", { type: "string", description: "Serial port of the device (flash, espruino)" })
      .option("baud", { type: "number", description: "Serial line speed" })
      .option("audit", { type: "string", description: "Audit log of signing operations" })
      .option("output", { alias: "o", type: "string", default: PROFILE_FILE, description: "Profile file to write" })
      .example("$0 init --vendor acme.example --class sensor-v3 --root keys/root.pub --audit release-audit.log", "then: fwseal verify fw.fwb")
      .example("$0 init --vendor acme.example --class hub --root r0.pub --root r1.pub --threshold 2 --root-threshold 2 --port /dev/ttyACM0", "a two-person policy and a device port") as never,
  handler: async (a) => {
    if (path.extname(a.output) !== ".json") throw new FwsealError("USAGE", `${a.output}: a profile is a .json file (fwseal.json)`);
    const file = path.resolve(a.output);
    const profile = profileFromFlags(a, path.dirname(file));
    checkProfile(profile, file);
    // A root that does not load would make every later verify fail on it: refused here, where
    // it was typed. (Token URIs are read when used: the token may not be present now.)
    for (const r of a.root ?? []) if (!r.startsWith("pkcs11:")) await loadPublicKey(r, { prompt: false });
    await writeFileAtomic(file, JSON.stringify(profile, null, 2) + "\n", { overwrite: !!a.force });
    if (a.json) {
      outDocument({ file: a.output, profile });
      return;
    }
    out(`profile ${a.output}: ${Object.keys(profile).length === 0 ? "empty (give --vendor, --class, --root...)" : Object.keys(profile).join(", ")}`);
  }
};
export default command;
