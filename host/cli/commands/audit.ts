// fwseal audit verify|list: check and read the hash-chained signing log.
import type { CommandModule, Argv } from "yargs";
import { verifyAuditLog, listAuditLog, formatAuditRecord, auditLogPath, AUDIT_LOG_ENV } from "../../audit/audit-log.js";
import { out, err, setExitCode } from "../output.js";
import { outDocument, outFailure } from "../json-document.js";
import { FwsealError } from "../../errors.js";
import { parseUint } from "../key-options.js";

interface VerifyArgs {
  log?: string;
  head?: string;
  count?: number;
  json?: boolean;
}

function logOf(a: { log?: string }): string {
  const p = auditLogPath(a.log);
  if (p === undefined) throw new FwsealError("USAGE", `no audit log given (argument or $${AUDIT_LOG_ENV})`);
  return p;
}

const verify: CommandModule<object, VerifyArgs> = {
  command: "verify [log]",
  describe: "Check every record: edited, deleted, inserted or reordered records are named by line",
  builder: (y) =>
    y
      .positional("log", { type: "string", description: `Audit log (default $${AUDIT_LOG_ENV})` })
      .option("head", { type: "string", description: "Expected hash of the last record (anchored elsewhere): detects records cut from the end" })
      .option("count", { type: "number", description: "Expected number of records" })
      .example("$0 audit verify signing.log", "exit 0 if intact, 11 and the first bad line otherwise") as never,
  handler: async (a) => {
    const log = logOf(a);
    // A head that is no hash is a typo in the anchor, not a log cut short: a usage error, not exit 11.
    if (a.head !== undefined && !/^[0-9a-f]{64}$/i.test(a.head)) throw new FwsealError("USAGE", `--head ${a.head}: a record hash is 64 hex digits (fwseal audit verify prints the head)`);
    const r = await verifyAuditLog(log, { head: a.head?.toLowerCase(), count: parseUint(a.count, "--count") });
    const body = { file: log, records: r.records, head: r.head, problems: r.problems };
    if (r.ok) {
      if (a.json) outDocument(body);
      else out(`${log}: OK, ${r.records} record(s), head ${r.head}`);
      return;
    }
    // One line (the CLI's error contract): the first problem, and how many more --json lists.
    const first = r.problems[0];
    const more = r.problems.length > 1 ? ` (and ${r.problems.length - 1} more problem(s): fwseal audit verify --json lists them)` : "";
    const e = new FwsealError("AUDIT_LOG_INVALID", `${log}: line ${first.line}: ${first.problem}${more}`, { details: { summary: first.problem, expected: null, actual: null, problems: r.problems } });
    if (!a.json) throw e;
    outFailure(e, body);
    err(`fwseal: error: ${e.message}`);
    setExitCode(e.exitCode);
  }
};

interface ListArgs {
  log?: string;
  json?: boolean;
}

const list: CommandModule<object, ListArgs> = {
  command: "list [log]",
  describe: "Show the records (one line each, or --json)",
  builder: (y) =>
    y
      .positional("log", { type: "string", description: `Audit log (default $${AUDIT_LOG_ENV})` })
      .example("$0 audit list signing.log --json", "all records as JSON") as never,
  handler: async (a) => {
    const log = logOf(a);
    const recs = await listAuditLog(log);
    if (a.json) {
      outDocument({ file: log, records: recs });
      return;
    }
    if (recs.length === 0) out(`${log}: no records`);
    for (const r of recs) out(formatAuditRecord(r));
  }
};

const command: CommandModule<object, object> = {
  command: "audit",
  describe: "Verify or list the signing audit log (hash-chained JSON lines)",
  builder: (y: Argv) =>
    y
      .command(verify)
      .command(list)
      .demandCommand(1, "audit needs an action: verify or list")
      .example("$0 audit verify signing.log", "")
      .example("$0 audit list signing.log", "") as never,
  handler: () => undefined
};
export default command;
