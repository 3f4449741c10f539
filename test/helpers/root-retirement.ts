// Three root keys, release keys certified by the first two, bundles they sign and
// root-retirement statements (SPEC §11): the set-up shared by the RETIRE_ROOT suites (the
// device core in-process, and the serial line). A two-slot device holds root0 and root1; a
// three-slot device also root2.
import * as crypto from "node:crypto";
import { buildBundle } from "../../formats/host-only/bundle-builder.js";
import { createRootRetirement } from "../../host/keys/root-retirement.js";
import { generateKeyPair, LocalSigner, type KeyPair } from "../../host/keys/keys.js";
import { VENDOR, CLASS } from "./device.js";
import { sampleImage } from "./images.js";
import { makeKeys } from "./keys.js";

/** Roots 0, 1 and 2 of the device, and signers that chain to them. */
export interface RetirementKeys {
  root0: KeyPair;
  root1: KeyPair;
  root2: KeyPair;
  /** Release key certified by root 0. */
  via0: LocalSigner;
  /** Release key certified by root 1. */
  via1: LocalSigner;
  /** Root 0 signing bundles itself. */
  direct0: LocalSigner;
}

/** Fresh random keys for a device trusting two or three roots. */
export async function makeRetirementKeys(): Promise<RetirementKeys> {
  const keys0 = await makeKeys();
  const keys1 = await makeKeys();
  const root2 = generateKeyPair();
  return { root0: keys0.root, root1: keys1.root, root2, via0: keys0.releaseSigner, via1: keys1.releaseSigner, direct0: keys0.rootSigner };
}

/** The root public keys of a device with `count` (2 or 3) slots, in slot order. */
export function rootsOf(keys: RetirementKeys, count: number): Uint8Array[] {
  return [keys.root0, keys.root1, keys.root2].slice(0, count).map((k) => k.publicKey);
}

/** A bundle for the test device class, signed by `signer` alone. */
export function signedBundle(signer: LocalSigner, sequence: number, image = sampleImage(20_000, sequence), chunkSize = 4096): Promise<Uint8Array> {
  return buildBundle(
    image,
    {
      vendorId: VENDOR,
      classId: CLASS,
      sequence,
      version: `2.0.${sequence}`,
      chunkSize,
      sha256: (d) => new Uint8Array(crypto.createHash("sha256").update(d).digest())
    },
    [signer]
  );
}

/** Options of a statement: the signing roots (default root 1), the retired slot (default 0). */
export interface StatementOptions {
  by?: KeyPair | KeyPair[];
  slot?: number;
  note?: string;
  classId?: Uint8Array;
}

/** A statement by root 1 (or the roots `by`) retiring `slot` (default 0), with this counter. */
export function retirementStatement(keys: RetirementKeys, counter: number, o: StatementOptions = {}): Promise<Uint8Array> {
  const slot = o.slot ?? 0;
  const by = o.by ?? keys.root1;
  return createRootRetirement((Array.isArray(by) ? by : [by]).map((k) => new LocalSigner(k.privateKey)), {
    slot,
    counter,
    vendorId: VENDOR,
    classId: o.classId,
    retiredKey: [keys.root0, keys.root1, keys.root2][slot].publicKey,
    note: o.note
  });
}
