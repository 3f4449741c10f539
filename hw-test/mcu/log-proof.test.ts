// A device that requires logged bundles on the emulated MCU (QEMU mps2-an385, the core in
// Duktape, native SHA-256): provisioned with a log key and two witness keys (quorum 2), it
// installs a release whose log proof travels in the envelope, over the serial link, and
// rejects the same bundle without its proof (NOT_LOGGED). Also the device cost of the check.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { buildBundle } from "../../formats/host-only/bundle-builder.js";
import { vendorUuid, classUuid } from "../../formats/host-only/uuid.js";
import { randomSigner } from "../../test/helpers/keys.js";
import { logRelease, type LoggedRelease } from "../../test/helpers/log-fixtures.js";
import { flashDevice } from "../../host/device/flash.js";
import { FwsealError } from "../../host/errors.js";
import { Reason } from "../../formats/device-safe/reasons.js";
// @ts-expect-error plain ESM helper without type declarations
import { startMcu, defaultElf } from "./qemu.mjs";
// @ts-expect-error plain ESM helper without type declarations
import { pattern } from "./console-client.mjs";

interface Mcu {
  port: string;
  log(): string;
  stop(): Promise<void>;
}

describe("fwseal MCU firmware on QEMU: a log-required policy", () => {
  let dir: string;
  let mcu: Mcu;
  let rel: LoggedRelease;
  const vendorId = vendorUuid("acme.example");
  const classId = classUuid(vendorId, "sensor-v3");
  const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

  beforeAll(async () => {
    if (!fs.existsSync(defaultElf as string)) throw new Error(`${defaultElf} missing: run npm run build:mcu`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-mcu-log-"));
    const { keyPair: root, signer } = randomSigner();
    const bundle = await buildBundle(
      pattern(8192, 7) as Uint8Array,
      { vendorId, classId, sequence: 1, version: "logged-1", chunkSize: 1024, sha256: (d) => new Uint8Array(createHash("sha256").update(d).digest()) },
      [signer]
    );
    rel = await logRelease(bundle, { before: 20, after: 11 });
    const p = rel.policy;
    mcu = (await startMcu({
      dir,
      args: [`roots=${hex(root.publicKey)}`, `vendor=${hex(vendorId)}`, `class=${hex(classId)}`, `logkeys=${hex(p.logKeys)}`, `witnesskeys=${hex(p.witnessKeys)}`, "quorum=2"]
    })) as Mcu;
  });

  afterAll(async () => {
    if (mcu) await mcu.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("rejects the bundle without its proof (NOT_LOGGED), installs it with its proof", async () => {
    const bare = await flashDevice({ port: mcu.port, bundle: rel.bare }).then(
      () => null,
      (e: unknown) => e
    );
    expect(bare).toBeInstanceOf(FwsealError);
    expect((bare as FwsealError).reason).toBe(Reason.NOT_LOGGED);
    expect(rel.pathHashes).toBe(5); // 32 leaves
    const t0 = Date.now();
    const ok = await flashDevice({ port: mcu.port, bundle: rel.logged, reboot: true, confirm: true });
    expect(ok.outcome).toBe("installed");
    expect(ok.device.runMode).toBe("normal");
    console.log(`[mcu] logged install (1 log signature + 2 cosignatures + 5-hash path + bundle signature): ${Date.now() - t0} ms wall`);
  });
});
