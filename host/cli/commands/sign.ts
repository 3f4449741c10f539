// fwseal sign: add ONE signature to a draft bundle (offline / k-of-n ceremonies). Run it
// once per key holder, on the air-gapped machine or against a token (--key pkcs11:...).
import type { CommandModule } from "yargs";
import { signDraft } from "../../bundle/drafts.js";
import { draftDoc } from "../draft-notice.js";
import { loadSigner, closeSigners } from "../../keys/signer-loader.js";
import { readInput } from "../../io/input-file.js";
import { auditOptions, auditSigning, preflightAudit, type AuditArgs } from "../../audit/audit-log.js";
import { out, err } from "../output.js";
import { outDocument } from "../json-document.js";
import { signRecordSummary } from "../../audit/signing-records.js";
import { forceOption, inPlaceOrOutput } from "../argument-checks.js";

interface Args extends AuditArgs {
  draft: string;
  key: string;
  cert?: string;
  output?: string;
  "in-place"?: boolean;
  force?: boolean;
  "passphrase-file"?: string;
  json?: boolean;
}

const command: CommandModule<object, Args> = {
  command: "sign <draft>",
  describe: "Add one signature to a draft bundle (from fwseal pack --unsigned)",
  builder: (y) =>
    auditOptions(
      forceOption(y, "Overwrite an existing -o file; sign even with a certificate a device would refuse for this draft")
        .positional("draft", { type: "string", demandOption: true, description: "Draft bundle file (left as it is unless --in-place)" })
        .option("key", { alias: "k", type: "string", demandOption: true, description: "Signing key: .key file or pkcs11: URI (PIN from FWSEAL_PKCS11_PIN or a prompt)" })
        .option("cert", { alias: "c", type: "string", description: "Delegation certificate of the key (omit for a root key)" })
        .option("output", { alias: "o", type: "string", description: "Signed draft file to write" })
        .option("in-place", { type: "boolean", description: "Update the draft file itself instead of writing -o" })
        .option("passphrase-file", { type: "string", description: "Passphrase for an encrypted key file" })
    )
      .example("$0 sign fw.draft --key alice.key --cert alice.cert -o fw-alice.draft", "Alice adds her signature (fw.draft is kept)")
      .example("FWSEAL_PKCS11_PIN=... $0 sign fw.draft --key 'pkcs11:token=release;object=bob' --cert bob.cert --in-place", "Bob signs with his HSM key, updating the draft") as never,
  handler: async (a) => {
    inPlaceOrOutput(a);
    await preflightAudit(a);
    const certificate = a.cert !== undefined ? await readInput(a.cert) : undefined;
    const signer = await loadSigner(a.key, { passphraseFile: a["passphrase-file"], certificate, audit: a.audit });
    let r;
    try {
      r = await signDraft(a.draft, signer, { output: a.output, certPath: a.cert, overwrite: !!a.force, force: !!a.force });
    } finally {
      closeSigners([signer]);
    }
    await auditSigning(a, "sign", [r.keyId], signer.source, r.output, signRecordSummary(r));
    for (const w of r.warnings) err(`fwseal: warning: ${w}`);
    if (a.json) {
      outDocument({ warnings: r.warnings, file: r.output, keyId: r.keyId, keySource: signer.source, signatureCount: r.signatures, ...draftDoc(r.draft) });
      return;
    }
    const k = r.draft.policy.threshold;
    out(`${r.output}: signed by ${r.keyId}${certificate ? " (delegated)" : ""}; ${r.signatures} signature(s)${k !== undefined ? ` of ${k} required` : ""}`);
  }
};
export default command;
