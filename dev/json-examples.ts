// One success and one failure `--json` document for every command, produced by running the
// real CLI (in-process main()) on real files in a scratch directory. Used by the schema test
// (test/unit/json-schema.test.ts) and by `npm run schema:examples`, which prints them with
// their validation against schema/fwseal-1.schema.json. Development only, not shipped.
import * as crypto from "node:crypto";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { main } from "../host/cli/cli.js";

/** One command run: what was typed, its exit code, and the JSON documents it printed. */
export interface JsonExample {
  command: string;
  outcome: "success" | "failure";
  /** What the example shows (e.g. "threshold not met"). */
  label: string;
  argv: string[];
  exitCode: number;
  documents: unknown[];
  stderr: string;
}

/** Runs one example (argv without --json) and records it. */
type Run = (command: string, outcome: "success" | "failure", label: string, argv: string[]) => Promise<JsonExample>;

/** Run `fwseal argv` in-process and parse its stdout as one JSON document, or JSON lines. */
export async function runJson(argv: string[]): Promise<{ exitCode: number; documents: unknown[]; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const exitCode = await main(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), stderrIsTTY: false });
  const text = stdout.trim();
  let documents: unknown[] = [];
  if (text.length > 0) {
    try {
      documents = [JSON.parse(text)];
    } catch {
      documents = text.split("\n").map((l) => JSON.parse(l) as unknown);
    }
  }
  return { exitCode, documents, stdout, stderr };
}

/** The Ed25519 signature of `message` with the PKCS#8 PEM key in `keyFile` (an outside signer, as openssl would). */
function signWithKeyFile(keyFile: string, message: Uint8Array): Uint8Array {
  return new Uint8Array(crypto.sign(null, message, crypto.createPrivateKey(fs.readFileSync(keyFile))));
}

/**
 * Every command's success and failure documents, made in `dir` (an empty scratch
 * directory). Commands that need a device (flash, device-sim, espruino) or an engine
 * (device-conformance) give their failure here; their successes need a serial line and are
 * covered by the system tier.
 */
