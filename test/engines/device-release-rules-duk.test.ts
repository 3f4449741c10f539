// Release rules decided by the device core, on the ES5 build under real Duktape 2.7: a
// different image at the running image's sequence is refused (ROLLBACK), a key-epoch floor
// above the signer's epoch or more than MAX_EPOCH_STEP above the device's minimum is refused,
// and certificate validity is an install-time rule: a confirmed delegated image keeps
// booting after its certificate expires, while a new install with it is EXPIRED_KEY.
import { describe, it, expect, beforeAll } from "vitest";
import { Reason } from "../../formats/device-safe/reasons.js";
import { Limits } from "../../formats/device-safe/limits.js";
import { buildCertificate } from "../../formats/host-only/certificate.js";
import { LocalSigner } from "../../host/keys/keys.js";
import { makeBundle, VENDOR, CLASS } from "../helpers/device.js";
import { makeKeys } from "../helpers/keys.js";
import { sampleImage } from "../helpers/images.js";
import { buildCoreFiles } from "../helpers/engines.js";
import { runDukDevice } from "../helpers/duk-device.js";

const T = 1800000000;

// Replies print as "<type> <reason>" (R_ERROR) or "<type>" (anything else).
const SCENARIO = `
NOW = ${T};
function line(name, r) { print(name + " " + r[0] + (r[0] === C.Msg.R_ERROR ? " " + r[1] : "")); }
line("install", install(fromHex(S1)));
reboot();
line("confirm", send(C.Msg.CONFIRM, NONE, 0, 0));
line("sibling", install(fromHex(SIBLING)));
line("self-revoking", install(fromHex(SELF_REVOKING)));
line("floor-too-far", install(fromHex(FLOOR_TOO_FAR)));
NOW = ${T} + 365 * 86400;
reboot();
print("boot-after-expiry " + app.runMode + " " + app.bootReason[app.runningSlot] + " " + app.store.state.minSequence);
line("install-after-expiry", install(fromHex(S2)));
line("reinstall", install(fromHex(S1_RESIGNED)));
`;

let lines: string[] = [];

beforeAll(async () => {
  buildCoreFiles();
  const keys = await makeKeys();
  const shortCert = await buildCertificate(keys.rootSigner, { publicKey: keys.release.publicKey, epoch: 1, notBefore: T - 100, notAfter: T + 100 });
  const shortKeys = { ...keys, releaseSigner: new LocalSigner(keys.release.privateKey, shortCert) };
  const rootKeys = { ...keys, releaseSigner: keys.rootSigner };
  const geometry = { chunkSize: 1024 };
  lines = runDukDevice(
    {
      ROOTS: keys.root.publicKey, VENDOR, CLASS,
      S1: await makeBundle(shortKeys, { image: sampleImage(9000, 1), sequence: 1, ...geometry }),
      SIBLING: await makeBundle(shortKeys, { image: sampleImage(9000, 2), sequence: 1, ...geometry }),
      S1_RESIGNED: await makeBundle(rootKeys, { image: sampleImage(9000, 1), sequence: 1, ...geometry }),
      SELF_REVOKING: await makeBundle(shortKeys, { image: sampleImage(9000, 3), sequence: 2, keyEpochFloor: 2, ...geometry }),
      FLOOR_TOO_FAR: await makeBundle(rootKeys, { image: sampleImage(9000, 3), sequence: 2, keyEpochFloor: Limits.MAX_EPOCH_STEP + 1, ...geometry }),
      S2: await makeBundle(shortKeys, { image: sampleImage(9000, 4), sequence: 2, ...geometry })
    },
    SCENARIO
  );
});

const R_OK = 130;
const R_ERROR = 133;

describe("device release rules on Duktape (ES5 core build)", () => {
  it("installs and confirms a delegated release inside its certificate's window", () => {
    expect(lines.slice(0, 2)).toEqual([`install ${R_OK}`, `confirm ${R_OK}`]);
  });

  it("refuses a different image at the running sequence (ROLLBACK); re-installs the same release re-signed", () => {
    expect(lines[2]).toBe(`sibling ${R_ERROR} ${Reason.ROLLBACK}`);
    expect(lines[7]).toBe(`reinstall ${R_OK}`);
  });

  it("refuses a key-epoch floor above the signer's epoch or beyond MAX_EPOCH_STEP", () => {
    expect(lines[3]).toBe(`self-revoking ${R_ERROR} ${Reason.KEY_NOT_AUTHORIZED}`);
    expect(lines[4]).toBe(`floor-too-far ${R_ERROR} ${Reason.TOO_LARGE}`);
  });

  it("keeps booting the confirmed image after its certificate expired; a new install with it is EXPIRED_KEY", () => {
    expect(lines[5]).toBe("boot-after-expiry 1 0 1"); // NORMAL, boot check OK, minimum sequence 1
    expect(lines[6]).toBe(`install-after-expiry ${R_ERROR} ${Reason.EXPIRED_KEY}`);
  });
});
