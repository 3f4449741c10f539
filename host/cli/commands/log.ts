// fwseal log init|append|publish|proof|attach|monitor: a transparency log of releases,
// published as static files (c2sp.org/tlog-tiles), and the monitor that follows it.
import type { CommandModule, Argv } from "yargs";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { out, setExitCode, hex } from "../output.js";
import { outDocument, outFailure, rfc3339 } from "../json-document.js";
import { FwsealError, inputError } from "../../errors.js";
import { writeFileAtomic } from "../../io/atomic-write.js";
import { forceOption } from "../argument-checks.js";
import { epochSecondsFlag } from "../log-keys.js";
import { parseUint } from "../key-options.js";
import { ExitCode } from "../../exit-codes.js";
import { appendEntries, initLog, mergeCosignatures, publishCheckpoint, readLogConfig, logKeyOf, proofsFor, PUBLIC_DIR } from "../../log/log-store.js";
import { formatNote, formatVerifierKey, NoteSigType } from "../../log/note.js";
import { openCheckpoint } from "../../log/checkpoint.js";
import { logSource } from "../../log/http-source.js";
import { monitorLog } from "../../log/monitor.js";
import { bundleWithProof, entryBytesForBundle, findLogProof, readBundleParts } from "../../log/release.js";
import { loadNoteSigningKey, loadVerifierKey } from "../log-keys.js";
import { envelopeLogFacts } from "../../../formats/host-only/log-proof.js";
import type { NoteKey } from "../../log/note.js";

function fail(e: unknown, code: "USAGE" | "INPUT_UNREADABLE" | "LOG_REJECTED" = "INPUT_UNREADABLE"): never {
  if (e instanceof FwsealError) throw e;
  throw new FwsealError(code, (e as Error).message);
}

/** A log location's source and key: a log directory (its published folder), or a URL/folder with --log-key. */
function locate(log: string, logKey?: string): { source: ReturnType<typeof logSource>; key: NoteKey } {
  if (!/^https?:\/\//.test(log)) {
    if (!existsSync(log)) throw inputError(log, Object.assign(new Error(), { code: "ENOENT" }));
    try {
      const cfg = readLogConfig(log);
      return { source: logSource(path.join(log, PUBLIC_DIR)), key: logKey ? loadVerifierKey(logKey) : logKeyOf(cfg) };
    } catch {
      // not a log directory: a published folder
    }
  }
  if (!logKey) throw new FwsealError("USAGE", "--log-key (the log's vkey) is needed for a URL or a published folder");
  return { source: logSource(log), key: loadVerifierKey(logKey) };
}

const init: CommandModule<object, { dir: string; key: string; name: string; json?: boolean }> = {
  command: "init <dir>",
  describe: "Create a log in <dir> (log.json, public/) with the log's Ed25519 key and origin name",
  builder: (y) =>
    y
      .positional("dir", { type: "string", demandOption: true, description: "Directory to create the log in (its public/ folder is what a web server serves)" })
      .option("key", { type: "string", demandOption: true, description: "The log's Ed25519 private key (PEM)" })
      .option("name", { type: "string", demandOption: true, description: "Checkpoint origin and key name, e.g. log.example.com/fw" })
      .example("$0 log init tlog --key log.key --name log.example.com/fw", "create the log; prints its verifier key (vkey) for devices, witnesses and monitors") as never,
  handler: async (a) => {
    const key = await loadNoteSigningKey(a.key, a.name, NoteSigType.ED25519);
    try {
      initLog(a.dir, key);
      await publishCheckpoint(a.dir, key);
    } catch (e) {
      fail(e, "USAGE");
    }
    const vkey = formatVerifierKey(key);
    if (a.json) outDocument({ dir: a.dir, origin: a.name, vkey });
    else out(`${a.dir}: log ${a.name} created; verifier key ${vkey}`);
  }
};

