// fwseal keygen --out <prefix>: a new Ed25519 key pair as PKCS#8 / SPKI PEM files, or with
// --alg hss-lms a stateful HSS/LMS key (fwseal private key file, SPKI PEM public key).
import type { CommandModule } from "yargs";
import { keygen } from "../../keys/keys.js";
import { keygenHssLms } from "../../keys/hss-lms.js";
import { out } from "../output.js";
import { outDocument } from "../json-document.js";
import { pkcs11KeygenCli } from "../pkcs11-keygen.js";
import { FwsealError } from "../../errors.js";
import { parseUint } from "../key-options.js";
import { auditIfConfigured } from "../../audit/audit-log.js";
import { hssKeyInfoJson, printHssKeyInfo } from "../hss-key-report.js";

interface Args {
  out?: string;
  pkcs11?: string;
  audit?: string;
  operator?: string;
  encrypt?: boolean;
  "passphrase-file"?: string;
  force?: boolean;
  json?: boolean;
  alg?: "ed25519" | "hss-lms";
  "lms-height"?: string;
  "lmots-w"?: number;
  levels?: number;
  "warn-below"?: number;
}

/** Tree heights from --lms-height ("10", or "15,10" top first) and --levels. */
function hssHeights(a: Args): number[] {
  const list = (a["lms-height"] ?? "10").split(",").map((t) => Number(t.trim()));
  if (list.some((h) => !Number.isInteger(h))) throw new FwsealError("USAGE", `--lms-height ${JSON.stringify(a["lms-height"])}: one height (5, 10, 15, 20) or two, top first: 15,10`);
  const levels = a.levels ?? list.length;
  if (levels !== 1 && levels !== 2) throw new FwsealError("USAGE", `--levels ${levels}: HSS keys have 1 or 2 levels`);
  if (list.length === 1) return Array(levels).fill(list[0]) as number[];
  if (list.length !== levels) throw new FwsealError("USAGE", `--lms-height gives ${list.length} heights for --levels ${levels}`);
  return list;
}

/** keygen --alg hss-lms: generate, write, report (and record in the audit log when one is configured). */
async function keygenHssCli(a: Args & { out: string }): Promise<void> {
  if (a.encrypt || a["passphrase-file"] !== undefined) {
    throw new FwsealError("USAGE", "--alg hss-lms keys cannot be encrypted yet: the key file is rewritten at every signature; keep it on an offline machine");
  }
  const r = await keygenHssLms({ out: a.out, heights: hssHeights(a), w: a["lmots-w"] ?? 4, warnBelow: a["warn-below"], force: a.force });
  await auditIfConfigured(a.audit, { op: "keygen", keyIds: [r.keyId], keySource: "file", summary: { alg: "HSS-LMS", signatures: r.total }, operator: a.operator });
  if (a.json) {
    outDocument({ ...hssKeyInfoJson(r), privateKeyFile: r.keyPath, publicKeyFile: r.pubPath, seconds: r.seconds });
    return;
  }
  out(`key ID ${r.keyId}`);
  out(`  private key: ${r.keyPath} (mode 0600, STATEFUL: never copy it back from a backup; each signature advances its counter)`);
  out(`  public key:  ${r.pubPath}`);
  printHssKeyInfo(r);
  out(`  generated in ${r.seconds.toFixed(1)} s`);
}

