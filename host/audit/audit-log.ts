// Append-only, hash-chained audit log of signing operations (JSON lines).
//
// Each line is one record. `hash` = SHA-256 over the record's canonical JSON without the
// `hash` member (object keys sorted, no whitespace); `prev` = the previous record's hash
// (64 zeros for the first); `seq` counts from 1. So editing a record breaks its own hash,
// deleting, inserting or reordering breaks `prev`/`seq` of the next one. Dropping records
// from the END cannot be seen from the file alone: anchor the head (`fwseal audit verify
// --head <hash>` with a hash kept elsewhere, e.g. in a ticket or a second log).
//
// Records carry public facts only: key IDs, digests, manifest fields, file names. Never a
// PIN, a passphrase, a key file's content or a private key.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as os from "node:os";
import { FwsealError, inputError, outputError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { withLockFile } from "../io/lock-file.js";
import { noteUnaudited } from "./unaudited-notice.js";

export const AUDIT_LOG_ENV = "FWSEAL_AUDIT_LOG";
export const AUDIT_RECORD_VERSION = 1;
const ZERO_HASH = "0".repeat(64);

/** The signing operations an audit record can name. */
export type AuditOperation = "pack" | "sign" | "attach-signature" | "finalize" | "delegate" | "retire-root" | "keygen" | "hss-sign";

/** A JSON value in a record's summary. */
export type AuditValue = string | number | boolean | null | AuditValue[] | { [k: string]: AuditValue };

/** What a command reports; audit.ts adds seq, time, operator, host, prev and hash. */
export interface AuditEntry {
  op: AuditOperation;
  /** Key ID(s) (16 hex digits) of the signing key(s) used. */
  keyIds: string[];
  /** Where the key lives: "file", "pkcs11" or "external" (openssl, another machine). */
  keySource?: string;
  /** The output (or signed input) file and its SHA-256, hex. */
  artifact?: { file: string; sha256: string; bytes?: number };
  /** Human-readable summary of what was signed (manifest fields, certificate body...). */
  summary?: { [k: string]: AuditValue };
  /** Operator name; defaults to --operator / $USER. */
  operator?: string;
}

/** One line of the log: the entry plus seq, time, operator, host, the previous record's hash and its own. */
export interface AuditRecord {
  v: number;
  seq: number;
  time: string;
  op: AuditOperation;
  operator: string;
  host: string;
  keyIds: string[];
  keySource?: string;
  artifact?: { file: string; sha256: string; bytes?: number };
  summary?: { [k: string]: AuditValue };
  prev: string;
  hash: string;
}

/** Canonical JSON: keys sorted bytewise, no whitespace. Only JSON-safe values. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v === "boolean" || typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) throw new FwsealError("INTERNAL", "audit records hold integers only");
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return "[" + v.map(canonicalJson).join(",") + "]";
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
    return "{" + keys.map((k) => JSON.stringify(k) + ":" + canonicalJson(o[k])).join(",") + "}";
  }
  throw new FwsealError("INTERNAL", `audit: cannot encode a ${typeof v}`);
}

export function recordHash(rec: Omit<AuditRecord, "hash"> | AuditRecord): string {
  const { hash: _ignored, ...body } = rec as AuditRecord;
  return crypto.createHash("sha256").update(canonicalJson(body), "utf8").digest("hex");
}

export function sha256Hex(data: Uint8Array): string {
  return crypto.createHash("sha256").update(data).digest("hex");
}

export async function sha256File(path: string): Promise<{ sha256: string; bytes: number }> {
  const h = crypto.createHash("sha256");
  let bytes = 0;
  try {
    for await (const chunk of fs.createReadStream(path)) {
      h.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
  } catch (e) {
    throw inputError(path, e);
  }
  return { sha256: h.digest("hex"), bytes };
}

/** The log a command writes to: --audit, else FWSEAL_AUDIT_LOG, else none. */
export function auditLogPath(flag?: string): string | undefined {
  if (flag !== undefined && flag !== "") return flag;
  const env = process.env[AUDIT_LOG_ENV];
  return env !== undefined && env !== "" ? env : undefined;
}

export function defaultOperator(flag?: string): string {
  if (flag !== undefined && flag !== "") return flag;
  const env = process.env.USER ?? process.env.LOGNAME ?? process.env.USERNAME;
  if (env) return env;
  try {
    return os.userInfo().username;
  } catch {
    return "unknown";
  }
}

// ---------------------------------------------------------------- reading

/** The last non-empty line of a file (reads backwards in blocks: logs grow without bound). */
async function lastLine(path: string): Promise<{ line: string } | null> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw inputError(path, e);
  }
  try {
    const size = (await fh.stat()).size;
    if (size === 0) return null;
    const block = 65536;
    let end = size;
    let tail = Buffer.alloc(0);
    // Skip trailing newlines, then collect until the previous newline.
    for (;;) {
      const start = Math.max(0, end - block);
      const buf = Buffer.alloc(end - start);
      await fh.read(buf, 0, buf.length, start);
      tail = Buffer.concat([buf, tail]);
      const text = tail.toString("utf8").replace(/\n+$/, "");
      const nl = text.lastIndexOf("\n");
      if (nl >= 0 || start === 0) {
        if (text === "") return null;
        return { line: nl >= 0 ? text.slice(nl + 1) : text };
      }
      end = start;
    }
  } finally {
    await fh.close();
  }
}