const append: CommandModule<object, { dir: string; bundles: string[]; time?: number; json?: boolean }> = {
  command: "append <dir> <bundles..>",
  describe: "Append release entries (envelope digest, manifest summary, signer key IDs, time) for bundles",
  builder: (y) =>
    y
      .positional("dir", { type: "string", demandOption: true, description: "The log's directory (fwseal log init)" })
      .positional("bundles", { type: "string", array: true, demandOption: true, description: "Signed bundles to record" })
      .option("time", { type: "number", description: "Entry time, seconds since 1970 (default now)" })
      .example("$0 log append tlog fw-1.4.2.fwb", "record a release (then: fwseal log publish tlog --key log.key)") as never,
  handler: async (a) => {
    const t = a.time !== undefined ? epochSecondsFlag(a.time, "--time") : Math.floor(Date.now() / 1000);
    let r;
    try {
      r = appendEntries(a.dir, a.bundles.map((b) => entryBytesForBundle(b, t)));
    } catch (e) {
      fail(e);
    }
    const indices = a.bundles.map((b, i) => ({ bundle: b, index: r.firstIndex + i }));
    if (a.json) outDocument({ dir: a.dir, size: r.size, entries: indices, bytesWritten: r.bytesWritten, loggedAt: t, loggedAtUtc: rfc3339(t) });
    else for (const x of indices) out(`${x.bundle}: entry ${x.index} (log size ${r.size}; run fwseal log publish)`);
  }
};

/** A witness's cosigned checkpoint (fwseal witness -o). */
function readCosigned(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw inputError(file, e);
  }
}

const publish: CommandModule<object, { dir: string; key?: string; cosigned?: string[]; json?: boolean }> = {
  command: "publish <dir>",
  describe: "Sign a checkpoint for the current size (--key), or add witnesses' cosignatures to it (--cosigned)",
  builder: (y) =>
    y
      .positional("dir", { type: "string", demandOption: true })
      .option("key", { type: "string", description: "The log's private key (PEM): sign a new checkpoint" })
      .option("cosigned", { type: "string", array: true, description: "Checkpoints cosigned by witnesses (fwseal witness -o): merge their lines" })
      .example("$0 log publish tlog --key log.key", "sign a checkpoint that covers the entries appended so far")
      .example("$0 log publish tlog --cosigned w1.note w2.note", "add the witnesses' cosignatures of that checkpoint") as never,
  handler: async (a) => {
    if (!a.key && !a.cosigned) throw new FwsealError("USAGE", "publish needs --key or --cosigned");
    let cfg;
    try {
      cfg = readLogConfig(a.dir);
    } catch (e) {
      fail(e);
    }
    let note = "";
    try {
      if (a.key) note = formatNote((await publishCheckpoint(a.dir, await loadNoteSigningKey(a.key, cfg.origin, NoteSigType.ED25519))).note);
      if (a.cosigned) note = mergeCosignatures(a.dir, a.cosigned.map(readCosigned));
    } catch (e) {
      fail(e, "USAGE");
    }
    const cp = openCheckpoint(note, logKeyOf(cfg));
    if (a.json) outDocument({ dir: a.dir, size: cp.checkpoint.size, root: hex(cp.checkpoint.root), signatures: cp.note.signatures.map((s) => s.name), checkpoint: note });
    else out(`${a.dir}: checkpoint size ${cp.checkpoint.size}, root ${hex(cp.checkpoint.root)}, ${cp.note.signatures.length} signature(s)`);
  }
};

