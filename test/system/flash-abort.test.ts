// flashDevice with an AbortSignal, against the simulated device on a socat pty pair: an abort
// mid-transfer rejects with FwsealError ABORTED and closes the port; the device keeps what it
// verified, so the next flash with resume continues from there and installs.
import { describe, it, expect, afterAll } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { SerialPort } from "serialport";
import { createPtyPair, attachDevice } from "../../device-sim/sim/serial-runner.js";
import { flashDevice } from "../../host/index.js";
import { FwsealError } from "../../host/errors.js";
import { makeKeys } from "../helpers/keys.js";
import { makeBundle, simDevice } from "../helpers/device.js";
import { sampleImage } from "../helpers/images.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe("flashDevice and AbortSignal", () => {
  it("aborts mid-transfer with ABORTED; a resumed flash then installs from the device's resume point", async () => {
    const keys = await makeKeys();
    const bundle = await makeBundle(keys, { image: sampleImage(256 * 1024, 11), sequence: 2 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fwseal-flash-abort-"));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const pair = await createPtyPair(dir, "host", "device");
    cleanups.push(() => pair.close());
    const dev = simDevice(keys);
    const sp: SerialPort = await attachDevice(dev, pair.devicePath, 4_000_000);
    cleanups.push(() => new Promise<void>((r) => (sp.isOpen ? sp.close(() => r()) : r())));

    const ac = new AbortController();
    let abortedAt = -1;
    const e = await flashDevice({
      port: pair.hostPath, baud: 4_000_000, bundle, timeoutMs: 1000, signal: ac.signal,
      onProgress: (p) => {
        if (abortedAt < 0 && p.acked > 64 * 1024) {
          abortedAt = p.acked;
          ac.abort(new Error("operator cancelled"));
        }
      }
    }).then(() => null, (x: unknown) => x);
    expect(e).toBeInstanceOf(FwsealError);
    expect((e as FwsealError).code).toBe("ABORTED");
    expect((e as FwsealError).message).toBe("flash aborted: operator cancelled");
    expect(abortedAt).toBeGreaterThan(64 * 1024);

    const r = await flashDevice({ port: pair.hostPath, baud: 4_000_000, bundle, timeoutMs: 1000, resume: true });
    expect(r.outcome).toBe("installed");
    expect(r.resumedFrom ?? 0).toBeGreaterThan(0);
    expect(r.resumedFrom ?? 0).toBeLessThan(bundle.length);
  });
});