function parseRecord(line: string, lineNo: number): AuditRecord {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    throw new AuditBroken(lineNo, "not a JSON record");
  }
  if (typeof o !== "object" || o === null || Array.isArray(o)) throw new AuditBroken(lineNo, "not a JSON object");
  const r = o as AuditRecord;
  if (typeof r.seq !== "number" || typeof r.prev !== "string" || typeof r.hash !== "string" || typeof r.op !== "string") {
    throw new AuditBroken(lineNo, "record lacks seq, op, prev or hash");
  }
  return r;
}

class AuditBroken extends Error {
  constructor(readonly line: number, readonly problem: string) {
    super(`line ${line}: ${problem}`);
  }
}

// ---------------------------------------------------------------- appending

async function withLock<T>(logPath: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${logPath}.lock`;
  // A lock left by a dead process (crash between open and unlink) is stale; so is one older than 60 s.
  return withLockFile(lock, { waitMs: 15000, staleAfterMs: 60000, errorPath: logPath, busy: () => new FwsealError("OUTPUT_UNWRITABLE", `${logPath}: audit log is locked by another fwseal process (${lock})`) }, fn);
}

/**
 * The last record of a log that may take another one, or null for an absent or empty log.
 * Refuses (OUTPUT_UNWRITABLE, naming the first bad line) a log whose last record is damaged
 * or whose history does not verify: a record chained onto an edited, truncated-in-the-middle
 * or reordered history would lend it a valid-looking continuation.
 */
async function appendableHead(logPath: string): Promise<AuditRecord | null> {
  const last = await lastLine(logPath);
  if (!last) return null;
  let r: AuditRecord;
  try {
    r = parseRecord(last.line, -1);
  } catch {
    throw new FwsealError("OUTPUT_UNWRITABLE", `${logPath}: last audit record is damaged; run fwseal audit verify ${logPath}`);
  }
  if (recordHash(r) !== r.hash) {
    throw new FwsealError("OUTPUT_UNWRITABLE", `${logPath}: last audit record was edited (hash mismatch); run fwseal audit verify ${logPath}`);
  }
  const v = await verifyAuditLog(logPath);
  if (!v.ok) {
    const first = v.problems[0];
    const more = v.problems.length > 1 ? ` (and ${v.problems.length - 1} more problem(s))` : "";
    throw new FwsealError("OUTPUT_UNWRITABLE", `${logPath}: refusing to append: the log's history does not verify: line ${first.line}: ${first.problem}${more}; run fwseal audit verify ${logPath}`);
  }
  return r;
}

/**
 * Append one record to the log (created if missing, mode 0640). Refuses to chain onto a
 * damaged last record. Returns the record written.
 */
export async function appendAuditRecord(logPath: string, entry: AuditEntry, now: Date = new Date()): Promise<AuditRecord> {
  return withLock(logPath, async () => {
    const last = await appendableHead(logPath);
    let prev = ZERO_HASH;
    let seq = 1;
    if (last) {
      prev = last.hash;
      seq = last.seq + 1;
    }
    const body: Omit<AuditRecord, "hash"> = {
      v: AUDIT_RECORD_VERSION,
      seq,
      time: now.toISOString(),
      op: entry.op,
      operator: defaultOperator(entry.operator),
      host: os.hostname(),
      keyIds: entry.keyIds,
      ...(entry.keySource !== undefined ? { keySource: entry.keySource } : {}),
      ...(entry.artifact !== undefined ? { artifact: entry.artifact } : {}),
      ...(entry.summary !== undefined ? { summary: entry.summary } : {}),
      prev
    };
    const rec: AuditRecord = { ...body, hash: recordHash(body) };
    const line = JSON.stringify(rec) + "\n";
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(logPath, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o640);
    } catch (e) {
      throw outputError(logPath, e);
    }
    try {
      // A previous writer may have crashed mid-line: start on a fresh line so the damage
      // stays confined to that line (audit verify names it).
      const st = await fh.stat();
      let prefix = "";
      if (st.size > 0) {
        const b = Buffer.alloc(1);
        const r = await fsp.open(logPath, "r");
        try {
          await r.read(b, 0, 1, st.size - 1);
        } finally {
          await r.close();
        }
        if (b[0] !== 0x0a) prefix = "\n";
      }
      await fh.write(prefix + line);
      await fh.sync();
    } catch (e) {
      throw outputError(logPath, e);
    } finally {
      await fh.close();
    }
    return rec;
  });
}