export async function collectJsonExamples(dir: string): Promise<JsonExample[]> {
  const f = (name: string): string => path.join(dir, name);
  const examples: JsonExample[] = [];
  const run: Run = async (command, outcome, label, argv) => {
    const r = await runJson([...argv, "--json"]);
    const ex: JsonExample = { command, outcome, label, argv: [...argv, "--json"], exitCode: r.exitCode, documents: r.documents, stderr: r.stderr };
    examples.push(ex);
    if ((outcome === "success") !== (r.exitCode === 0)) {
      throw new Error(`fwseal ${argv.join(" ")}: expected ${outcome}, exit ${r.exitCode}: ${r.stderr}`);
    }
    return ex;
  };
  const setup = async (argv: string[]): Promise<void> => {
    const r = await runJson([...argv, "--json"]);
    if (r.exitCode !== 0) throw new Error(`fwseal ${argv.join(" ")}: exit ${r.exitCode}: ${r.stderr}`);
  };
  const image = f("fw.bin");
  fs.writeFileSync(image, crypto.createHash("sha256").update("fwseal json examples").digest().toString("hex").repeat(200));
  const target = ["--vendor", "acme.example", "--class", "sensor-v3"];

  await run("keygen", "success", "Ed25519 key pair", ["keygen", "-o", f("root")]);
  await run("keygen", "failure", "no --out", ["keygen"]);
  await setup(["keygen", "-o", f("rel")]);
  await setup(["keygen", "-o", f("bob")]);
  await setup(["keygen", "-o", f("other")]);
  await run("pubkey", "success", "hex public key", ["pubkey", f("root.pub")]);
  await run("pubkey", "failure", "missing key file", ["pubkey", f("missing.pub")]);
  await run("delegate", "success", "release key for one class", ["delegate", "--root", f("root.key"), "--pub", f("rel.pub"), ...target, "--not-after", "2099-12-31", "-o", f("rel.cert")]);
  await run("delegate", "failure", "output exists", ["delegate", "--root", f("root.key"), "--pub", f("rel.pub"), "-o", f("rel.cert")]);
  await setup(["delegate", "--root", f("root.key"), "--pub", f("bob.pub"), ...target, "--not-after", "2099-12-31", "-o", f("bob.cert")]);
  const packArgs = [image, "-k", f("rel.key"), "-c", f("rel.cert"), "--seq", "7", ...target, "--fw-version", "1.4.2"];
  await run("pack", "success", "signed bundle", ["pack", ...packArgs, "--root", f("root.pub"), "-o", f("fw.fwb")]);
  await run("pack", "failure", "no device with these roots would accept it", ["pack", ...packArgs, "--root", f("other.pub"), "-o", f("refused.fwb")]);
  await run("pack", "success", "unsigned draft", ["pack", image, "--unsigned", "--threshold", "2", "--allow-signer", f("rel.pub"), "--allow-signer", f("bob.pub"), "--seq", "8", ...target, "--fw-version", "1.5.0", "-o", f("fw.draft")]);
  fs.writeFileSync(f("garbage.fwb"), Buffer.from("not a bundle at all"));
  await run("inspect", "success", "bundle", ["inspect", f("fw.fwb")]);
  await run("inspect", "success", "draft: signatures present and missing", ["inspect", f("fw.draft")]);
  await run("inspect", "failure", "not a bundle", ["inspect", f("garbage.fwb")]);
  const policy = ["--root", f("root.pub"), ...target];
  await run("verify", "success", "valid for sensor-v3", ["verify", f("fw.fwb"), ...policy]);
  await run("verify", "failure", "threshold not met", ["verify", f("fw.fwb"), ...policy, "--threshold", "2"]);
  // Compressed and delta payloads (SPEC §15).
  const image2 = f("fw2.bin");
  fs.writeFileSync(image2, Buffer.concat([fs.readFileSync(image), Buffer.from("release 1.4.3 adds this line")]));
  const packArgs2 = [image2, "-k", f("rel.key"), "-c", f("rel.cert"), "--seq", "8", ...target, "--fw-version", "1.4.3"];
  await run("pack", "success", "compressed payload", ["pack", ...packArgs2, "--compress", "-o", f("fw2-compressed.fwb")]);
  await run("pack", "success", "delta payload", ["pack", ...packArgs2, "--delta-from", f("fw.fwb"), "-o", f("fw2-delta.fwb")]);
  await run("inspect", "success", "delta payload", ["inspect", f("fw2-delta.fwb")]);
  await run("verify", "success", "compressed payload, decoded and checked", ["verify", f("fw2-compressed.fwb"), ...policy]);
  await run("verify", "success", "delta payload without its precursor: result not checked", ["verify", f("fw2-delta.fwb"), ...policy]);
  await run("verify", "failure", "delta payload for another precursor", ["verify", f("fw2-delta.fwb"), ...policy, "--precursor", image2]);
  await run("extract", "success", "verified image", ["extract", f("fw.fwb"), ...policy, "-o", f("fw.out")]);
  await run("extract", "failure", "another vendor's device", ["extract", f("fw.fwb"), "--root", f("root.pub"), "--vendor", "other.example", "-o", f("fw2.out")]);
  await run("sign", "success", "first signature, into a new file", ["sign", f("fw.draft"), "-k", f("rel.key"), "-c", f("rel.cert"), "-o", f("fw1.draft")]);
  await run("sign", "failure", "a bundle is not a draft", ["sign", f("fw.fwb"), "-k", f("rel.key"), "-o", f("x.draft")]);
  await run("finalize", "failure", "one of two signatures", ["finalize", f("fw1.draft"), "--root", f("root.pub"), "--threshold", "2", "-o", f("final.fwb")]);
  await run("tbs", "success", "bytes for an outside signer", ["tbs", f("fw1.draft"), "--signer-key", f("bob.pub"), "-o", f("bob.tbs")]);
  await run("tbs", "failure", "missing draft", ["tbs", f("missing.draft"), "--signer-key", f("bob.pub"), "-o", f("x.tbs")]);
  fs.writeFileSync(f("bob.sig"), signWithKeyFile(f("bob.key"), fs.readFileSync(f("bob.tbs"))));
  fs.writeFileSync(f("short.sig"), Buffer.alloc(10));
  await run("attach-signature", "success", "outside signature", ["attach-signature", f("fw1.draft"), "--pub", f("bob.pub"), "--sig", f("bob.sig"), "-c", f("bob.cert"), "-o", f("fw2.draft")]);
  await run("attach-signature", "failure", "not a signature", ["attach-signature", f("fw1.draft"), "--pub", f("bob.pub"), "--sig", f("short.sig"), "-o", f("fw3.draft")]);
  await run("finalize", "success", "two of two signatures", ["finalize", f("fw2.draft"), "--root", f("root.pub"), "--threshold", "2", ...target, "-o", f("final.fwb")]);
  await setup(["keygen", "-o", f("root1")]);
  await run("retire-root", "success", "statement retiring slot 0", ["retire-root", "--key", f("root1.key"), "--slot", "0", "--retire-pub", f("root.pub"), "--vendor", "acme.example", "--counter", "5", "-o", f("retire.cose")]);
  await run("retire-root", "success", "check as a device would", ["retire-root", "--check", f("retire.cose"), "--root", f("root.pub"), "--root", f("root1.pub"), ...target]);
  await run("retire-root", "failure", "not a statement", ["retire-root", "--check", f("garbage.fwb"), "--root", f("root.pub"), "--root", f("root1.pub"), ...target]);
  const log = f("signing.log");
  await setup(["pack", ...packArgs, "--audit", log, "-o", f("audited.fwb")]);
  await setup(["delegate", "--root", f("root.key"), "--pub", f("other.pub"), "--audit", log, "--not-after", "2099-12-31", ...target, "-o", f("other.cert")]);
  await run("audit verify", "success", "intact log", ["audit", "verify", log]);
  await run("audit list", "success", "records", ["audit", "list", log]);
  const lines = fs.readFileSync(log, "utf8").split("\n");
  fs.writeFileSync(f("edited.log"), [lines[0].replace(/"sequence":7/, '"sequence":9'), ...lines.slice(1)].join("\n"));
  await run("audit verify", "failure", "edited record", ["audit", "verify", f("edited.log")]);
  await run("audit list", "failure", "missing log", ["audit", "list", f("missing.log")]);
  await collectLogExamples(f, run, setup);
  await run("flash", "failure", "no such port", ["flash", f("fw.fwb"), "--port", f("no-such-port")]);
  await run("device-sim", "failure", "flash too small", ["device-sim", "--state", f("sim"), "--root", f("root.pub"), ...target, "--flash-size", "100"]);
  await run("device-conformance", "failure", "no such engine", ["device-conformance", "--engine", f("no-such-engine")]);
  await run("init", "success", "profile written", ["init", "--vendor", "acme.example", "--class", "sensor-v3", "--root", f("root.pub"), "-o", f("fwseal.json")]);
  await run("init", "failure", "profile exists", ["init", "--vendor", "acme.example", "-o", f("fwseal.json")]);
  await run("completion", "success", "zsh script", ["completion", "zsh"]);
  await run("completion", "failure", "unknown shell", ["completion", "fish"]);
  await run("espruino", "failure", "no such port", ["espruino", "provision", "--port", f("no-such-port"), "--root", f("root.pub"), ...target]);
  return examples;
}

