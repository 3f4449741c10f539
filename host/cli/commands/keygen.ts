// fwseal keygen --out <prefix>: a new Ed25519 key pair as PKCS#8 / SPKI PEM files.
import type { CommandModule } from "yargs";
import { keygen } from "../../keys/keys.js";
import { out, outJson } from "../output.js";
import { pkcs11KeygenCli } from "../pkcs11-keygen.js";
import { FwsealError } from "../../errors.js";

interface Args {
  out?: string;
  pkcs11?: string;
  audit?: string;
  operator?: string;
  encrypt?: boolean;
  "passphrase-file"?: string;
  force?: boolean;
  json?: boolean;
}

const command: CommandModule<object, Args> = {
  command: "keygen",
  describe: "Generate an Ed25519 key pair (<prefix>.key, mode 0600, and <prefix>.pub)",
  builder: (y) =>
    y
      .option("out", { alias: "o", type: "string", description: "Output prefix: writes <prefix>.key and <prefix>.pub (with --pkcs11: only <prefix>.pub)" })
      .option("pkcs11", { type: "string", description: "Generate the key ON a PKCS#11 token instead (non-extractable), named by an RFC 7512 URI: pkcs11:token=...;object=<label>; PIN from FWSEAL_PKCS11_PIN or a prompt" })
      .option("audit", { type: "string", description: "Audit log to record --pkcs11 key generation in (default $FWSEAL_AUDIT_LOG)" })
      .option("operator", { type: "string", description: "Operator name for the audit record (default $USER)" })
      .option("encrypt", { type: "boolean", description: "Encrypt the private key (PKCS#8, AES-256-CBC); passphrase from FWSEAL_PASSPHRASE, --passphrase-file or a prompt" })
      .option("passphrase-file", { type: "string", description: "File whose first line is the passphrase (implies --encrypt)" })
      .option("force", { type: "boolean", description: "Overwrite existing key files" })
      .example("$0 keygen --out root", "root.key + root.pub, prints the key ID")
      .example("$0 keygen --out rel --encrypt", "encrypted key (FWSEAL_PASSPHRASE or prompt)")
      .example("$0 keygen --pkcs11 'pkcs11:token=release;object=rel-2026' --out rel-2026", "key on an HSM / SoftHSM token; writes rel-2026.pub") as never,
  handler: async (a) => {
    if (a.pkcs11 !== undefined && (a.encrypt || a["passphrase-file"] !== undefined)) {
      throw new FwsealError("USAGE", `--pkcs11 and ${a.encrypt ? "--encrypt" : "--passphrase-file"} contradict each other: a token key never leaves the token, there is no key file to encrypt`);
    }
    if (a.pkcs11 !== undefined) return pkcs11KeygenCli({ ...a, pkcs11: a.pkcs11 });
    if (a.out === undefined) throw new FwsealError("USAGE", "keygen needs --out <prefix> (or --pkcs11 <uri>)");
    if (a.out !== undefined && (a.out === "" || /[\\/]$/.test(a.out))) {
      throw new FwsealError("USAGE", `--out ${JSON.stringify(a.out)}: give a file prefix, e.g. --out ${a.out}root (writes <prefix>.key and <prefix>.pub)`);
    }
    const r = await keygen({
      out: a.out,
      encrypt: !!a.encrypt || a["passphrase-file"] !== undefined,
      passphraseFile: a["passphrase-file"],
      force: a.force
    });
    if (a.json) {
      outJson({ ok: true, keyId: r.keyId, publicKey: r.publicKey, privateKeyFile: r.keyPath, publicKeyFile: r.pubPath, encrypted: r.encrypted });
      return;
    }
    out(`key ID ${r.keyId}`);
    out(`  private key: ${r.keyPath} (mode 0600${r.encrypted ? ", encrypted" : ", not encrypted: keep it offline"})`);
    out(`  public key:  ${r.pubPath}`);
  }
};
export default command;
