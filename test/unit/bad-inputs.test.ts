// Every bad input a user can type gets a one-line answer in fwseal's words and the exit code
// of its class (README "Exit codes"): never 1 (internal error), never a library's raw text,
// never a hang, and nothing created on the way.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { fwseal, fwsealOk, tempDir, errorLines } from "../helpers/cli.js";
import { writeImage } from "../helpers/images.js";
import { ExitCode } from "../../host/exit-codes.js";
import { LOG_KEY, WITNESS_KEYS } from "../helpers/log-fixtures.js";
import { formatVerifierKey } from "../../host/log/note.js";
import { schemaValidator } from "../../dev/json-schema-check.js";

const dir = tempDir("bad-inputs");
const validate = schemaValidator();
const f = (name: string): string => path.join(dir, name);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  await fwsealOk(["keygen", "-o", f("root")]);
  await fwsealOk(["keygen", "-o", f("rel")]);
  writeImage(dir, "fw.bin", 10_000);
  await fwsealOk(["pack", f("fw.bin"), "-k", f("root.key"), "-r", f("root.pub"), "--seq", "1", "--vendor", "acme.example", "--class", "sensor-v3", "--fw-version", "1.0", "-o", f("fw.fwb")]);
  fs.mkdirSync(f("a-directory"));
  fs.writeFileSync(f("cbor-zero.bin"), Buffer.from([0x00, 0x01])); // a CBOR item (0), then more: no envelope
  await fwsealOk(["keygen", "-o", f("r1")]);
  await fwsealOk(["retire-root", "-k", f("r1.key"), "--slot", "0", "--retire-pub", f("root.pub"), "--vendor", "acme.example", "-o", f("ret.cose")]);
  await fwsealOk(["pack", f("fw.bin"), "--unsigned", "--seq", "3", "--vendor", "acme.example", "--class", "sensor-v3", "--fw-version", "1.2", "-o", f("fw.draft")]);
  await fwsealOk(["sign", f("fw.draft"), "-k", f("root.key"), "--in-place"]);
  await fwsealOk(["log", "init", f("tlog"), "--key", f("root.key"), "--name", "log.example/fw"]);
  await fwsealOk(["log", "append", f("tlog"), f("fw.fwb")]);
  await fwsealOk(["log", "publish", f("tlog"), "--key", f("root.key")]);
});

/** Text that only a library or the runtime would print: it must never reach the user as is. */
const LOG_VKEY = formatVerifierKey(LOG_KEY);
const WITNESS_VKEY = formatVerifierKey(WITNESS_KEYS[0]);

