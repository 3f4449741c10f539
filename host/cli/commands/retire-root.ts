// fwseal retire-root: a signed statement that retires one root slot on every device of a
// vendor (or class), signed by the keys of OTHER live slots (formats/SPEC.md §11: a device
// needs a majority of its other live roots); --cosign, which adds one more root's signature
// to a statement (custodians at different sites); and --check, which applies a statement to
// a device state exactly as the device core does.
import { packRoots } from "../../../formats/host-only/root-slots.js";
import type { CommandModule } from "yargs";
import { createRootRetirement, cosignRootRetirement, decodeRootStatement, checkRootStatement } from "../../keys/root-retirement.js";
import { closeSigners, keySourceOf, type LoadedSigner } from "../../keys/signer-loader.js";
import { loadPublicKeySpec } from "../../keys/public-key-spec.js";
import { loadRoots, asList, parseUint, retiredMask } from "../key-options.js";
import { loadSigners } from "../signer-options.js";
import { readInput } from "../../io/input-file.js";
import { writeFileAtomic } from "../../io/atomic-write.js";
import { auditOptions, auditSigning, preflightAudit, type AuditArgs } from "../../audit/audit-log.js";
import { keyIdHex } from "../../keys/keys.js";
import { out } from "../output.js";
import { outDocument } from "../json-document.js";
import { forceOption } from "../argument-checks.js";
import { FwsealError, rejectionError } from "../../errors.js";
import { vendorUuid, classUuid, formatUuid } from "../../../formats/host-only/uuid.js";
import { Reason } from "../../../formats/device-safe/reasons.js";