const command: CommandModule<object, Args> = {
  command: "keygen",
  describe: "Generate a key pair (<prefix>.key, mode 0600, and <prefix>.pub): Ed25519, or a stateful HSS/LMS key",
  builder: (y) =>
    y
      .option("output", { alias: ["o", "out"], type: "string", description: "Output prefix: writes <prefix>.key and <prefix>.pub (with --pkcs11: only <prefix>.pub)" })
      .option("pkcs11", { type: "string", description: "Generate the key ON a PKCS#11 token instead (non-extractable), named by an RFC 7512 URI: pkcs11:token=...;object=<label>; PIN from FWSEAL_PKCS11_PIN or a prompt" })
      .option("audit", { type: "string", description: "Audit log to record --pkcs11 key generation in (default $FWSEAL_AUDIT_LOG)" })
      .option("operator", { type: "string", description: "Operator name for the audit record (default $USER)" })
      .option("encrypt", { type: "boolean", description: "Encrypt the private key (PKCS#8, AES-256-CBC); passphrase from FWSEAL_PASSPHRASE, --passphrase-file or a prompt" })
      .option("passphrase-file", { type: "string", description: "File whose first line is the passphrase (implies --encrypt)" })
      .option("force", { type: "boolean", description: "Overwrite existing key files" })
      .option("alg", { choices: ["ed25519", "hss-lms"] as const, default: "ed25519" as const, description: "Key algorithm: Ed25519, or HSS/LMS (RFC 8554, stateful hash-based, a fixed number of signatures)" })
      .option("lms-height", { type: "string", description: "HSS/LMS tree height: 5, 10, 15 or 20 (2^h signatures per tree); two levels: one height for both or top,bottom e.g. 15,10 (default 10)" })
      .option("lmots-w", { type: "number", description: "HSS/LMS Winternitz width 1, 2, 4 or 8: larger means smaller signatures and slower signing (default 4)" })
      .option("levels", { type: "number", description: "HSS levels, 1 or 2 (two levels: 2^(h1+h2) signatures for the generation cost of two small trees)" })
      .option("warn-below", { type: "number", description: "HSS/LMS: warn when fewer signatures remain (default 1% of the total)" })
      .example("$0 keygen --out root", "root.key + root.pub, prints the key ID")
      .example("$0 keygen --out rel --encrypt", "encrypted key (FWSEAL_PASSPHRASE or prompt)")
      .example("$0 keygen --alg hss-lms --lms-height 10 --lmots-w 4 --out pq", "HSS/LMS key with 1024 signatures")
      .example("$0 keygen --pkcs11 'pkcs11:token=release;object=rel-2026' --out rel-2026", "key on an HSM / SoftHSM token; writes rel-2026.pub") as never,
  handler: async (a) => {
    if (a.pkcs11 !== undefined && (a.encrypt || a["passphrase-file"] !== undefined)) {
      throw new FwsealError("USAGE", `--pkcs11 and ${a.encrypt ? "--encrypt" : "--passphrase-file"} contradict each other: a token key never leaves the token, there is no key file to encrypt`);
    }
    if (a.alg === "hss-lms" && a.pkcs11 !== undefined) throw new FwsealError("USAGE", "--alg hss-lms with --pkcs11: HSS/LMS keys are file keys only (PKCS#11 tokens hold Ed25519 keys)");
    if (a.alg !== "hss-lms") {
      for (const o of ["lms-height", "lmots-w", "levels", "warn-below"] as const) {
        if (a[o] !== undefined) throw new FwsealError("USAGE", `--${o} applies to --alg hss-lms only`);
      }
    }
    if (a["warn-below"] !== undefined) parseUint(a["warn-below"], "--warn-below"); // a count of signatures: -1 or 1.5 is a typo
    if (a.pkcs11 !== undefined) return pkcs11KeygenCli({ ...a, pkcs11: a.pkcs11 });
    if (a.out === undefined) throw new FwsealError("USAGE", "keygen needs -o/--output <prefix> (or --pkcs11 <uri>)");
    if (a.out !== undefined && (a.out === "" || /[\\/]$/.test(a.out))) {
      throw new FwsealError("USAGE", `--out ${JSON.stringify(a.out)}: give a file prefix, e.g. --out ${a.out}root (writes <prefix>.key and <prefix>.pub)`);
    }
    if (a.alg === "hss-lms") return keygenHssCli({ ...a, out: a.out });
    const r = await keygen({
      out: a.out,
      encrypt: !!a.encrypt || a["passphrase-file"] !== undefined,
      passphraseFile: a["passphrase-file"],
      force: a.force
    });
    if (a.json) {
      outDocument({ keyId: r.keyId, alg: "ed25519", publicKey: r.publicKey, privateKeyFile: r.keyPath, publicKeyFile: r.pubPath, encrypted: r.encrypted });
      return;
    }
    out(`key ID ${r.keyId}`);
    out(`  private key: ${r.keyPath} (mode 0600${r.encrypted ? ", encrypted" : ", not encrypted: keep it offline"})`);
    out(`  public key:  ${r.pubPath}`);
  }
};
export default command;
