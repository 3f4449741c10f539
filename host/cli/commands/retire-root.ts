// fwseal retire-root: a signed statement that retires one root slot on every device of a
// vendor (or class), signed by the key of ANOTHER live slot (formats/SPEC.md §11); and
// --check, which applies a statement to a device state exactly as the device core does.
import type { CommandModule } from "yargs";
import { createRootRetirement, decodeRootStatement, checkRootStatement } from "../../keys/root-retirement.js";
import { loadSigner, loadPublicKeySpec, closeSigners } from "../../keys/signer-loader.js";
import { loadRoots, asList, parseUint, retiredMask } from "../key-options.js";
import { readInput } from "../../io/input-file.js";
import { writeFileAtomic } from "../../io/atomic-write.js";
import { auditOptions, auditSigning, preflightAudit, type AuditArgs } from "../../audit/audit-log.js";
import { keyIdHex } from "../../keys/keys.js";
import { out, outJson } from "../output.js";
import { forceOption } from "../argument-checks.js";
import { FwsealError, rejectionError } from "../../errors.js";
import { vendorUuid, classUuid, formatUuid } from "../../../formats/host-only/uuid.js";
import { Reason } from "../../../formats/device-safe/reasons.js";

interface Args extends AuditArgs {
  key?: string;
  slot?: number;
  "retire-pub"?: string;
  counter?: number;
  vendor: string;
  class?: string;
  note?: string;
  output?: string;
  check?: string;
  root?: string | string[];
  "retired-slot"?: number[];
  "stored-counter"?: number;
  "passphrase-file"?: string;
  force?: boolean;
  json?: boolean;
}

function ids(a: Args): { vendorId: Uint8Array; classId?: Uint8Array } {
  try {
    const vendorId = vendorUuid(a.vendor);
    return { vendorId, ...(a.class !== undefined ? { classId: classUuid(vendorId, a.class) } : {}) };
  } catch (e) {
    throw new FwsealError("USAGE", (e as Error).message);
  }
}

async function check(a: Args): Promise<void> {
  const stmt = await readInput(a.check as string);
  const roots = await loadRoots(asList(a.root));
  const buf = new Uint8Array(32 * roots.length);
  roots.forEach((r, i) => buf.set(r, 32 * i));
  const retired = retiredMask(a["retired-slot"], roots.length);
  const { vendorId, classId } = ids(a);
  if (a.class === undefined) throw new FwsealError("USAGE", "--check needs the device's --class");
  const stored = parseUint(a["stored-counter"] ?? 0, "--stored-counter") as number;
  const r = checkRootStatement(stmt, { roots: buf, rootCount: roots.length, rootRetired: retired, vendorId, classId: classId as Uint8Array }, stored);
  if (r.reason !== Reason.OK) throw rejectionError(r.reason, -1, `${a.check}: root-retirement statement refused`);
  const d = decodeRootStatement(stmt);
  if (a.json) {
    outJson({ ok: true, file: a.check, slot: r.slot, signerSlot: r.signerSlot, counter: r.counter, retiredMask: r.retiredMask, statement: d });
    return;
  }
  out(`${a.check}: OK: retires slot ${r.slot} (key ${d.retiredKeyId}), signed by slot ${r.signerSlot}; counter ${r.counter}`);
  out(`  device stores: retired mask 0x${r.retiredMask.toString(16)}, statement counter ${r.counter}`);
}

const command: CommandModule<object, Args> = {
  command: "retire-root",
  describe: "Create (or --check) a signed statement retiring a device root-key slot",
  builder: (y) =>
    auditOptions(
      forceOption(y, "Overwrite an existing statement file")
        .option("key", { alias: "k", type: "string", description: "Root key of ANOTHER live slot that signs (.key or pkcs11: URI)" })
        .option("slot", { type: "number", description: "Slot to retire (0..3)" })
        .option("retire-pub", { type: "string", description: "Public key of the root in that slot (.pub / hex / pkcs11:)" })
        .option("counter", { type: "number", description: "Anti-replay counter, above every earlier statement's (default: now, in seconds)" })
        .option("vendor", { type: "string", demandOption: true, description: "Vendor domain or UUID" })
        .option("class", { type: "string", description: "Device class (name or UUID); omit to cover every class of the vendor" })
        .option("note", { type: "string", description: "Human note carried in the statement (e.g. incident ID)" })
        .option("output", { alias: "o", type: "string", description: "Statement file to write" })
        .option("check", { type: "string", description: "Instead: check this statement as a device would" })
        .option("root", { alias: "r", type: "string", array: true, description: "--check: device root public keys in slot order" })
        .option("retired-slot", { type: "number", array: true, description: "--check: slots the device already marks retired" })
        .option("stored-counter", { type: "number", description: "--check: the device's stored statement counter (default 0)" })
        .option("passphrase-file", { type: "string", description: "Passphrase for an encrypted key file" })
    )
      .example("$0 retire-root --key root1.key --slot 0 --retire-pub root0.pub --vendor acme.example -o retire-slot0.cose", "slot 1 retires the leaked slot-0 root")
      .example("$0 retire-root --check retire-slot0.cose --root root0.pub --root root1.pub --vendor acme.example --class hub", "what a device would do") as never,
  handler: async (a) => {
    if (a.check !== undefined) return check(a);
    if (a.key === undefined || a.slot === undefined || a["retire-pub"] === undefined || a.output === undefined) {
      throw new FwsealError("USAGE", "retire-root needs --key, --slot, --retire-pub and -o (or --check <statement>)");
    }
    await preflightAudit(a);
    const slot = parseUint(a.slot, "--slot") as number;
    const counter = a.counter !== undefined ? (parseUint(a.counter, "--counter") as number) : Math.floor(Date.now() / 1000);
    const retiredKey = await loadPublicKeySpec(a["retire-pub"]);
    const { vendorId, classId } = ids(a);
    const signer = await loadSigner(a.key, { passphraseFile: a["passphrase-file"] });
    let stmt: Uint8Array;
    try {
      stmt = await createRootRetirement(signer, { slot, counter, vendorId, classId, retiredKey, note: a.note });
    } finally {
      closeSigners([signer]);
    }
    await writeFileAtomic(a.output, stmt, { overwrite: !!a.force });
    await auditSigning(a, "retire-root", [signer.keyId], signer.source, a.output, {
      slot, counter, retiredKeyId: keyIdHex(retiredKey), vendorId: formatUuid(vendorId), ...(classId ? { classId: formatUuid(classId) } : {}), ...(a.note !== undefined ? { note: a.note } : {})
    });
    if (a.json) {
      outJson({ ok: true, file: a.output, bytes: stmt.length, slot, counter, signerKeyId: signer.keyId, retiredKeyId: keyIdHex(retiredKey) });
      return;
    }
    out(`${a.output}: retires slot ${slot} (key ${keyIdHex(retiredKey)}), signed by ${signer.keyId}, counter ${counter}`);
    out(`  vendor ${formatUuid(vendorId)}${classId ? `, class ${formatUuid(classId)}` : ", every class"}`);
  }
};
export default command;
