// fwseal keygen --out <prefix>: a new Ed25519 key pair as PKCS#8 / SPKI PEM files.
import type { CommandModule } from "yargs";
import { keygen } from "../keys.js";
import { out, outJson } from "../cli-support.js";

interface Args {
  out: string;
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
      .option("out", { alias: "o", type: "string", demandOption: true, description: "Output prefix: writes <prefix>.key and <prefix>.pub" })
      .option("encrypt", { type: "boolean", description: "Encrypt the private key (PKCS#8, AES-256-CBC); passphrase from FWSEAL_PASSPHRASE, --passphrase-file or a prompt" })
      .option("passphrase-file", { type: "string", description: "File whose first line is the passphrase (implies --encrypt)" })
      .option("force", { type: "boolean", description: "Overwrite existing key files" })
      .example("$0 keygen --out root", "root.key + root.pub, prints the key ID")
      .example("$0 keygen --out rel --encrypt", "encrypted key (FWSEAL_PASSPHRASE or prompt)") as never,
  handler: async (a) => {
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
