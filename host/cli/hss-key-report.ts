// The lines `fwseal keygen --alg hss-lms` and `fwseal inspect <key>` print about an HSS/LMS
// key: parameters, how many signatures are used and left, and the low-count warning.
import { out, err } from "./output.js";
import { lowCountWarning, type HssKeyInfo } from "../keys/hss/key-info.js";
import { describeHssPublicKey } from "../keys/hss/public-key.js";

/** Print the key's parameters and counts (stdout) and any low-count warning (stderr). */
export function printHssKeyInfo(info: HssKeyInfo): void {
  out(`  algorithm:   HSS/LMS (${describeHssPublicKey(info.publicKey)})`);
  info.levels.forEach((lv, i) => out(`  level ${i}:     ${lv.lms}, ${lv.lmots}, next leaf ${lv.nextLeaf} of ${2 ** lv.height}`));
  out(`  signatures:  ${info.remaining} of ${info.total} left (${info.next} used; warning below ${info.warnBelow})`);
  const w = lowCountWarning(info);
  if (w !== null) err(w);
}

/** The JSON form of the same facts. */
export function hssKeyInfoJson(info: HssKeyInfo): Record<string, unknown> {
  return {
    keyId: info.keyId,
    alg: "hss-lms",
    publicKey: info.publicKey,
    levels: info.levels,
    signaturesUsed: info.next,
    signaturesTotal: info.total,
    signaturesRemaining: info.remaining,
    warnBelow: info.warnBelow,
    low: info.low
  };
}
