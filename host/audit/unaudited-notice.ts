// Where a signing command run without an audit log is reported. The CLI sets its note printer
// (host/cli/cli.ts); library callers leave it unset and stay silent. A module of its own so
// that the CLI's start-up does not load the audit log code for commands that never sign.

let notify: ((line: string) => void) | undefined;

/** Sets (or clears, with undefined) the function told about signing without an audit log. */
export function setUnauditedNotice(fn: ((line: string) => void) | undefined): void {
  notify = fn;
}

/** Tells the notice function, if one is set, that this signing is not recorded. */
export function noteUnaudited(): void {
  notify?.("fwseal: note: no audit log configured (--audit, FWSEAL_AUDIT_LOG or the profile's \"audit\"): this signing is not recorded");
}
