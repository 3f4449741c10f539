// fwseal delegate: root key -> delegation certificate for a release key.
import type { CommandModule } from "yargs";
import { delegate, parseTime } from "../../keys/delegate.js";
import { loadPublicKey } from "../../keys/keys.js";
import { loadSigner, closeSigners } from "../../keys/signer-loader.js";
import { auditOptions, auditSigning, preflightAudit } from "../../audit/audit-log.js";
import { asList, parseUint } from "../key-options.js";
import { out, err } from "../output.js";
import { outDocument, rfc3339 } from "../json-document.js";
import { forceOption } from "../argument-checks.js";

interface Args {
  root: string;
  pub: string;
  output: string;
  "not-before"?: string;
  "not-after"?: string;
  epoch?: number;
  vendor?: string;
  class?: string | string[];
  "passphrase-file"?: string;
  force?: boolean;
  json?: boolean;
  audit?: string;
  operator?: string;
}

function when(t: number | null): string {
  return t === null ? "-" : new Date(t * 1000).toISOString().replace(".000Z", "Z");
}

const command: CommandModule<object, Args> = {
  command: "delegate",
  describe: "Sign a delegation certificate for a release key with a root key",
  builder: (y) =>
    forceOption(auditOptions(y), "Overwrite an existing certificate file")
      .option("root", { type: "string", demandOption: true, description: "Root private key (.key file or pkcs11: URI)" })
      .option("pub", { type: "string", demandOption: true, description: "Release public key (.pub, or 64 hex digits)" })
      .option("output", { alias: "o", type: "string", demandOption: true, description: "Certificate file to write" })
      .option("not-before", { type: "string", description: "Valid from (ISO 8601 date/time or seconds since 1970)" })
      .option("not-after", { type: "string", description: "Valid until, inclusive (ISO 8601 date/time or seconds since 1970; a bare date means the end of that day, UTC)" })
      .option("epoch", { type: "number", default: 0, description: "Key epoch; devices reject epochs below their minimum" })
      .option("vendor", { type: "string", description: "Restrict to a vendor (domain name or UUID)" })
      .option("class", { type: "string", array: true, description: "Restrict to device class(es) (name or UUID; repeatable, needs --vendor for names)" })
      .option("passphrase-file", { type: "string", description: "Passphrase for an encrypted root key" })
      .example("$0 delegate --root root.key --pub release.pub --epoch 1 --not-after 2027-12-31 -o release.cert", "one-year release key")
      .example("$0 delegate --root root.key --pub rel.pub --vendor acme.example --class sensor-v3 -o rel.cert", "key limited to one device class") as never,
  handler: async (a) => {
    await preflightAudit(a);
    const subject = await loadPublicKey(a.pub);
    const root = await loadSigner(a.root, { passphraseFile: a["passphrase-file"], audit: a.audit });
    const r = await delegate({
      root,
      subject,
      epoch: parseUint(a.epoch, "--epoch"),
      notBefore: a["not-before"] !== undefined ? parseTime(a["not-before"], "--not-before") : undefined,
      // A bare date is the whole day, inclusive: --not-after 2027-12-31 = until 2027-12-31T23:59:59Z.
      notAfter: a["not-after"] !== undefined ? parseTime(a["not-after"], "--not-after") + (/^\d{4}-\d{2}-\d{2}$/.test(a["not-after"]) ? 86399 : 0) : undefined,
      vendor: a.vendor,
      classes: asList(a.class),
      output: a.output,
      overwrite: !!a.force
    }).finally(() => closeSigners([root]));
    await auditSigning(a, "delegate", [r.rootKeyId], root.source, r.output ?? undefined, {
      subjectKeyId: r.subjectKeyId, epoch: r.epoch, notBefore: r.notBefore, notAfter: r.notAfter, vendorId: r.vendorId, classIds: r.classIds
    });
    for (const w of r.warnings) err(`fwseal: warning: ${w}`); // stderr only: stdout stays one JSON document
    if (a.json) {
      outDocument({
        warnings: r.warnings, file: r.output, sizeBytes: r.certificate.length, rootKeyId: r.rootKeyId, subjectKeyId: r.subjectKeyId, epoch: r.epoch,
        notBefore: r.notBefore, notBeforeUtc: rfc3339(r.notBefore), notAfter: r.notAfter, notAfterUtc: rfc3339(r.notAfter), vendorId: r.vendorId, classIds: r.classIds
      });
      return;
    }
    out(`certificate ${r.output} (${r.certificate.length} bytes)`);
    out(`  root ${r.rootKeyId} delegates to release key ${r.subjectKeyId}, epoch ${r.epoch}`);
    out(`  valid ${when(r.notBefore)} .. ${when(r.notAfter)}`);
    out(`  vendor ${r.vendorId ?? "any"}; classes ${r.classIds ? r.classIds.join(", ") : "any"}`);
  }
};
export default command;