interface Args extends AuditArgs {
  key?: string | string[];
  cosign?: string;
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
  "retire-threshold"?: number;
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

function slotsOf(mask: number): number[] {
  const out: number[] = [];
  for (let s = 0; s < 32; s++) if ((mask >>> s) & 1) out.push(s);
  return out;
}

// The signing roots: every --key (a .key file or a pkcs11: URI).
function loadKeys(a: Args): Promise<LoadedSigner[]> {
  return loadSigners(asList(a.key), [], a["passphrase-file"], a.audit);
}

// --cosign: one more root signs an existing statement.
async function cosign(a: Args): Promise<void> {
  const keys = asList(a.key);
  if (keys.length !== 1 || a.output === undefined) throw new FwsealError("USAGE", "retire-root --cosign needs exactly one --key and -o");
  await preflightAudit(a);
  const stmt = await readInput(a.cosign as string);
  const before = decodeRootStatement(stmt);
  const [signer] = await loadKeys(a);
  let out2: Uint8Array;
  try {
    out2 = await cosignRootRetirement(stmt, signer);
  } finally {
    closeSigners([signer]);
  }
  await writeFileAtomic(a.output, out2, { overwrite: !!a.force });
  await auditSigning(a, "retire-root", [signer.keyId], signer.source, a.output, { slot: before.slot, counter: before.counter, retiredKeyId: before.retiredKeyId, cosign: true });
  const ids = decodeRootStatement(out2).signerKeyIds;
  if (a.json) {
    outDocument({ file: a.output, bytes: out2.length, slot: before.slot, counter: before.counter, signerKeyIds: ids });
    return;
  }
  out(`${a.output}: retires slot ${before.slot} (key ${before.retiredKeyId}), counter ${before.counter}; signed by ${ids.join(", ")}`);
}

async function check(a: Args): Promise<void> {
  const stmt = await readInput(a.check as string);
  const roots = await loadRoots(asList(a.root));
  const packed = packRoots(roots);
  const retired = retiredMask(a["retired-slot"], roots.length);
  const { vendorId, classId } = ids(a);
  if (a.class === undefined) throw new FwsealError("USAGE", "--check needs the device's --class");
  const stored = parseUint(a["stored-counter"] ?? 0, "--stored-counter") as number;
  const threshold = parseUint(a["retire-threshold"] ?? 0, "--retire-threshold") as number;
  const r = checkRootStatement(stmt, { roots: packed.roots, rootCount: roots.length, rootHssMask: packed.rootHssMask, rootRetired: retired, vendorId, classId: classId as Uint8Array }, stored, threshold);
  if (r.reason !== Reason.OK) {
    const need = r.reason === Reason.THRESHOLD_NOT_MET ? ` (needs ${r.required} signatures of other live root slots)` : "";
    throw rejectionError(r.reason, -1, `${a.check}: root-retirement statement refused${need}`);
  }
  const d = decodeRootStatement(stmt);
  const signedBy = slotsOf(r.signerMask);
  if (a.json) {
    outDocument({ file: a.check, slot: r.slot, signerSlot: r.signerSlot, signerSlots: signedBy, required: r.required, counter: r.counter, retiredMask: r.retiredMask, statement: d });
    return;
  }
  out(`${a.check}: OK: retires slot ${r.slot} (key ${d.retiredKeyId}), signed by slot${signedBy.length > 1 ? "s" : ""} ${signedBy.join(", ")} (${r.required} needed); counter ${r.counter}`);
  out(`  device stores: retired mask 0x${r.retiredMask.toString(16)}, statement counter ${r.counter}`);
}

/**
 * The three modes take different flags; one given to a mode that does not read it would be
 * silently ignored (`--check s.cose -o out`, `--check a --cosign b`): a usage error naming it.
 * Only flags a profile never fills are checked (the audit log may come from the profile).
 */
function refuseOtherModesFlags(a: Args): void {
  const mode = a.check !== undefined ? "--check" : a.cosign !== undefined ? "--cosign" : null;
  const given = (flags: readonly (keyof Args)[]): string[] => flags.filter((f) => a[f] !== undefined && a[f] !== false).map((f) => (f === "root" ? "--root" : f === "output" ? "-o" : f === "key" ? "--key" : `--${String(f)}`));
  const checking: (keyof Args)[] = ["root", "retired-slot", "stored-counter", "retire-threshold"];
  const creating: (keyof Args)[] = ["slot", "retire-pub", "counter", "note"];
  const wrong =
    mode === "--check" ? given(["cosign", "key", "output", "force", ...creating]) : mode === "--cosign" ? given([...checking, ...creating]) : given(checking);
  if (wrong.length === 0) return;
  const when = mode === null ? "when creating a statement" : `with ${mode}`;
  throw new FwsealError("USAGE", `${wrong.join(", ")}: not used ${when} (retire-root creates a statement, adds a signature with --cosign, or checks one with --check)`);
}

const command: CommandModule<object, Args> = {
  command: "retire-root",
  describe: "Create (or --check) a signed statement retiring a device root-key slot",
  builder: (y) =>
    auditOptions(
      forceOption(y, "Overwrite an existing statement file")
        .option("key", { alias: "k", type: "string", array: true, description: "Root key of ANOTHER live slot that signs (.key or pkcs11: URI); repeat for each root (a device needs a majority of its other live roots)" })
        .option("cosign", { type: "string", description: "Instead: add the signature of one more root (--key) to this statement" })
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
        .option("retire-threshold", { type: "number", description: "--check: the device's provisioned retirement threshold (default 0: a majority of its other live roots)" })
        .option("passphrase-file", { type: "string", description: "Passphrase for an encrypted key file" })
    )
      .example("$0 retire-root --key root1.key --key root2.key --slot 0 --retire-pub root0.pub --vendor acme.example -o retire-slot0.cose", "slots 1 and 2 retire the leaked slot-0 root")
      .example("$0 retire-root --key root1.key --slot 0 --retire-pub root0.pub --vendor acme.example -o retire-slot0-b.cose", "or at two sites: slot 1 signs first ...")
      .example("$0 retire-root --cosign retire-slot0-b.cose --key root2.key --vendor acme.example -o retire-slot0.cose", "... then slot 2 adds its signature (the input is kept)")
      .example("$0 retire-root --check retire-slot0.cose --root root0.pub --root root1.pub --root root2.pub --vendor acme.example --class hub", "what a three-slot device would do") as never,
  handler: async (a) => {
    refuseOtherModesFlags(a);
    if (a.check !== undefined) return check(a);
    if (a.cosign !== undefined) return cosign(a);
    if (a.key === undefined || a.slot === undefined || a["retire-pub"] === undefined || a.output === undefined) {
      throw new FwsealError("USAGE", "retire-root needs --key (one per signing root), --slot, --retire-pub and -o (or --cosign / --check <statement>)");
    }
    await preflightAudit(a);
    const slot = parseUint(a.slot, "--slot") as number;
    const counter = a.counter !== undefined ? (parseUint(a.counter, "--counter") as number) : Math.floor(Date.now() / 1000);
    const retiredKey = await loadPublicKeySpec(a["retire-pub"]);
    const { vendorId, classId } = ids(a);
    const signers = await loadKeys(a);
    let stmt: Uint8Array;
    try {
      stmt = await createRootRetirement(signers, { slot, counter, vendorId, classId, retiredKey, note: a.note });
    } finally {
      closeSigners(signers);
    }
    const keyIds = signers.map((s) => s.keyId);
    await writeFileAtomic(a.output, stmt, { overwrite: !!a.force });
    await auditSigning(a, "retire-root", keyIds, keySourceOf(signers), a.output, {
      slot, counter, retiredKeyId: keyIdHex(retiredKey), vendorId: formatUuid(vendorId), ...(classId ? { classId: formatUuid(classId) } : {}), ...(a.note !== undefined ? { note: a.note } : {})
    });
    if (a.json) {
      outDocument({ file: a.output, bytes: stmt.length, slot, counter, signerKeyId: keyIds[0], signerKeyIds: keyIds, retiredKeyId: keyIdHex(retiredKey) });
      return;
    }
    out(`${a.output}: retires slot ${slot} (key ${keyIdHex(retiredKey)}), signed by ${keyIds.join(", ")}, counter ${counter}`);
    out(`  vendor ${formatUuid(vendorId)}${classId ? `, class ${formatUuid(classId)}` : ", every class"}`);
  }
};
export default command;