/** Append when a log is configured (flag or env); a no-op otherwise. */
export async function auditIfConfigured(logFlag: string | undefined, entry: AuditEntry): Promise<AuditRecord | undefined> {
  const p = auditLogPath(logFlag);
  if (p === undefined) return undefined;
  return appendAuditRecord(p, entry);
}

// ---------------------------------------------------------------- verifying

/** A broken line found by verifyAuditLog. */
export interface AuditProblem {
  line: number;
  problem: string;
}

/** What verifyAuditLog reports: ok, the record count, the head hash, the problems. */
export interface AuditVerifyResult {
  ok: boolean;
  records: number;
  /** Hash of the last valid record (the head to anchor elsewhere); zeros for an empty log. */
  head: string;
  problems: AuditProblem[];
}

export async function readAuditLog(logPath: string): Promise<string[]> {
  let text: string;
  try {
    text = await fsp.readFile(logPath, "utf8");
  } catch (e) {
    throw inputError(logPath, e);
  }
  const lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/**
 * Check every record: JSON shape, own hash (edited?), seq and prev (deleted, inserted,
 * reordered?), and optionally the head hash / record count anchored elsewhere.
 */
export async function verifyAuditLog(logPath: string, opts: { head?: string; count?: number } = {}): Promise<AuditVerifyResult> {
  const lines = await readAuditLog(logPath);
  const problems: AuditProblem[] = [];
  let prev = ZERO_HASH;
  let expectSeq = 1;
  let head = ZERO_HASH;
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let r: AuditRecord;
    try {
      if (lines[i].trim() === "") throw new AuditBroken(lineNo, "empty line (record deleted or damaged)");
      r = parseRecord(lines[i], lineNo);
    } catch (e) {
      problems.push({ line: lineNo, problem: e instanceof AuditBroken ? e.problem : String(e) });
      prev = "?";
      expectSeq++;
      continue;
    }
    if (recordHash(r) !== r.hash) {
      problems.push({ line: lineNo, problem: `record seq ${r.seq} was edited (its hash does not match its content)` });
    }
    if (r.seq !== expectSeq) {
      problems.push({
        line: lineNo,
        problem: r.seq > expectSeq
          ? `seq ${r.seq} where ${expectSeq} was expected: ${r.seq - expectSeq} record(s) deleted before this line, or records reordered`
          : `seq ${r.seq} where ${expectSeq} was expected: record inserted, duplicated or reordered`
      });
    } else if (prev !== "?" && r.prev !== prev) {
      problems.push({ line: lineNo, problem: `prev does not match the hash of line ${lineNo - 1}: a record was replaced, inserted or reordered` });
    }
    prev = r.hash;
    head = r.hash;
    expectSeq = r.seq + 1;
  }
  if (opts.count !== undefined && opts.count !== lines.length) {
    problems.push({ line: lines.length, problem: `log has ${lines.length} record(s), ${opts.count} expected: records deleted from the end` });
  }
  if (opts.head !== undefined && opts.head.toLowerCase() !== head) {
    const at = lines.findIndex((l) => l.includes(`"hash":"${opts.head!.toLowerCase()}"`));
    problems.push({
      line: lines.length,
      problem: at >= 0 ? `the anchored head is line ${at + 1}, but the log continues to line ${lines.length}` : "the anchored head hash is not in the log: records deleted from the end or log replaced"
    });
  }
  return { ok: problems.length === 0, records: lines.length, head, problems };
}

/**
 * A record as listAuditLog returns it, with its line number and its time in epoch seconds
 * (`timeSeconds`, null if `time` does not parse) beside the RFC 3339 `time` the record stores
 * and hashes.
 */
export interface AuditListEntry extends AuditRecord {
  line: number;
  timeSeconds: number | null;
}