const RAW = /internal error|Error:|ioctl|NaN|EISDIR|ENOENT|ENOTTY|at [\w.]+ \(|undefined|\[object /;

// [what, arguments, exit code, what the one line must say, files that must not appear]
const CASES: [string, () => string[], number, RegExp, string[]?][] = [
  ["flash --baud abc", () => ["flash", f("fw.fwb"), "--port", "/dev/null", "--baud", "abc"], ExitCode.USAGE, /--baud must be a number/],
  ["flash --baud 0", () => ["flash", f("fw.fwb"), "--port", "/dev/null", "--baud", "0"], ExitCode.USAGE, /--baud must be a positive integer/],
  ["flash --timeout 0", () => ["flash", f("fw.fwb"), "--port", "/dev/null", "--timeout", "0"], ExitCode.USAGE, /--timeout must be a positive number of milliseconds/],
  ["flash --port /dev/null", () => ["flash", f("fw.fwb"), "--port", "/dev/null"], ExitCode.DEVICE, /\/dev\/null: not a serial port/],
  ["flash --port <a file>", () => ["flash", f("fw.fwb"), "--port", f("fw.bin")], ExitCode.DEVICE, /fw\.bin: not a serial port \(a file\)/],
  ["flash --port <missing>", () => ["flash", f("fw.fwb"), "--port", f("no-port")], ExitCode.DEVICE, /no-port: no such serial port/],
  ["device-sim --port /dev/nonexistent", () => ["device-sim", "--port", "/dev/nonexistent", "--state", f("sim1"), "--root", f("root.pub"), "--vendor", "acme.example", "--class", "sensor-v3"], ExitCode.DEVICE, /\/dev\/nonexistent: no such serial port/, ["sim1"]],
  ["device-sim --flash-size 100", () => ["device-sim", "--flash-size", "100", "--state", f("sim2"), "--root", f("root.pub"), "--vendor", "acme.example", "--class", "sensor-v3"], ExitCode.USAGE, /--flash-size 100: too small .* at least \d+ bytes/, ["sim2"]],
  ["device-sim --page-size 1000", () => ["device-sim", "--page-size", "1000", "--state", f("sim3"), "--root", f("root.pub"), "--vendor", "acme.example", "--class", "sensor-v3"], ExitCode.USAGE, /--page-size 1000: a power of two/, ["sim3"]],
  ["device-sim --window abc", () => ["device-sim", "--window", "abc", "--state", f("sim4"), "--root", f("root.pub"), "--vendor", "acme.example", "--class", "sensor-v3"], ExitCode.USAGE, /--window must be a number/, ["sim4"]],
  ["pack --audit <directory>", () => ["pack", f("fw.bin"), "-k", f("root.key"), "-r", f("root.pub"), "--seq", "2", "--vendor", "acme.example", "--class", "sensor-v3", "--fw-version", "1.1", "--audit", f("a-directory"), "-o", f("audited.fwb")], ExitCode.OUTPUT, /a-directory: is a directory/, ["audited.fwb"]],
  ["pack --chunk-size abc", () => ["pack", f("fw.bin"), "-k", f("root.key"), "-r", f("root.pub"), "--seq", "2", "--vendor", "acme.example", "--class", "sensor-v3", "--fw-version", "1.1", "--chunk-size", "abc", "-o", f("c.fwb")], ExitCode.USAGE, /--chunk-size must be a number/, ["c.fwb"]],
  ["audit verify --count abc", () => ["audit", "verify", f("log"), "--count", "abc"], ExitCode.USAGE, /--count must be a number/],
  ["audit verify --count -1", () => ["audit", "verify", f("log"), "--count", "-1"], ExitCode.USAGE, /--count must be a non-negative integer/],
  ["audit verify with no log", () => ["audit", "verify"], ExitCode.USAGE, /no audit log given/],
  ["device-conformance --engine /nonexistent", () => ["device-conformance", "--engine", "/nonexistent"], ExitCode.INPUT, /--engine \/nonexistent: no such program/],
  ["device-conformance --engine no-such-program", () => ["device-conformance", "--engine", "no-such-program-fwseal"], ExitCode.INPUT, /not found on PATH/],
  ["verify --min-seq -1", () => ["verify", f("fw.fwb"), "-r", f("root.pub"), "--min-seq", "-1"], ExitCode.USAGE, /--min-seq must be a non-negative integer/],
  ["verify <directory>", () => ["verify", f("a-directory"), "-r", f("root.pub")], ExitCode.INPUT, /a-directory: is a directory/],
  ["inspect <directory>", () => ["inspect", f("a-directory")], ExitCode.INPUT, /a-directory: is a directory/],
  ["extract -o <directory>", () => ["extract", f("fw.fwb"), "-r", f("root.pub"), "-o", f("a-directory")], ExitCode.OUTPUT, /a-directory: is a directory/],
  ["espruino provision --baud abc", () => ["espruino", "provision", "--port", "/dev/null", "--baud", "abc", "--root", f("root.pub"), "--vendor", "acme.example", "--class", "sensor-v3"], ExitCode.USAGE, /--baud must be a number/],
  ["espruino provision --port /dev/null", () => ["espruino", "provision", "--port", "/dev/null", "--root", f("root.pub"), "--vendor", "acme.example", "--class", "sensor-v3"], ExitCode.DEVICE, /\/dev\/null: not a serial port/],
  ["retire-root --slot abc", () => ["retire-root", "--key", f("root.key"), "--slot", "abc", "--retire-pub", f("root.pub"), "--vendor", "acme.example", "-o", f("r.cose")], ExitCode.USAGE, /--slot must be a number/, ["r.cose"]],
  ["pubkey --format xyz", () => ["pubkey", f("root.pub"), "--format", "xyz"], ExitCode.USAGE, /Invalid values/],
  ["delegate --not-before -5 (not read as a day in 2001)", () => ["delegate", "--root", f("root.key"), "--pub", f("rel.pub"), "--not-before", "-5", "-o", f("nb.cert")], ExitCode.USAGE, /--not-before: not a date/, ["nb.cert"]],
  ["delegate --not-after 99999999999999", () => ["delegate", "--root", f("root.key"), "--pub", f("rel.pub"), "--not-after", "99999999999999", "-o", f("na.cert")], ExitCode.USAGE, /--not-after: 99999999999999 is after 9999-12-31T23:59:59Z/, ["na.cert"]],
  ["verify --now -1", () => ["verify", f("fw.fwb"), "-r", f("root.pub"), "--now", "-1"], ExitCode.USAGE, /--now: not a date/],
  ["pack --build-time 5", () => ["pack", f("fw.bin"), "-k", f("root.key"), "-r", f("root.pub"), "--seq", "2", "--vendor", "acme.example", "--class", "sensor-v3", "--fw-version", "1.1", "--build-time", "12/31/2027", "-o", f("bt.fwb")], ExitCode.USAGE, /--build-time: not a date/, ["bt.fwb"]],
  ["verify --log-key <a witness's vkey>", () => ["verify", f("fw.fwb"), "-r", f("root.pub"), "--log-key", WITNESS_VKEY], ExitCode.KEY, /--log-key w.*: a witness's key \(cosignature\/v1\), not a log's key/],
  ["verify --witness-key <the log's vkey>", () => ["verify", f("fw.fwb"), "-r", f("root.pub"), "--log-key", LOG_VKEY, "--witness-key", LOG_VKEY, "--witness-quorum", "1"], ExitCode.KEY, /--witness-key log\.example\/fw.*: a log's key \(Ed25519 note signatures\), not a witness's key/],
  ["verify --witness-quorum without --log-key", () => ["verify", f("fw.fwb"), "-r", f("root.pub"), "--witness-quorum", "1"], ExitCode.USAGE, /add the log's --log-key/],
  ["device-sim --log-key <a witness's vkey>", () => ["device-sim", "--state", f("sim5"), "--root", f("root.pub"), "--vendor", "acme.example", "--class", "sensor-v3", "--log-key", WITNESS_VKEY], ExitCode.KEY, /not a log's key/, ["sim5"]],
  ["pack --audit <the output>", () => ["pack", f("fw.bin"), "-k", f("root.key"), "-r", f("root.pub"), "--seq", "2", "--vendor", "acme.example", "--class", "sensor-v3", "--fw-version", "1.1", "--audit", f("same.fwb"), "-o", f("same.fwb")], ExitCode.OUTPUT, /same\.fwb: is also the --audit file/, ["same.fwb"]],
  ["delegate --audit <the output>", () => ["delegate", "--root", f("root.key"), "--pub", f("rel.pub"), "--audit", f("same.cert"), "-o", f("same.cert")], ExitCode.OUTPUT, /same\.cert: is also the --audit file/, ["same.cert"]],
  ["witness --state <the output>", () => ["witness", f("no-log"), "--log-key", LOG_VKEY, "--key", f("root.key"), "--name", "w.example", "--state", f("w.json"), "-o", f("w.json")], ExitCode.OUTPUT, /w\.json: is also the --state file/, ["w.json"]],
  ["pack - (stdin)", () => ["pack", "-", "-k", f("root.key"), "-r", f("root.pub"), "--seq", "2", "--vendor", "acme.example", "--class", "sensor-v3", "--fw-version", "1.1", "-o", f("stdin.fwb")], ExitCode.USAGE, /-: pack reads files, not stdin/, ["stdin.fwb"]],
  ["pubkey - (stdin)", () => ["pubkey", "-"], ExitCode.USAGE, /-: pubkey reads files, not stdin/],
  ["audit verify - (stdin)", () => ["audit", "verify", "-"], ExitCode.USAGE, /-: audit verify reads files, not stdin/],
  ["pack -o - (a file named -)", () => ["pack", f("fw.bin"), "-k", f("root.key"), "-r", f("root.pub"), "--seq", "2", "--vendor", "acme.example", "--class", "sensor-v3", "--fw-version", "1.1", "-o", "-"], ExitCode.USAGE, /-o -: pack writes a file/],
  ["delegate -o - (a file named -)", () => ["delegate", "--root", f("root.key"), "--pub", f("rel.pub"), "-o", "-"], ExitCode.USAGE, /-o -: delegate writes a file/],
  ["retire-root --cosign <not a statement>", () => ["retire-root", "--cosign", f("fw.bin"), "-k", f("root.key"), "--vendor", "acme.example", "-o", f("co.cose")], ExitCode.BUNDLE_MALFORMED, /not a root-retirement statement/, ["co.cose"]],
  ["audit <unknown action>", () => ["audit", "frob", f("log")], ExitCode.USAGE, /Unknown argument/],
  ["log <unknown action>", () => ["log", "frob"], ExitCode.USAGE, /log: unknown action "frob" \(init, append, publish, proof, attach, monitor\)/],
  ["log init <a file>", () => ["log", "init", f("fw.bin"), "--key", f("root.key"), "--name", "x.example/l"], ExitCode.OUTPUT, /fw\.bin: /],
  ["log init <a log>", () => ["log", "init", f("tlog"), "--key", f("root.key"), "--name", "x.example/l"], ExitCode.OUTPUT, /tlog: already holds a log/],
  ["log append <missing bundle>", () => ["log", "append", f("tlog"), f("nope.fwb")], ExitCode.INPUT, /nope\.fwb: no such file/],
  ["log append <not a bundle>", () => ["log", "append", f("tlog"), f("fw.bin")], ExitCode.BUNDLE_MALFORMED, /fw\.bin: not a bundle's envelope/],
  ["log append --time -1", () => ["log", "append", f("tlog"), f("fw.fwb"), "--time", "-1"], ExitCode.USAGE, /--time -1: seconds since 1970/],
  ["log publish --cosigned <missing>", () => ["log", "publish", f("tlog"), "--cosigned", f("nope.note")], ExitCode.INPUT, /nope\.note: no such file/],
  ["log publish --key <another key>", () => ["log", "publish", f("tlog"), "--key", f("rel.key")], ExitCode.KEY, /not this log's key/],
  ["log proof --index 5 (log of 1)", () => ["log", "proof", f("tlog"), "--index", "5"], ExitCode.USAGE, /--index 5: the log's checkpoint has 1 entry \(0\.\.0\)/],
  ["log proof --index -1", () => ["log", "proof", f("tlog"), "--index", "-1"], ExitCode.USAGE, /--index must be a non-negative integer/],
  ["log proof <missing log>", () => ["log", "proof", f("no-log"), "--index", "0"], ExitCode.INPUT, /no-log: no such file/],
  ["log attach -o <missing directory>", () => ["log", "attach", f("tlog"), f("fw.fwb"), "-o", f("nodir/x.fwb")], ExitCode.OUTPUT, /nodir\/x\.fwb: directory does not exist/],
  ["log attach -o <its bundle> --force", () => ["log", "attach", f("tlog"), f("fw.fwb"), "-o", f("fw.fwb"), "--force"], ExitCode.OUTPUT, /is also an input/],
  ["log monitor --watch xyz", () => ["log", "monitor", f("tlog"), "--watch", "xyz"], ExitCode.USAGE, /--watch xyz: a key ID is 16 hex digits/],
  ["log monitor --expect <missing>", () => ["log", "monitor", f("tlog"), "--watch", "0123456789abcdef", "--expect", f("nope.fwb")], ExitCode.INPUT, /nope\.fwb: no such file/],
  ["log monitor --state <directory>", () => ["log", "monitor", f("tlog"), "--watch", "0123456789abcdef", "--state", f("a-directory")], ExitCode.INPUT, /a-directory: is a directory/],
  ["witness -o <missing directory>: the state is not advanced", () => ["witness", f("tlog/public"), "--log-key", f("tlog/public/vkey"), "--key", f("rel.key"), "--name", "w.example", "--state", f("w1.json"), "-o", f("nodir/w.note")], ExitCode.OUTPUT, /nodir\/w\.note: directory does not exist/, ["w1.json"]],
  ["witness --state <directory>", () => ["witness", f("tlog/public"), "--log-key", f("tlog/public/vkey"), "--key", f("rel.key"), "--name", "w.example", "--state", f("a-directory")], ExitCode.INPUT, /a-directory: is a directory/],
  ["witness --time 1.5", () => ["witness", f("tlog/public"), "--log-key", f("tlog/public/vkey"), "--key", f("rel.key"), "--name", "w.example", "--state", f("w2.json"), "--time", "1.5"], ExitCode.USAGE, /--time 1\.5: seconds since 1970/, ["w2.json"]],
  ["log init --name with a newline and an escape: still one line", () => ["log", "init", f("tlog2"), "--key", f("root.key"), "--name", "a\nb\u001b[31m"], ExitCode.USAGE, /bad key name "a\\nb\\x1b\[31m"/],
  ["retire-root --check with -o (ignored before)", () => ["retire-root", "--check", f("ret.cose"), "-r", f("root.pub"), "-r", f("r1.pub"), "--vendor", "acme.example", "--class", "sensor-v3", "-o", f("chk.cose")], ExitCode.USAGE, /-o: not used with --check/, ["chk.cose"]],
  ["retire-root --check and --cosign", () => ["retire-root", "--check", f("ret.cose"), "--cosign", f("ret.cose"), "-r", f("root.pub"), "-r", f("r1.pub"), "--vendor", "acme.example", "--class", "sensor-v3"], ExitCode.USAGE, /--cosign: not used with --check/],
  ["retire-root --cosign with --slot", () => ["retire-root", "--cosign", f("ret.cose"), "-k", f("rel.key"), "--slot", "1", "--vendor", "acme.example", "-o", f("co2.cose")], ExitCode.USAGE, /--slot: not used with --cosign/, ["co2.cose"]],
  ["finalize --threshold 0 (the draft's 1 hid it)", () => ["finalize", f("fw.draft"), "-r", f("root.pub"), "--threshold", "0", "-o", f("fin.fwb")], ExitCode.USAGE, /--threshold 0: must be 1\.\.8/, ["fin.fwb"]],
  ["delegate --epoch \"\" (read as 0 before)", () => ["delegate", "--root", f("root.key"), "--pub", f("rel.pub"), "--epoch", "", "-o", f("ep.cert")], ExitCode.USAGE, /--epoch must be a number/, ["ep.cert"]],
  ["verify --min-seq= (blank)", () => ["verify", f("fw.fwb"), "-r", f("root.pub"), "--min-seq= "], ExitCode.USAGE, /--min-seq must be a number/],
  ["verify --max-window-bits 99", () => ["verify", f("fw.fwb"), "-r", f("root.pub"), "--max-window-bits", "99"], ExitCode.USAGE, /--max-window-bits 99: 9\.\.15, or 0/],
  ["keygen --warn-below -1", () => ["keygen", "--alg", "hss-lms", "--lms-height", "5", "--warn-below", "-1", "-o", f("pqw")], ExitCode.USAGE, /--warn-below must be a non-negative integer/, ["pqw.key", "pqw.pub"]],
  ["init --threshold 0 (a profile no verify could use)", () => ["init", "--threshold", "0", "-o", f("p1.json")], ExitCode.USAGE, /"policy\.threshold" must be 1\.\.8/, ["p1.json"]],
  ["init --root-threshold 2 with one --root", () => ["init", "-r", f("root.pub"), "--root-threshold", "2", "-o", f("p2.json")], ExitCode.USAGE, /"policy\.rootThreshold" must be 1\.\.1 \(1 root\(s\)\)/, ["p2.json"]],
  ["init --baud 0", () => ["init", "--baud", "0", "-o", f("p3.json")], ExitCode.USAGE, /"baud" must be a positive integer/, ["p3.json"]],
  ["init --root <missing file> (a profile every verify would fail on)", () => ["init", "-r", f("nope.pub"), "-o", f("p4.json")], ExitCode.INPUT, /nope\.pub: no such file/, ["p4.json"]],
  ["init --root <not a key>", () => ["init", "-r", f("fw.bin"), "-o", f("p5.json")], ExitCode.KEY, /fw\.bin: not a PEM key file/, ["p5.json"]],
  ["--profile <directory>", () => ["verify", f("fw.fwb"), "--profile", f("a-directory")], ExitCode.INPUT, /profile .*a-directory: is a directory/],
  ["audit verify --head zz", () => ["audit", "verify", f("log"), "--head", "zz"], ExitCode.USAGE, /--head zz: a record hash is 64 hex digits/],
  ["delegate -o <a 300-character name>", () => ["delegate", "--root", f("root.key"), "--pub", f("rel.pub"), "-o", f("x".repeat(300))], ExitCode.OUTPUT, /x{300}: file name too long/],
  ["pubkey <a file>/x", () => ["pubkey", f("fw.bin/x.pub")], ExitCode.INPUT, /fw\.bin\/x\.pub: no such file \(a part of the path is not a directory\)/],
  ["log attach <a CBOR item that is no envelope>", () => ["log", "attach", f("tlog"), f("cbor-zero.bin"), "-o", f("att.fwb")], ExitCode.BUNDLE_MALFORMED, /cbor-zero\.bin: not a bundle's envelope/, ["att.fwb"]],
  // Node reads argv as UTF-8: the bytes \xff arrive as U+FFFD, as the in-process runs give them here.
  ["pack --fw-version <not UTF-8>", () => ["pack", f("fw.bin"), "-k", f("root.key"), "-r", f("root.pub"), "--seq", "2", "--vendor", "acme.example", "--class", "sensor-v3", "--fw-version", "1.\ufffd", "-o", f("u8.fwb")], ExitCode.USAGE, /--fw-version: not UTF-8/, ["u8.fwb"]],
  ["pack --vendor=<not UTF-8>", () => ["pack", f("fw.bin"), "-k", f("root.key"), "-r", f("root.pub"), "--seq", "2", "--vendor=acme\ufffd.example", "--class", "sensor-v3", "--fw-version", "1.1", "-o", f("u9.fwb")], ExitCode.USAGE, /--vendor: not UTF-8/, ["u9.fwb"]],
  ["verify <a file name not UTF-8>", () => ["verify", f("fw\ufffd.fwb"), "-r", f("root.pub")], ExitCode.USAGE, /fw\ufffd\.fwb": not UTF-8/],
  ["log monitor <a URL nothing answers>", () => ["log", "monitor", "http://127.0.0.1:2/log", "--log-key", LOG_VKEY, "--watch", "0123456789abcdef"], ExitCode.INPUT, /GET http:\/\/127\.0\.0\.1:2\/log\/checkpoint: ECONNREFUSED/],
  ["witness <a URL nothing answers>", () => ["witness", "http://127.0.0.1:2/log", "--log-key", LOG_VKEY, "--key", f("rel.key"), "--name", "w.example", "--state", f("w3.json")], ExitCode.INPUT, /GET http:\/\/127\.0\.0\.1:2\/log\/checkpoint: ECONNREFUSED/, ["w3.json"]],
  ["an unknown command", () => ["flsah", f("fw.fwb")], ExitCode.USAGE, /unknown command "flsah"/],
  ["help for an unknown command", () => ["help", "flsah"], ExitCode.USAGE, /unknown command "flsah"/]
];

describe("bad inputs: exit code of their class, one line in fwseal's words", () => {
  it.each(CASES)("%s", async (_what, args, code, says, mustNotExist = []) => {
    const r = await fwseal(args());
    expect({ code: r.code, lines: errorLines(r) }).toEqual({ code, lines: [expect.stringMatching(/^fwseal: error: /)] });
    expect(r.code).not.toBe(ExitCode.INTERNAL);
    expect(errorLines(r)[0]).toMatch(says);
    expect(errorLines(r)[0]).not.toMatch(RAW);
    for (const name of mustNotExist) expect(fs.existsSync(f(name)), `${name} created`).toBe(false);
    // The same failure as a JSON document: the error object with the same exit code.
    const j = await fwseal([...args(), "--json"]);
    expect(j.code).toBe(code);
    expect(JSON.parse(j.stdout)).toMatchObject({ schema: "fwseal/1", ok: false, error: { exitCode: code, message: expect.stringMatching(says) } });
    expect(validate(JSON.parse(j.stdout))).toEqual([]);
  });
});
