// A hybrid-signed release on the Espruino target (the real interpreter named by ESPRUINO_BIN,
// behind a pty): a board provisioned with an Ed25519 and an HSS/LMS root, the hybrid policy
// (both algorithms required at install, formats/SPEC.md §8.1) and a boot check of the HSS/LMS
// signature only (§8.5: SHA-256 calls, which Espruino runs natively). The hybrid bundle
// installs, boots and is confirmed; one without the HSS/LMS signature is refused with
// ALGORITHM_POLICY_NOT_MET over the console link. Without ESPRUINO_BIN the suite is skipped,
// with the reason in its name.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { espruinoBinary, startBoard, type EspruinoBoard } from "../helpers/espruino-board.js";
import { randomSigner } from "../helpers/keys.js";
import { VENDOR, CLASS } from "../helpers/device.js";
import { tempDir } from "../helpers/cli.js";
import { flashDevice } from "../../host/device/flash.js";
import { provisionEspruino, espruinoConfig } from "../../host/device/espruino-provision.js";
import { buildBundle } from "../../formats/host-only/bundle-builder.js";
import type { EnvelopeSigner } from "../../formats/host-only/cose.js";
import { HssLmsFileSigner, keygenHssLms } from "../../host/keys/hss-lms.js";
import { AlgorithmBit } from "../../formats/device-safe/limits.js";
import { FwsealError } from "../../host/errors.js";
import { Reason } from "../../formats/device-safe/reasons.js";

const { bin, why } = espruinoBinary();
const suite = bin ? describe : describe.skip;

suite(`Espruino board, hybrid Ed25519 + HSS/LMS roots (${bin ? "ESPRUINO_BIN" : why})`, () => {
  let board: EspruinoBoard;
  let dir: string;
  const ed = randomSigner();
  let pq: HssLmsFileSigner;

  const bundle = (seq: number, signers: EnvelopeSigner[]): Promise<Uint8Array> =>
    buildBundle(new Uint8Array(Buffer.from(`var appVersion=${seq};`)), { vendorId: VENDOR, classId: CLASS, sequence: seq, version: `h${seq}`, chunkSize: 1024 }, signers);

  beforeAll(async () => {
    dir = tempDir("fwseal-espruino-hybrid-");
    const k = await keygenHssLms({ out: path.join(dir, "root-hss"), heights: [5], w: 4 });
    pq = await HssLmsFileSigner.open(k.keyPath);
    board = await startBoard(bin as string, path.join(dir, "board"));
    const config = espruinoConfig([ed.keyPair.publicKey, k.publicKey], VENDOR, CLASS, {
      idle: 2,
      requiredAlgorithms: AlgorithmBit.ED25519 | AlgorithmBit.HSS_LMS,
      bootAlgorithms: AlgorithmBit.HSS_LMS
    });
    expect(config.roots).toContain("+");
    const r = await provisionEspruino({ port: board.port, config });
    process.stdout.write(`espruino hybrid: provisioned ${r.bytes} bytes in ${r.ms} ms; ${r.bootLine}\n`);
  }, 300_000);
  afterAll(async () => {
    await board?.powerCut();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("installs the hybrid bundle, boots it through the HSS/LMS boot check and confirms it", async () => {
    let phase = "";
    const res = await flashDevice({
      port: board.port, espruino: true, bundle: await bundle(1, [ed.signer, pq]), reboot: true, confirm: true, slowTimeoutMs: 500000,
      onProgress: (p) => {
        if (p.phase !== phase) process.stdout.write(`espruino hybrid: ${(phase = p.phase)} at ${new Date().toISOString()}\n`);
      }
    });
    expect(res.outcome).toBe("installed");
    expect(res.boot?.bootCheck[res.boot.runningSlot]).toBe(Reason.OK);
    expect(res.confirmed?.sequence).toBe(1);
  }, 900_000);

  it("refuses a bundle without the HSS/LMS signature with ALGORITHM_POLICY_NOT_MET", async () => {
    const e = await flashDevice({ port: board.port, espruino: true, bundle: await bundle(2, [ed.signer]), slowTimeoutMs: 500000 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(FwsealError);
    expect((e as FwsealError).reason).toBe(Reason.ALGORITHM_POLICY_NOT_MET);
  }, 900_000);
});
