// fwseal attach-signature: add a signature made outside fwseal (openssl, an HSM tool, a
// signing service) over the bytes `fwseal tbs` wrote. The signature is checked against the
// public key and this draft before anything is written.
import type { CommandModule } from "yargs";
import { addSignature } from "../../bundle/drafts.js";
import { draftDoc } from "../draft-notice.js";
import { loadPublicKeySpec } from "../../keys/public-key-spec.js";
import { readInput } from "../../io/input-file.js";
import { auditOptions, auditSigning, preflightAudit, type AuditArgs } from "../../audit/audit-log.js";
import { out, err } from "../output.js";
import { outDocument } from "../json-document.js";
import { forceOption, inPlaceOrOutput } from "../argument-checks.js";
import { FwsealError } from "../../errors.js";
import { Limits } from "../../../formats/device-safe/limits.js";
import { isHssKey } from "../../../formats/host-only/keyid.js";

interface Args extends AuditArgs {
  draft: string;
  pub: string;
  sig: string;
  cert?: string;
  output?: string;
  "in-place"?: boolean;
  force?: boolean;
  json?: boolean;
}

/**
 * Raw 64 bytes (openssl pkeyutl output), or 128 hex digits / base64 text; for an HSS/LMS key
 * (`hss`), the raw HSS signature (RFC 8554 §6.2) or its hex (up to MAX_HSS_SIGNATURE bytes).
 */
export async function readSignatureFile(path: string, hss = false): Promise<Uint8Array> {
  const raw = await readInput(path);
  if (hss) {
    const text = Buffer.from(raw).toString("latin1").trim();
    const bytes = /^(?:[0-9a-fA-F]{2})+$/.test(text) ? new Uint8Array(Buffer.from(text, "hex")) : raw;
    if (bytes.length > 64 && bytes.length <= Limits.MAX_HSS_SIGNATURE) return bytes;
    throw new FwsealError("INPUT_UNREADABLE", `${path}: not an HSS/LMS signature (${bytes.length} bytes; expected 65..${Limits.MAX_HSS_SIGNATURE} raw bytes or hex)`);
  }
  if (raw.length === 64) return raw;
  const text = Buffer.from(raw).toString("latin1").trim();
  if (/^[0-9a-fA-F]{128}$/.test(text)) return new Uint8Array(Buffer.from(text, "hex"));
  if (/^[A-Za-z0-9+/]{86}==$/.test(text)) return new Uint8Array(Buffer.from(text, "base64"));
  throw new FwsealError("INPUT_UNREADABLE", `${path}: not an Ed25519 signature (${raw.length} bytes; expected 64 raw bytes, 128 hex digits or base64)`);
}

const command: CommandModule<object, Args> = {
  command: "attach-signature <draft>",
  describe: "Add an externally made signature (Ed25519, e.g. openssl pkeyutl -sign -rawin, or HSS/LMS) to a draft",
  builder: (y) =>
    auditOptions(
      forceOption(y, "Overwrite an existing -o file; sign even with a certificate a device would refuse for this draft")
        .positional("draft", { type: "string", demandOption: true, description: "Draft bundle file (left as it is unless --in-place)" })
        .option("pub", { type: "string", demandOption: true, description: "Signer's public key (.pub, 64 hex digits, or pkcs11: URI)" })
        .option("sig", { type: "string", demandOption: true, description: "Signature file: 64 raw bytes (or hex / base64 text)" })
        .option("cert", { alias: "c", type: "string", description: "Delegation certificate of the key (omit for a root key)" })
        .option("output", { alias: "o", type: "string", description: "Signed draft file to write" })
        .option("in-place", { type: "boolean", description: "Update the draft file itself instead of writing -o" })
    )
      .example("$0 tbs fw.draft --signer-key carol.pub -o carol.tbs", "1. the bytes Carol signs")
      .example("openssl pkeyutl -sign -rawin -inkey carol.pem -in carol.tbs -out carol.sig", "2. Carol signs offline")
      .example("$0 attach-signature fw.draft --pub carol.pub --sig carol.sig --cert carol.cert --in-place", "3. attach it") as never,
  handler: async (a) => {
    inPlaceOrOutput(a);
    await preflightAudit(a);
    const publicKey = await loadPublicKeySpec(a.pub);
    const signature = await readSignatureFile(a.sig, isHssKey(publicKey));
    const certificate = a.cert !== undefined ? await readInput(a.cert) : undefined;
    const r = await addSignature(a.draft, { publicKey, signature, certificate }, { output: a.output, certPath: a.cert, overwrite: !!a.force, force: !!a.force });
    const m = r.draft.manifest;
    await auditSigning(a, "attach-signature", [r.keyId], "external", r.output, {
      version: m.version, sequence: m.sequence, vendorId: m.vendorId, classId: m.classId, imageSize: m.imageSize,
      chainHead: m.chainHead, signatures: r.signatures, ...(m.keyEpochFloor !== null ? { keyEpochFloor: m.keyEpochFloor } : {}),
      ...(r.warnings.length > 0 ? { forced: r.warnings } : {})
    });
    for (const w of r.warnings) err(`fwseal: warning: ${w}`);
    if (a.json) {
      outDocument({ warnings: r.warnings, file: r.output, keyId: r.keyId, keySource: "external", signatureCount: r.signatures, ...draftDoc(r.draft) });
      return;
    }
    const k = r.draft.policy.threshold;
    out(`${r.output}: signature of ${r.keyId} verified and attached; ${r.signatures} signature(s)${k !== undefined ? ` of ${k} required` : ""}`);
  }
};
export default command;