const proof: CommandModule<object, { log: string; index?: number; from?: number; bundle?: string; logKey?: string; json?: boolean }> = {
  command: "proof <log>",
  describe: "Inclusion proof of an entry (--index or --bundle) and/or consistency proof (--from) to the published checkpoint",
  builder: (y) =>
    y
      .positional("log", { type: "string", demandOption: true, description: "Log directory, published folder or URL" })
      .option("index", { type: "number", description: "Entry index (as log append printed it)" })
      .option("from", { type: "number", description: "Older tree size" })
      .option("bundle", { type: "string", description: "Find this bundle's entry" })
      .option("log-key", { type: "string", description: "The log's vkey (string or file)" })
      .example("$0 log proof tlog --bundle fw-1.4.2.fwb", "the release's inclusion proof to the published checkpoint")
      .example("$0 log proof https://log.example.com/fw --from 10 --log-key log.vkey", "consistency of the published tree with the one of size 10") as never,
  handler: async (a) => {
    const { source, key } = locate(a.log, a.logKey);
    let index = parseUint(a.index, "--index");
    const from = parseUint(a.from, "--from");
    let cp;
    try {
      cp = openCheckpoint(await source("checkpoint"), key).checkpoint;
    } catch (e) {
      fail(e, e instanceof Error && /signature/.test(e.message) ? "LOG_REJECTED" : "INPUT_UNREADABLE");
    }
    if (index !== undefined && index >= cp.size) throw new FwsealError("USAGE", `--index ${index}: the log's checkpoint has ${cp.size} entr${cp.size === 1 ? "y" : "ies"}${cp.size > 0 ? ` (0..${cp.size - 1})` : ""}`);
    if (from !== undefined && from > cp.size) throw new FwsealError("USAGE", `--from ${from}: the log's checkpoint has ${cp.size} entr${cp.size === 1 ? "y" : "ies"}`);
    try {
      if (a.bundle) index = (await findLogProof(source, key, readBundleParts(a.bundle).envelope)).leafIndex;
      const p = await proofsFor(source, cp.size, { index, from });
      const res = { size: cp.size, root: hex(cp.root), index: index ?? null, inclusion: index !== undefined ? p.inclusion!.map(hex) : null, from: from ?? null, consistency: from !== undefined ? p.consistency!.map(hex) : null };
      if (a.json) outDocument(res);
      else {
        out(`checkpoint size ${cp.size}, root ${hex(cp.root)}`);
        // One hash per line below its heading (none for a tree of one entry, or the same size).
        const listed = (hashes: string[]) => hashes.map((h) => `\n  ${h}`).join("");
        if (res.inclusion) out(`inclusion of entry ${index}: ${res.inclusion.length} hash(es)${listed(res.inclusion)}`);
        if (res.consistency) out(`consistency from ${from}: ${res.consistency.length} hash(es)${listed(res.consistency)}`);
      }
    } catch (e) {
      fail(e);
    }
  }
};

const attach: CommandModule<object, { log: string; bundle: string; output: string; logKey?: string; force?: boolean; json?: boolean }> = {
  command: "attach <log> <bundle>",
  describe: "Attach the bundle's log proof (entry, inclusion path, checkpoint with cosignatures) to its envelope",
  builder: (y) =>
    forceOption(y, "Overwrite an existing output file")
      .positional("log", { type: "string", demandOption: true, description: "Log directory, published folder or URL" })
      .positional("bundle", { type: "string", demandOption: true, description: "The signed bundle (already appended and published)" })
      .option("output", { alias: "o", type: "string", demandOption: true, description: "Bundle with the proof attached" })
      .option("log-key", { type: "string", description: "The log's vkey (string or file)" })
      .example("$0 log attach https://log.example.com/fw fw-1.4.2.fwb --log-key log.vkey -o fw-1.4.2.logged.fwb", "ship the proof inside the bundle, for devices that require logged releases") as never,
  handler: async (a) => {
    const { source, key } = locate(a.log, a.logKey);
    const parts = readBundleParts(a.bundle);
    let p;
    try {
      p = await findLogProof(source, key, parts.envelope);
    } catch (e) {
      fail(e, "LOG_REJECTED");
    }
    await writeFileAtomic(a.output, bundleWithProof(parts, p), { overwrite: !!a.force, fsync: false });
    const sigs = openCheckpoint(p.checkpoint, key).note.signatures.length;
    if (a.json) outDocument({ bundle: a.output, index: p.leafIndex, size: p.checkpointSize, pathHashes: p.path.length, checkpointSignatures: sigs });
    else out(`${a.output}: entry ${p.leafIndex} of ${p.checkpointSize}, ${p.path.length}-hash inclusion path, checkpoint with ${sigs} signature(s)`);
  }
};

