// CLI glue for token keys: `fwseal keygen --pkcs11 <uri>` (called from commands/keygen.ts).
import { pkcs11Keygen } from "../keys/pkcs11.js";
import { publicKeyToPem } from "../keys/keys.js";
import { writeFileAtomic } from "../io/atomic-write.js";
import * as fs from "node:fs";
import { auditIfConfigured, preflightAudit } from "../audit/audit-log.js";
import { FwsealError } from "../errors.js";
import { out } from "./output.js";
import { outDocument } from "./json-document.js";

export interface Pkcs11KeygenArgs {
  pkcs11: string;
  out?: string;
  force?: boolean;
  json?: boolean;
  audit?: string;
  operator?: string;
}

/** Generate a non-extractable Ed25519 key on the token; optionally write <out>.pub. */
export async function pkcs11KeygenCli(a: Pkcs11KeygenArgs): Promise<void> {
  // Refuse before touching the token: no key left behind for a command that then fails.
  if (a.out !== undefined && !a.force && fs.existsSync(`${a.out}.pub`)) {
    throw new FwsealError("OUTPUT_EXISTS", `${a.out}.pub: already exists (use --force to overwrite)`);
  }
  await preflightAudit(a);
  const r = await pkcs11Keygen(a.pkcs11);
  let pubPath: string | null = null;
  if (a.out !== undefined) {
    pubPath = `${a.out}.pub`;
    await writeFileAtomic(pubPath, publicKeyToPem(r.publicKey), { mode: 0o644, overwrite: !!a.force });
  }
  await auditIfConfigured(a.audit, { op: "keygen", keyIds: [r.keyId], keySource: "pkcs11", summary: { token: r.tokenLabel, uri: r.uri }, operator: a.operator });
  if (a.json) {
    outDocument({ keyId: r.keyId, publicKey: r.publicKey, uri: r.uri, token: r.tokenLabel, extractable: r.extractable, sensitive: r.sensitive, publicKeyFile: pubPath });
    return;
  }
  out(`key ID ${r.keyId}`);
  out(`  on token "${r.tokenLabel}": sensitive, not extractable`);
  out(`  use as: --key '${r.uri}'`);
  if (pubPath) out(`  public key:  ${pubPath}`);
}
