// One error type for the host library and CLI. `code` is a stable string callers branch
// on; `exitCode` is what the CLI exits with. Messages name files and problems, never
// key material (no PEM text, no passphrases, no private bytes).
import { ExitCode, type ExitCodeValue, exitCodeForReason } from "./exit-codes.js";
import { reasonName } from "../formats/device-safe/reasons.js";
import { existsSync } from "node:fs";
import { dirname } from "node:path";

/** Stable error codes callers branch on; each maps to a default CLI exit code. */
export type FwsealErrorCode =
  | "USAGE"
  | "INPUT_MISSING"
  | "INPUT_UNREADABLE"
  | "KEY_CORRUPT"
  | "KEY_WRONG_TYPE"
  | "KEY_PASSPHRASE"
  | "KEY_PASSPHRASE_REQUIRED"
  | "KEY_TOKEN"
  | "KEY_STATE"
  | "OUTPUT_EXISTS"
  | "OUTPUT_UNWRITABLE"
  | "BUNDLE_REJECTED"
  | "AUDIT_LOG_INVALID"
  | "LOG_REJECTED"
  | "DEVICE"
  | "ABORTED"
  | "INTERNAL";

const DEFAULT_EXIT: Record<FwsealErrorCode, ExitCodeValue> = {
  USAGE: ExitCode.USAGE,
  INPUT_MISSING: ExitCode.INPUT,
  INPUT_UNREADABLE: ExitCode.INPUT,
  KEY_CORRUPT: ExitCode.KEY,
  KEY_WRONG_TYPE: ExitCode.KEY,
  KEY_PASSPHRASE: ExitCode.KEY,
  KEY_PASSPHRASE_REQUIRED: ExitCode.KEY,
  KEY_TOKEN: ExitCode.KEY,
  KEY_STATE: ExitCode.KEY,
  OUTPUT_EXISTS: ExitCode.OUTPUT,
  OUTPUT_UNWRITABLE: ExitCode.OUTPUT,
  BUNDLE_REJECTED: ExitCode.BUNDLE_MALFORMED,
  AUDIT_LOG_INVALID: ExitCode.TRUST,
  // A transparency log not trusted: bad checkpoint, fork or rollback, a bundle not in it, or releases nobody expected.
  LOG_REJECTED: ExitCode.TRUST,
  DEVICE: ExitCode.DEVICE,
  ABORTED: ExitCode.INTERRUPTED,
  INTERNAL: ExitCode.INTERNAL
};

/** The one error the library and CLI throw: `code`, `exitCode`, and for a rejected bundle `reason` and `chunk`. */
export class FwsealError extends Error {
  readonly code: FwsealErrorCode;
  readonly exitCode: ExitCodeValue;
  /** For BUNDLE_REJECTED: the Reason code and the chunk index (-1: envelope). */
  readonly reason?: number;
  readonly chunk?: number;
  /** Machine-readable particulars (e.g. which signers counted and why others did not). */
  readonly details?: Record<string, unknown>;

  constructor(code: FwsealErrorCode, message: string, opts: { exitCode?: ExitCodeValue; reason?: number; chunk?: number; cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = "FwsealError";
    this.code = code;
    this.exitCode = opts.exitCode ?? DEFAULT_EXIT[code];
    if (opts.reason !== undefined) this.reason = opts.reason;
    if (opts.chunk !== undefined) this.chunk = opts.chunk;
    if (opts.details !== undefined) this.details = opts.details;
  }
}

/** A bundle rejection as an error (for extract and library callers that prefer throws). */
export function rejectionError(reason: number, chunk: number, what = "rejected"): FwsealError {
  const where = chunk >= 0 ? ` at chunk ${chunk}` : "";
  return new FwsealError("BUNDLE_REJECTED", `${what}: ${reasonName(reason)}${where}`, {
    exitCode: exitCodeForReason(reason),
    reason,
    chunk
  });
}

/** Map a Node file-system error on an input path to a FwsealError (one clear line). */
export function inputError(path: string, e: unknown): FwsealError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  // Node refused the name itself: a library caller passed something that is not a path.
  if (code === "ERR_INVALID_ARG_TYPE" || code === "ERR_INVALID_ARG_VALUE") {
    const p: unknown = path;
    const given = typeof p === "string" ? JSON.stringify(p) : p === undefined ? "missing" : p === null ? "null" : p instanceof Uint8Array ? `${p.length} bytes` : `a ${typeof p}`;
    return new FwsealError("USAGE", `an input file name must be a path (a string without NUL characters), not ${given}`, { cause: e });
  }
  if (code === "ENOENT") return new FwsealError("INPUT_MISSING", `${path}: no such file`, { cause: e });
  if (code === "EACCES" || code === "EPERM") return new FwsealError("INPUT_UNREADABLE", `${path}: permission denied`, { cause: e });
  if (code === "EISDIR") return new FwsealError("INPUT_UNREADABLE", `${path}: is a directory`, { cause: e });
  if (code === "ENAMETOOLONG") return new FwsealError("INPUT_UNREADABLE", `${path}: file name too long`, { cause: e });
  if (code === "ENOTDIR") return new FwsealError("INPUT_MISSING", `${path}: no such file (a part of the path is not a directory)`, { cause: e });
  return new FwsealError("INPUT_UNREADABLE", `${path}: cannot read (${code ?? "unknown error"})`, { cause: e });
}

/** Map a Node file-system error on an output path to a FwsealError. */
export function outputError(path: string, e: unknown): FwsealError {
  if (e instanceof FwsealError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === "EEXIST") return new FwsealError("OUTPUT_EXISTS", `${path}: already exists (use --force to overwrite)`, { cause: e });
  if (code === "ENOENT") {
    const dir = dirname(path);
    const msg = existsSync(dir) ? `cannot create files in ${dir}` : "directory does not exist";
    return new FwsealError("OUTPUT_UNWRITABLE", `${path}: ${msg}`, { cause: e });
  }
  if (code === "EACCES" || code === "EPERM" || code === "EROFS") return new FwsealError("OUTPUT_UNWRITABLE", `${path}: permission denied`, { cause: e });
  if (code === "EISDIR") return new FwsealError("OUTPUT_UNWRITABLE", `${path}: is a directory`, { cause: e });
  if (code === "ENOSPC") return new FwsealError("OUTPUT_UNWRITABLE", `${path}: no space left on device`, { cause: e });
  if (code === "ENAMETOOLONG") return new FwsealError("OUTPUT_UNWRITABLE", `${path}: file name too long`, { cause: e });
  if (code === "ENOTDIR") return new FwsealError("OUTPUT_UNWRITABLE", `${path}: a part of the path is not a directory`, { cause: e });
  return new FwsealError("OUTPUT_UNWRITABLE", `${path}: cannot write (${code ?? "unknown error"})`, { cause: e });
}