/** A stored RFC 3339 time in whole epoch seconds; null when it is not a time. */
function epochSeconds(time: string): number | null {
  const ms = Date.parse(time);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : null;
}

/** Parsed records (skips nothing: a damaged line is an error; run verify first). */
export async function listAuditLog(logPath: string): Promise<AuditListEntry[]> {
  const lines = await readAuditLog(logPath);
  const out: AuditListEntry[] = [];
  for (let i = 0; i < lines.length; i++) {
    try {
      const rec = parseRecord(lines[i], i + 1);
      out.push({ line: i + 1, timeSeconds: epochSeconds(rec.time), ...rec });
    } catch (e) {
      throw new FwsealError("AUDIT_LOG_INVALID", `${logPath}: ${(e as Error).message}`, { exitCode: ExitCode.TRUST });
    }
  }
  return out;
}

/**
 * Records of the log that released `sequence` for this vendor and class (ops pack, also
 * drafts, and finalize; vendor and class as the records hold them, formatted UUIDs). A log
 * that does not exist yet has none.
 */
export async function sequenceRecords(logPath: string, vendorId: string, classId: string, sequence: number): Promise<AuditListEntry[]> {
  if (!fs.existsSync(logPath)) return [];
  return (await listAuditLog(logPath)).filter((r) => {
    const s = r.summary ?? {};
    return (r.op === "pack" || r.op === "finalize") && s.sequence === sequence && s.vendorId === vendorId && s.classId === classId;
  });
}

/** One readable line per record. */
export function formatAuditRecord(r: AuditRecord): string {
  const parts = [`#${r.seq}`, r.time.replace(/\.\d{3}Z$/, "Z"), r.op.padEnd(16), `by ${r.operator}`, `key ${r.keyIds.join(",") || "-"}`];
  if (r.keySource) parts.push(`(${r.keySource})`);
  const s = r.summary ?? {};
  const bits: string[] = [];
  for (const k of ["version", "sequence", "slot", "counter", "epoch", "signatures", "threshold"]) {
    if (s[k] !== undefined) bits.push(`${k} ${String(s[k])}`);
  }
  if (bits.length > 0) parts.push(bits.join(" "));
  if (r.artifact) parts.push(`${r.artifact.file} sha256:${r.artifact.sha256.slice(0, 16)}…`);
  return parts.join("  ");
}

// ---------------------------------------------------------------- CLI plumbing

export interface AuditArgs {
  audit?: string;
  operator?: string;
}

/** Adds --audit and --operator to a signing command's options. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function auditOptions(y: any): any {
  return y
    .option("audit", { type: "string", description: `Append a record to this hash-chained audit log (default $${AUDIT_LOG_ENV})` })
    .option("operator", { type: "string", description: "Operator name for the audit record (default $USER)" });
}

/** Record a signing operation if a log is configured; artifact digest computed from the file. */
export async function auditSigning(
  a: AuditArgs,
  op: AuditOperation,
  keyIds: string[],
  keySource: string,
  artifactPath: string | undefined,
  summary: { [k: string]: AuditValue }
): Promise<AuditRecord | undefined> {
  const log = auditLogPath(a.audit);
  if (log === undefined) return undefined;
  return appendSigningRecord(log, { op, keyIds, keySource, summary, operator: a.operator }, artifactPath);
}

/** Appends the record of a signing operation, with the SHA-256 of its artifact file (if any). */
export async function appendSigningRecord(log: string, entry: Omit<AuditEntry, "artifact">, artifactPath: string | undefined): Promise<AuditRecord> {
  const artifact = artifactPath !== undefined ? { file: artifactPath, ...(await sha256File(artifactPath)) } : undefined;
  return appendAuditRecord(log, { ...entry, artifact });
}

/**
 * Before signing: check the configured log can take a record (writable, last record
 * intact), so a signing operation does not produce an artifact and then fail to log it.
 */
export async function preflightAudit(a: AuditArgs): Promise<void> {
  const log = auditLogPath(a.audit);
  if (log === undefined) {
    noteUnaudited();
    return;
  }
  await preflightAuditLog(log);
}

/**
 * Checks that the log at `log` can take a record (writable; last record intact; history
 * verifies) before anything is signed; creates it if absent. Throws OUTPUT_UNWRITABLE.
 */
export async function preflightAuditLog(log: string): Promise<void> {
  if (fs.statSync(log, { throwIfNoEntry: false })?.isDirectory()) throw outputError(log, Object.assign(new Error(), { code: "EISDIR" }));
  await appendableHead(log);
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(log, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o640);
  } catch (e) {
    throw outputError(log, e);
  }
  await fh.close();
}
