// RETIRE_ROOT (formats/PROTOCOL.md §3, SPEC §11): a root-retirement statement arrives in
// fragments [total u16][offset u16][bytes] into one statement buffer; the last fragment
// triggers the check (root-statement.ts) against the roots, the retired bits, the stored
// counter and the provisioned retirement threshold (enough OTHER live roots must sign). It is applied only if the image that runs would still boot afterwards (as ESP-IDF's
// esp_ota_revoke_secure_boot_public_key: the running app must be confirmed and verify with a
// key other than the revoked one), in one atomic state-record write.
// Constrained TS: no exceptions, buffers allocated at creation.

import { Reason } from "../../../formats/device-safe/reasons.js";
import { MAX_ROOT_STATEMENT } from "../../../formats/device-safe/limits.js";
import { RunMode, RetireAt, getU16 } from "../../../formats/device-safe/protocol.js";
import type { StateStore } from "../boot/flash-layout.js";
import type { BootLoader, RunStatus } from "../boot/boot-loader.js";
import { applyRetiredRoots } from "../boot/retired-roots.js";
import { createRootStatementVerifier } from "../verify/root-statement.js";
import type { HssVerifier } from "../crypto/hss-lms.js";
import type { VerifierConfig } from "../verify/bundle-verifier.js";
import type { Primitives } from "../crypto/primitives.js";
import type { ReplySender } from "./replies.js";

/** Handles RETIRE_ROOT frames. */
export interface RetireReceiver {
  retireRoot(tag: number, body: Uint8Array, len: number): void;
  // Power-on: a statement half received before it starts over.
  reset(): void;
}

/** Creates the receiver; burnedIn = root slots retired at manufacture, retireThreshold = the
 *  provisioned minimum of signing roots (0: the majority rule of SPEC §11.3 alone). */
export function createRetireReceiver(
  primitives: Primitives,
  hss: HssVerifier | null, // the device's HSS/LMS verifier, shared (null: Ed25519 roots only)
  // where statements are assembled, at least MAX_ROOT_STATEMENT bytes: the boot verifier's
  // envelope buffer, free between boot checks (a statement is checked before the running
  // image's boot check that may follow it, and power-on resets this receiver)
  stmtBuf: Uint8Array,
  burnedIn: number,
  retireThreshold: number,
  store: StateStore,
  status: RunStatus,
  loader: BootLoader,
  vcfg: VerifierConfig,
  bcfg: VerifierConfig,
  replies: ReplySender
): RetireReceiver {
  const st = store.state;
  const stmtVerifier = createRootStatementVerifier(primitives, hss);
  let stmtTotal = 0; // length of the statement being received (0 = none)
  let stmtHave = 0; // bytes of it received so far

  function replyError(tag: number, reason: number): void {
    replies.error(tag, reason, -1, stmtHave);
  }

  // A complete statement in stmtBuf[0 .. len).
  function applyStatement(tag: number, len: number): void {
    if (status.runMode === RunMode.TEST) {
      replyError(tag, Reason.BAD_STATE); // confirm (or revert) the test image first
      return;
    }
    const r = stmtVerifier.check(stmtBuf, len, vcfg, st.rootCounter, retireThreshold);
    if (r !== Reason.OK) {
      replyError(tag, r);
      return;
    }
    const slot = stmtVerifier.slot;
    const newMask = vcfg.rootRetired | (1 << slot);
    if (status.runningSlot >= 0 && newMask !== vcfg.rootRetired && !loader.runningPassesWith(newMask)) {
      replyError(tag, Reason.BAD_STATE); // the running image depends on that root: update it first
      return;
    }
    // One atomic state-record write (two-copy scheme): old or new, never half.
    st.rootRetired = st.rootRetired | (1 << slot);
    st.rootCounter = stmtVerifier.counter;
    store.save();
    applyRetiredRoots(burnedIn, st, vcfg, bcfg);
    replies.okRetired(tag, len, vcfg.rootRetired, slot, st.rootCounter);
  }

  // Fragments in order into stmtBuf; the last one triggers the check. Retransmitted
  // fragments are answered again; a gap gets R_NAK.
  function retireRoot(tag: number, body: Uint8Array, len: number): void {
    if (len < RetireAt.BYTES) {
      replyError(tag, Reason.MALFORMED);
      return;
    }
    const total = getU16(body, RetireAt.TOTAL);
    const offset = getU16(body, RetireAt.OFFSET);
    const n = len - RetireAt.BYTES;
    if (total > MAX_ROOT_STATEMENT) {
      replyError(tag, Reason.TOO_LARGE);
      return;
    }
    if (total === 0 || offset + n > total) {
      replyError(tag, Reason.MALFORMED);
      return;
    }
    if (offset === 0) {
      stmtTotal = total;
      stmtHave = 0;
    }
    if (total !== stmtTotal || offset > stmtHave) {
      replies.nak(tag, total === stmtTotal ? stmtHave : 0);
      return;
    }
    for (let i = stmtHave - offset; i < n; i++) stmtBuf[offset + i] = body[RetireAt.BYTES + i];
    if (offset + n > stmtHave) stmtHave = offset + n;
    if (stmtHave < total) {
      replies.okRetirePart(tag, stmtHave);
      return;
    }
    stmtTotal = 0; // consumed: a retransmitted last fragment starts over (and is then stale)
    applyStatement(tag, total);
    stmtHave = 0;
  }

  function reset(): void {
    stmtTotal = 0;
    stmtHave = 0;
  }

  return { retireRoot: retireRoot, reset: reset };
}