const monitor: CommandModule<object, { log: string; logKey?: string; watch: string[]; expect?: string[]; state?: string; json?: boolean }> = {
  command: "monitor <log>",
  describe: "Follow the log: verify its checkpoint and consistency, report entries signed by watched keys that are not expected releases",
  builder: (y) =>
    y
      .positional("log", { type: "string", demandOption: true, description: "Log URL or published folder" })
      .option("log-key", { type: "string", description: "The log's vkey (string or file)" })
      .option("watch", { type: "string", array: true, demandOption: true, description: "Key ID (16 hex digits) to watch" })
      .option("expect", { type: "string", array: true, description: "An expected release: bundle file, or manifest/envelope digest in hex" })
      .option("state", { type: "string", description: "State file (last checkpoint seen); kept between runs" })
      .example("$0 log monitor https://log.example.com/fw --log-key log.vkey --watch 574bee0a62081a44 --expect fw-1.4.2.fwb --state monitor.json", "exit 11 when a watched key signed a release nobody expected, or the log forked") as never,
  handler: async (a) => {
    for (const w of a.watch) if (!/^[0-9a-f]{16}$/i.test(w)) throw new FwsealError("USAGE", `--watch ${w}: a key ID is 16 hex digits (fwseal inspect shows a bundle's signers)`);
    const { source, key } = locate(a.log, a.logKey);
    const expected = new Set<string>();
    for (const x of a.expect ?? []) {
      if (/^[0-9a-f]{64}$/i.test(x)) expected.add(x.toLowerCase());
      else {
        const f = envelopeLogFacts(readBundleParts(x).envelope);
        expected.add(hex(f.manifestDigest));
        expected.add(hex(f.envelopeDigest));
      }
    }
    let r;
    try {
      r = await monitorLog({ source, logKey: key, watch: a.watch, expected, stateFile: a.state });
    } catch (e) {
      fail(e, "LOG_REJECTED");
    }
    const view = (w: (typeof r.watched)[number]) => ({
      index: w.index, version: w.entry.version, sequence: w.entry.sequence, signers: w.entry.signerKeyIds.map(hex),
      manifestDigest: hex(w.entry.manifestDigest), envelopeDigest: hex(w.entry.envelopeDigest), loggedAt: w.entry.loggedAt, loggedAtUtc: rfc3339(w.entry.loggedAt), expected: w.expected
    });
    const report = { origin: r.origin, previousSize: r.previousSize, size: r.size, root: r.root, entriesChecked: r.entriesChecked, watched: r.watched.map(view), unexpected: r.unexpected.map(view) };
    const finding = `${r.unexpected.length} unexpected release(s) signed by a watched key`;
    if (a.json) {
      // Unexpected releases fail the run: the error beside the report, as verify's verdict beside its error.
      if (r.unexpected.length > 0) outFailure(new FwsealError("LOG_REJECTED", finding), report);
      else outDocument(report);
    } else {
      out(`${r.origin}: size ${r.previousSize} -> ${r.size} consistent, ${r.entriesChecked} new entr${r.entriesChecked === 1 ? "y" : "ies"} checked`);
      for (const w of r.watched) out(`  ${w.expected ? "expected  " : "UNEXPECTED"} entry ${w.index}: version ${w.entry.version} sequence ${w.entry.sequence} signed by ${w.entry.signerKeyIds.map(hex).join(", ")}`);
    }
    if (r.unexpected.length > 0) {
      if (!a.json) out(finding);
      setExitCode(ExitCode.TRUST);
    }
  }
};

const command: CommandModule<object, object> = {
  command: "log",
  describe: "A transparency log of releases (static C2SP tlog-tiles files) and its monitor",
  builder: (y: Argv) =>
    y
      .command(init)
      .command(append)
      .command(publish)
      .command(proof)
      .command(attach)
      .command(monitor)
      .demandCommand(1, "log needs an action: init, append, publish, proof, attach or monitor")
      .example("$0 log append tlog fw-1.4.2.fwb && $0 log publish tlog --key log.key", "record a release and publish a checkpoint (serve tlog/public over HTTP)")
      .example("$0 log attach tlog fw-1.4.2.fwb -o fw-1.4.2.logged.fwb", "the bundle with its proof, for devices configured with the log's key") as never,
  handler: () => undefined
};
export default command;
