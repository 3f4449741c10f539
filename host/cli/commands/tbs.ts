// fwseal tbs: the exact bytes one signer signs for a draft (COSE_Sign Sig_structure with
// that signer's protected header). Feed them to any Ed25519 signer that signs raw messages:
//   openssl pkeyutl -sign -rawin -inkey key.pem -in tbs.bin -out sig.bin
import type { CommandModule } from "yargs";
import { createHash } from "node:crypto";
import { readDraft, draftToBeSigned } from "../../bundle/drafts.js";
import { loadPublicKeySpec } from "../../keys/public-key-spec.js";
import { keyIdHex } from "../../keys/keys.js";
import { writeFileAtomic } from "../../io/atomic-write.js";
import { out } from "../output.js";
import { outDocument } from "../json-document.js";
import { forceOption } from "../argument-checks.js";

interface Args {
  draft: string;
  "signer-key": string;
  output: string;
  force?: boolean;
  json?: boolean;
}

const command: CommandModule<object, Args> = {
  command: "tbs <draft>",
  describe: "Write the to-be-signed bytes of a draft for one signer's key (for external signing)",
  builder: (y) =>
    forceOption(y)
      .positional("draft", { type: "string", demandOption: true, description: "Draft bundle file" })
      .option("signer-key", { type: "string", demandOption: true, description: "The signer's public key (.pub, 64 hex digits, or pkcs11: URI)" })
      .option("output", { alias: "o", type: "string", demandOption: true, description: "File to write the bytes to" })
      .example("$0 tbs fw.draft --signer-key carol.pub -o carol.tbs", "then: openssl pkeyutl -sign -rawin -inkey carol.pem -in carol.tbs -out carol.sig") as never,
  handler: async (a) => {
    const d = await readDraft(a.draft);
    const pk = await loadPublicKeySpec(a["signer-key"]);
    const tbs = draftToBeSigned(d.payload, pk);
    await writeFileAtomic(a.output, tbs, { overwrite: !!a.force });
    if (a.json) {
      outDocument({ file: a.output, bytes: tbs.length, keyId: keyIdHex(pk), sha256: createHash("sha256").update(tbs).digest("hex") });
      return;
    }
    out(`${a.output}: ${tbs.length} bytes to be signed by key ${keyIdHex(pk)} (version ${d.manifest.version}, sequence ${d.manifest.sequence})`);
  }
};
export default command;