/**
 * The transparency log's documents, on a log directory and its published folder (no web
 * server): fw.fwb and final.fwb logged, cosigned by a witness, the proof attached and
 * inspected; then a release nobody expected for the monitor and a forked log for the witness.
 */
async function collectLogExamples(f: (name: string) => string, run: Run, setup: (argv: string[]) => Promise<void>): Promise<void> {
  const tlog = f("tlog");
  const published = path.join(tlog, "public");
  const witness = ["--log-key", path.join(published, "vkey"), "--key", f("w1.key"), "--name", "witness.example/w1", "--state", f("w1.json"), "--time", "1700000100"];
  await setup(["keygen", "-o", f("logkey")]);
  await setup(["keygen", "-o", f("w1")]);
  const unlogged = f("unexpected.fwb"); // signed by the release key, never expected by its owner
  await setup(["pack", f("fw.bin"), "-k", f("rel.key"), "-c", f("rel.cert"), "--seq", "9", "--vendor", "acme.example", "--class", "sensor-v3", "--fw-version", "9.9.9", "-o", unlogged]);
  await run("log init", "success", "log directory", ["log", "init", tlog, "--key", f("logkey.key"), "--name", "log.example/fw"]);
  await run("log init", "failure", "already a log", ["log", "init", tlog, "--key", f("logkey.key"), "--name", "log.example/fw"]);
  await run("log append", "success", "two releases", ["log", "append", tlog, f("fw.fwb"), f("final.fwb"), "--time", "1700000000"]);
  await run("log append", "failure", "not a bundle", ["log", "append", tlog, f("garbage.fwb")]);
  await run("log publish", "success", "checkpoint signed by the log", ["log", "publish", tlog, "--key", f("logkey.key")]);
  await run("log publish", "failure", "neither --key nor --cosigned", ["log", "publish", tlog]);
  await run("witness", "success", "first checkpoint cosigned", ["witness", published, ...witness, "-o", f("w1.note")]);
  await setup(["log", "publish", tlog, "--cosigned", f("w1.note")]);
  await run("log proof", "success", "inclusion of a bundle, consistency from size 1", ["log", "proof", tlog, "--bundle", f("fw.fwb"), "--from", "1"]);
  await run("log proof", "failure", "a published folder without the log's key", ["log", "proof", published, "--index", "0"]);
  await run("log attach", "success", "proof attached", ["log", "attach", tlog, f("fw.fwb"), "-o", f("fw.logged.fwb")]);
  await run("log attach", "failure", "bundle not in the log", ["log", "attach", tlog, unlogged, "-o", f("unexpected.logged.fwb")]);
  await run("inspect", "success", "bundle with a log proof", ["inspect", f("fw.logged.fwb")]);
  const pub = await runJson(["pubkey", f("rel.pub"), "--json"]);
  const watch = ["--watch", (pub.documents[0] as { keyId: string }).keyId, "--expect", f("fw.fwb"), "--expect", f("final.fwb"), "--state", f("monitor.json")];
  await run("log monitor", "success", "expected releases only", ["log", "monitor", tlog, ...watch]);
  await setup(["log", "append", tlog, unlogged, "--time", "1700000200"]);
  await setup(["log", "publish", tlog, "--key", f("logkey.key")]);
  await run("log monitor", "failure", "a release signed by a watched key that nobody expected", ["log", "monitor", tlog, ...watch]);
  // The same log key over another history: the witness has cosigned size 2 of the real one.
  const fork = f("fork");
  await setup(["log", "init", fork, "--key", f("logkey.key"), "--name", "log.example/fw"]);
  await setup(["log", "append", fork, f("final.fwb"), f("fw.fwb"), unlogged, "--time", "1700000000"]);
  await setup(["log", "publish", fork, "--key", f("logkey.key")]);
  await run("witness", "failure", "a forked log", ["witness", path.join(fork, "public"), ...witness]);
}

