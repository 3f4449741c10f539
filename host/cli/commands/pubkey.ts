// fwseal pubkey <key-or-pub> --format pem|hex|c|ts|cose: the public key in the form a
// device build needs (C array to burn in, TypeScript constant, COSE_Key).
import type { CommandModule } from "yargs";
import { loadPublicKey } from "../../keys/keys.js";
import { formatPublicKey, type PubkeyFormat } from "../../keys/pubkey-format.js";
import { out } from "../output.js";
import { outDocument } from "../json-document.js";
import { writeFileAtomic } from "../../io/atomic-write.js";
import { keyIdHex } from "../../keys/keys.js";
import { loadHssPublicKey } from "../../keys/hss-lms.js";
import { forceOption } from "../argument-checks.js";

interface Args {
  key: string;
  format: PubkeyFormat;
  name?: string;
  output?: string;
  "passphrase-file"?: string;
  force?: boolean;
  json?: boolean;
}

const command: CommandModule<object, Args> = {
  command: "pubkey <key>",
  describe: "Export a public key (from a .pub or .key file) for burning into a device",
  builder: (y) =>
    forceOption(y, "Overwrite an existing -o file")
      .positional("key", { type: "string", demandOption: true, description: "Public key (.pub), private key (.key), 64 hex digits (Ed25519) or 120 (HSS/LMS)" })
      .option("format", { alias: "f", choices: ["pem", "hex", "c", "ts", "cose"] as const, default: "hex" as PubkeyFormat, description: "Output format" })
      .option("name", { type: "string", description: "Identifier for --format c|ts (default fwseal_root_pubkey / FWSEAL_ROOT_PUBKEY)" })
      .option("output", { alias: "o", type: "string", description: "Write to a file instead of stdout" })
      .option("passphrase-file", { type: "string", description: "Passphrase for an encrypted .key" })
      .example("$0 pubkey root.pub --format c > root_pubkey.h", "C array for the bootloader")
      .example("$0 pubkey root.pub --format ts", "TypeScript constant for the device core")
      .example("$0 pubkey root.key --format cose -o root.cose", "COSE_Key (CBOR) file") as never,
  handler: async (a) => {
    const hss = await loadHssPublicKey(a.key);
    const pk = hss ?? (await loadPublicKey(a.key, { passphraseFile: a["passphrase-file"] }));
    const text = formatPublicKey(pk, a.format, a.name);
    if (a.output !== undefined) {
      await writeFileAtomic(a.output, text, { overwrite: !!a.force });
      if (a.json) outDocument({ keyId: keyIdHex(pk), publicKey: pk, format: a.format, file: a.output });
      else out(`key ID ${keyIdHex(pk)}: wrote ${a.format} to ${a.output}`);
      return;
    }
    if (a.json) {
      outDocument({ keyId: keyIdHex(pk), publicKey: pk, format: a.format, text: typeof text === "string" ? text : Buffer.from(text).toString("hex") });
      return;
    }
    if (typeof text === "string") out(text.replace(/\n$/, ""));
    else out(Buffer.from(text).toString("hex")); // binary COSE_Key on a terminal: hex
  }
};
export default command;
