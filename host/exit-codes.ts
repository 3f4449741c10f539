// Process exit codes of the fwseal CLI (documented in the README table). A script
// branches on the class of failure, not on message text.
import { Reason } from "../formats/device-safe/reasons.js";

/** The CLI's exit codes by class of failure (README: 0 OK, 2 usage, 3 input, 4 key, 5 output, 10-13 rejections, 14 device). */
export const ExitCode = {
  OK: 0,
  INTERNAL: 1, // a bug: please report
  USAGE: 2, // bad flags or arguments
  INPUT: 3, // input file missing or unreadable
  KEY: 4, // bad PEM, wrong key type, wrong passphrase, PIN, token
  OUTPUT: 5, // output not writable (or exists without --force)
  BUNDLE_MALFORMED: 10, // MALFORMED, UNSUPPORTED_*, NON_CANONICAL, TOO_LARGE
  TRUST: 11, // BAD_SIGNATURE, UNKNOWN_KEY, REVOKED_*, EXPIRED_KEY, KEY_NOT_AUTHORIZED, THRESHOLD_NOT_MET, BAD_CERTIFICATE, STALE_STATEMENT, ALG_KEY_MISMATCH, ALGORITHM_POLICY_NOT_MET
  POLICY: 12, // WRONG_VENDOR, WRONG_CLASS, ROLLBACK
  INTEGRITY: 13, // CHUNK_HASH_MISMATCH, TRUNCATED, TRAILING_DATA
  DEVICE: 14, // device or serial link failure
  INTERRUPTED: 130 // stopped by Ctrl-C / SIGINT (the CLI), or an AbortSignal (the library)
} as const;

/** One of the ExitCode values. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Exit code for a rejection reason (formats/device-safe/reasons.ts). */
export function exitCodeForReason(reason: number): ExitCodeValue {
  switch (reason) {
    case Reason.OK:
      return ExitCode.OK;
    case Reason.MALFORMED:
    case Reason.UNSUPPORTED_VERSION:
    case Reason.UNSUPPORTED_ALGORITHM:
    case Reason.UNSUPPORTED_CRITICAL:
    case Reason.UNSUPPORTED_ENCODING:
    case Reason.NON_CANONICAL:
    case Reason.TOO_LARGE:
      return ExitCode.BUNDLE_MALFORMED;
    case Reason.BAD_SIGNATURE:
    case Reason.UNKNOWN_KEY:
    case Reason.REVOKED_KEY:
    case Reason.REVOKED_ROOT:
    case Reason.EXPIRED_KEY:
    case Reason.KEY_NOT_AUTHORIZED:
    case Reason.THRESHOLD_NOT_MET:
    case Reason.BAD_CERTIFICATE:
    case Reason.STALE_STATEMENT:
    case Reason.ALG_KEY_MISMATCH:
    case Reason.ALGORITHM_POLICY_NOT_MET:
    case Reason.NOT_LOGGED:
    case Reason.BAD_LOG_PROOF:
    case Reason.WITNESS_QUORUM_NOT_MET:
      return ExitCode.TRUST;
    case Reason.WRONG_VENDOR:
    case Reason.WRONG_CLASS:
    case Reason.ROLLBACK:
    case Reason.WRONG_PRECURSOR:
      return ExitCode.POLICY;
    case Reason.CHUNK_HASH_MISMATCH:
    case Reason.TRUNCATED:
    case Reason.TRAILING_DATA:
    case Reason.BAD_PAYLOAD:
    case Reason.RESULT_MISMATCH:
      return ExitCode.INTEGRITY;
    default:
      return ExitCode.INTERNAL; // BAD_STATE or an unknown code: a caller bug
  }
}
