// Two root keys, release keys certified by each, bundles they sign and root-retirement
// statements (SPEC §11): the set-up shared by the RETIRE_ROOT suites (the device core
// in-process, and the serial line).
import * as crypto from "node:crypto";
import { buildBundle } from "../../formats/host-only/bundle-builder.js";
import { createRootRetirement } from "../../host/keys/root-retirement.js";
import { LocalSigner, type KeyPair } from "../../host/keys/keys.js";
import { VENDOR, CLASS } from "./device.js";
import { sampleImage } from "./images.js";
import { makeKeys } from "./keys.js";

/** Roots 0 and 1 of the device, and signers that chain to them. */
export interface RetirementKeys {
  root0: KeyPair;
  root1: KeyPair;
  /** Release key certified by root 0. */
  via0: LocalSigner;
  /** Release key certified by root 1. */
  via1: LocalSigner;
  /** Root 0 signing bundles itself. */
  direct0: LocalSigner;
}

/** Fresh random keys for a device trusting two roots. */
export async function makeRetirementKeys(): Promise<RetirementKeys> {
  const keys0 = await makeKeys();
  const keys1 = await makeKeys();
  return { root0: keys0.root, root1: keys1.root, via0: keys0.releaseSigner, via1: keys1.releaseSigner, direct0: keys0.rootSigner };
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

/** Options of a statement: the signing root (default root 1), the retired slot (default 0). */
export interface StatementOptions {
  by?: KeyPair;
  slot?: number;
  note?: string;
  classId?: Uint8Array;
}

/** A statement by root 1 (or `by`) retiring `slot` (default 0), with this counter. */
export function retirementStatement(keys: RetirementKeys, counter: number, o: StatementOptions = {}): Promise<Uint8Array> {
  const slot = o.slot ?? 0;
  return createRootRetirement(new LocalSigner((o.by ?? keys.root1).privateKey), {
    slot,
    counter,
    vendorId: VENDOR,
    classId: o.classId,
    retiredKey: slot === 0 ? keys.root0.publicKey : keys.root1.publicKey,
    note: o.note
  });
}
