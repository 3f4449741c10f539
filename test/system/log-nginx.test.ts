// The transparency log end to end on the host, published by a real nginx on a loopback port:
// fwseal log init/append/publish, two witnesses cosigning over HTTP, attach and inspect, the
// monitor reporting an unexpected release, and a witness refusing a forked log.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fwseal, fwsealOk, startDeviceSimProcess, tempDir } from "../helpers/cli.js";
import { NGINX_BIN, startNginx, type NginxServer } from "../helpers/nginx.js";
import { writeImage } from "../helpers/images.js";
import { readLogProof } from "../../formats/host-only/log-proof.js";
import { readBundleParts } from "../../host/log/release.js";
import { schemaValidator } from "../../dev/json-schema-check.js";

const VENDOR = "6d1f0c2a-3b4e-4f50-8a61-72839405a6b7";
const CLASS = "0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3";

describe.skipIf(!NGINX_BIN)("transparency log over nginx", () => {
  let dir: string;
  let web: string; // the folder nginx serves: <web>/log -> the log's public files
  let server: NginxServer;
  const cwd = process.cwd();

  beforeAll(async () => {
    dir = tempDir("log-cli");
    web = tempDir("log-web");
    process.chdir(dir);
    server = await startNginx(web);
  });
  afterAll(() => {
    server?.stop();
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
    rmSync(web, { recursive: true, force: true });
  });

  const validate = schemaValidator();
  /** A --json document of the run, checked against schema fwseal/1. */
  const doc = (stdout: string) => {
    const d = JSON.parse(stdout);
    expect(validate(d), stdout).toEqual([]);
    return d;
  };

  /** Publishes the log's public folder to the web root (a static upload, as to any CDN). */
  const upload = (log: string, name: string) => cpSync(path.join(log, "public"), path.join(web, name), { recursive: true });

  it("logs a release, two witnesses cosign over HTTP, the proof is attached and inspect shows it", async () => {
    for (const k of ["root", "other", "logkey", "w1", "w2"]) await fwsealOk(["keygen", "--out", k]);
    writeImage(dir, "fw.bin", 5000);
    const pack = (out: string, key: string, seq: string) =>
      fwsealOk(["pack", "fw.bin", "--key", key, "--seq", seq, "--vendor", VENDOR, "--class", CLASS, "--fw-version", `1.${seq}`, "--chunk-size", "1024", "--root", "root.pub", "-o", out]);
    await pack("rel1.fwb", "root.key", "1");
    await pack("rel2.fwb", "root.key", "2");
    const init = doc((await fwsealOk(["log", "init", "log", "--key", "logkey.key", "--name", "log.example/fw", "--json"])).stdout);
    expect(init).toMatchObject({ schema: "fwseal/1", command: "log init", ok: true });
    expect(init.vkey).toMatch(/^log\.example\/fw\+[0-9a-f]{8}\+/);
    const app = doc((await fwsealOk(["log", "append", "log", "rel1.fwb", "rel2.fwb", "--time", "1700000000", "--json"])).stdout);
    expect(app.entries.map((e: { index: number }) => e.index)).toEqual([0, 1]);
    await fwsealOk(["log", "publish", "log", "--key", "logkey.key"]);
    upload("log", "log");
    const url = server.url + "log";
    const res = await fetch(url + "/checkpoint");
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);

    // Two witnesses fetch checkpoint and tiles over HTTP and cosign.
    for (const w of ["w1", "w2"]) {
      const r = doc((await fwsealOk(["witness", url, "--log-key", "log/public/vkey", "--key", `${w}.key`, "--name", `witness.example/${w}`, "--state", `${w}.json`, "-o", `${w}.note`, "--time", "1700000100", "--json"])).stdout);
      expect(r).toMatchObject({ command: "witness", ok: true, size: 2, previousSize: null });
      writeFileSync(`${w}.vkey`, r.witnessVkey + "\n");
    }
    const pub = doc((await fwsealOk(["log", "publish", "log", "--cosigned", "w1.note", "w2.note", "--json"])).stdout);
    expect(pub.signatures).toEqual(["log.example/fw", "witness.example/w1", "witness.example/w2"]);
    upload("log", "log");

    const att = doc((await fwsealOk(["log", "attach", url, "rel1.fwb", "--log-key", init.vkey, "-o", "rel1.logged.fwb", "--json"])).stdout);
    expect(att).toMatchObject({ index: 0, size: 2, pathHashes: 1, checkpointSignatures: 3 });
    // The signed bytes and chunks are unchanged: the bundle still verifies, and only the unprotected header grew.
    await fwsealOk(["verify", "rel1.logged.fwb", "--root", "root.pub"]);
    const before = readBundleParts("rel1.fwb");
    const after = readBundleParts("rel1.logged.fwb");
    expect(Buffer.from(after.rest).equals(Buffer.from(before.rest))).toBe(true);
    expect(readLogProof(after.envelope)!.leafIndex).toBe(0);
    const ins = doc((await fwsealOk(["inspect", "rel1.logged.fwb", "--json"])).stdout);
    expect(ins.logProof).toMatchObject({ leafIndex: 0, pathHashes: 1, checkpoint: { origin: "log.example/fw", size: 2 } });
    expect(ins.logProof.signatures.map((s: { name: string; bytes: number }) => [s.name, s.bytes])).toEqual([["log.example/fw", 64], ["witness.example/w1", 72], ["witness.example/w2", 72]]);
    const text = (await fwsealOk(["inspect", "rel1.logged.fwb"])).stdout;
    expect(text).toMatch(/log proof: entry 0, 1-hash inclusion path/);
    const plain = doc((await fwsealOk(["inspect", "rel1.fwb", "--json"])).stdout);
    expect(plain.logProof).toBeNull();

    // Proofs over HTTP.
    const pr = doc((await fwsealOk(["log", "proof", url, "--log-key", init.vkey, "--bundle", "rel2.fwb", "--from", "1", "--json"])).stdout);
    expect(pr).toMatchObject({ command: "log proof", size: 2, index: 1, from: 1 });
    expect(pr.inclusion).toHaveLength(1);
    expect(pr.consistency).toHaveLength(1);
  });

  it("fwseal verify with the same log policy as a device: the logged bundle passes, the bare one is NOT_LOGGED", async () => {
    const policy = ["--root", "root.pub", "--log-key", "log/public/vkey", "--witness-key", "w1.vkey", "--witness-key", "w2.vkey", "--witness-quorum", "2"];
    await fwsealOk(["verify", "rel1.logged.fwb", ...policy]);
    const bare = await fwseal(["verify", "rel1.fwb", ...policy]);
    expect(bare.code).toBe(11);
    expect(bare.stderr).toMatch(/NOT_LOGGED/);
    const three = await fwseal(["verify", "rel1.logged.fwb", ...policy.slice(0, -1), "3"]);
    expect(three.code).toBe(11);
    expect(three.stderr).toMatch(/WITNESS_QUORUM_NOT_MET/);
  });

  it("a device-sim requiring logged bundles (log key, 2 witnesses) installs the logged release over the serial link and rejects it without its proof", async () => {
    const sim = await startDeviceSimProcess(dir, ["--state", "dev", "--root", "root.pub", "--vendor", VENDOR, "--class", CLASS,
      "--log-key", "log/public/vkey", "--witness-key", "w1.vkey", "--witness-key", "w2.vkey", "--witness-quorum", "2"]);
    const port = sim.port;
    try {
      const bare = await fwseal(["flash", "rel1.fwb", "--port", port]);
      expect(bare.code).toBe(11);
      expect(bare.stderr).toMatch(/NOT_LOGGED/);
      const ok = await fwseal(["flash", "rel1.logged.fwb", "--port", port, "--reboot", "--confirm"]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/^installed 1\.1 \(sequence 1\)/m);
      expect(ok.stdout).toMatch(/confirmed/);
    } finally {
      await sim.stop();
    }
  });

  it("the monitor reports a release signed by a watched key that the owner did not expect", async () => {
    const kid = doc((await fwsealOk(["pubkey", "root.key", "--json"])).stdout).keyId as string;
    const url = server.url + "log";
    const first = await fwseal(["log", "monitor", url, "--log-key", "log/public/vkey", "--watch", kid, "--expect", "rel1.fwb", "--expect", "rel2.fwb", "--state", "mon.json", "--json"]);
    expect(first.code).toBe(0);
    expect(doc(first.stdout)).toMatchObject({ ok: true, size: 2, watched: [{ index: 0 }, { index: 1 }], unexpected: [] });
    // A stolen root key signs a release nobody expected; the log records it.
    await fwsealOk(["pack", "fw.bin", "--key", "root.key", "--seq", "9", "--vendor", VENDOR, "--class", CLASS, "--fw-version", "evil", "--chunk-size", "1024", "--root", "root.pub", "-o", "evil.fwb"]);
    await fwsealOk(["log", "append", "log", "evil.fwb"]);
    await fwsealOk(["log", "publish", "log", "--key", "logkey.key"]);
    upload("log", "log");
    const second = await fwseal(["log", "monitor", url, "--log-key", "log/public/vkey", "--watch", kid, "--expect", "rel1.fwb", "--expect", "rel2.fwb", "--state", "mon.json", "--json"]);
    expect(second.code).toBe(11);
    const r = doc(second.stdout);
    expect(r).toMatchObject({ command: "log monitor", ok: false, previousSize: 2, size: 3, entriesChecked: 1, error: { code: "LOG_REJECTED", exitCode: 11 } });
    expect(r.unexpected).toMatchObject([{ index: 2, version: "evil", sequence: 9, signers: [kid] }]);
  });

  it("a witness detects a forked log (same key, another history) and refuses to cosign", async () => {
    await fwsealOk(["log", "init", "fork", "--key", "logkey.key", "--name", "log.example/fw"]);
    await fwsealOk(["log", "append", "fork", "rel2.fwb", "rel1.fwb", "evil.fwb", "rel1.fwb"]);
    await fwsealOk(["log", "publish", "fork", "--key", "logkey.key"]);
    upload("fork", "fork");
    const r = await fwseal(["witness", server.url + "fork", "--log-key", "log/public/vkey", "--key", "w1.key", "--name", "witness.example/w1", "--state", "w1.json"]);
    expect(r.code).toBe(11);
    expect(r.stderr).toMatch(/witness refuses: log fork: checkpoint of size 4 is not consistent with the cosigned checkpoint of size 2/);
    // The honest log's next checkpoint is still accepted.
    const ok = doc((await fwsealOk(["witness", server.url + "log", "--log-key", "log/public/vkey", "--key", "w1.key", "--name", "witness.example/w1", "--state", "w1.json", "--json"])).stdout);
    expect(ok).toMatchObject({ size: 3, previousSize: 2 });
  });
});