/**
 * The successes that need a serial line: `device-sim --json` (run as `node <bin>`, on a
 * pseudo-terminal pair made with socat) and `flash --json` installing fw.fwb from
 * collectJsonExamples(dir) into it. Its events (ready, boot) are the device-sim documents.
 */
export async function collectDeviceExamples(dir: string, bin: string): Promise<JsonExample[]> {
  const f = (name: string): string => path.join(dir, name);
  const args = ["device-sim", "--json", "--state", f("sim-ok"), "--root", f("root.pub"), "--vendor", "acme.example", "--class", "sensor-v3"];
  const sim = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  try {
    const port = await new Promise<string>((resolve, reject) => {
      let buf = "";
      const t = setTimeout(() => reject(new Error(`device-sim printed no ready event: ${buf}`)), 30_000);
      sim.once("exit", (code) => reject(new Error(`device-sim exited (${code})`)));
      sim.stdout.setEncoding("utf8").on("data", (s: string) => {
        buf += s;
        let i: number;
        while ((i = buf.indexOf("\n")) >= 0) {
          lines.push(buf.slice(0, i));
          buf = buf.slice(i + 1);
          const doc = JSON.parse(lines[lines.length - 1]) as { event?: string; port?: string };
          if (doc.event === "ready" && doc.port !== undefined) {
            clearTimeout(t);
            resolve(doc.port);
          }
        }
      });
    });
    const argv = ["flash", f("fw.fwb"), "--port", port, "--reboot", "--confirm", "--json"];
    const r = await runJson(argv);
    if (r.exitCode !== 0) throw new Error(`fwseal flash: exit ${r.exitCode}: ${r.stderr}`);
    const flash: JsonExample = { command: "flash", outcome: "success", label: "install, test boot, confirm", argv, exitCode: 0, documents: r.documents, stderr: r.stderr };
    await new Promise<void>((resolve) => {
      sim.once("exit", () => resolve());
      sim.kill("SIGINT");
    });
    const events: JsonExample = { command: "device-sim", outcome: "success", label: "events: boot, ready, boot after flash --reboot", argv: args, exitCode: 0, documents: lines.map((l) => JSON.parse(l) as unknown), stderr: "" };
    return [events, flash];
  } finally {
    if (sim.exitCode === null && sim.signalCode === null) sim.kill("SIGKILL");
  }
}
