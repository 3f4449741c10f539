// The device application (ES5 build of the core) under the real Duktape 2.7 `duk`, with a
// HAL written in plain ES5 (NOR-flash rules enforced): the same frames as on the serial line
// install a bundle, the boot loader verifies it, confirm advances anti-rollback, and a
// tampered bundle is rejected at its chunk, and a root-retirement statement (RETIRE_ROOT)
// is checked, refused or applied and persisted. This is what the MCU firmware runs.
import { describe, it, expect, beforeAll } from "vitest";
import { Reason } from "../../formats/device-safe/reasons.js";
import { createRootRetirement } from "../../host/keys/root-retirement.js";
import { makeBundle, VENDOR, CLASS } from "../helpers/device.js";
import { makeKeys, randomSigner } from "../helpers/keys.js";
import { sampleImage } from "../helpers/images.js";
import { buildCoreFiles, hex, readCoreFile, runDuk } from "../helpers/engines.js";
import { DUK_DEVICE } from "../helpers/duk-device.js";

const DRIVER = DUK_DEVICE + `
print("boot " + app.runningSlot + " " + app.runMode);
print("info " + send(C.Msg.INFO, [1], 0, 1)[0]);
print("install " + install(fromHex(B1))[0]);
send(C.Msg.REBOOT, NONE, 0, 0);
print("testboot " + app.runningSlot + " " + app.runMode + " " + app.bootReason[app.runningSlot]);
print("confirm " + send(C.Msg.CONFIRM, NONE, 0, 0)[0] + " " + app.store.state.minSequence);
var bad = install(fromHex(B2BAD));
print("tampered " + bad[0] + " " + bad[1] + " " + bad[2]);
send(C.Msg.REBOOT, NONE, 0, 0);
print("after " + app.runningSlot + " " + app.runMode + " " + app.bootReason[app.runningSlot]);
print("misuse " + misuse);
function retire(h) {
  var st = fromHex(h), f = new Uint8Array(4 + st.length);
  f[0] = st.length & 255; f[1] = st.length >> 8; f[2] = 0; f[3] = 0;
  for (var i = 0; i < st.length; i++) f[4 + i] = st[i];
  var r = send(C.Msg.RETIRE_ROOT, f, 0, f.length);
  return r[0] + " " + r[1];
}
print("retire-own-root " + retire(S_RETIRE0));
print("retire-other " + retire(S_RETIRE1).split(" ")[0] + " " + app.store.state.rootRetired + " " + app.store.state.rootCounter);
print("replay " + retire(S_RETIRE1));
send(C.Msg.REBOOT, NONE, 0, 0);
print("persisted " + app.store.state.rootRetired + " " + app.store.state.rootCounter + " " + app.runMode + " " + app.bootReason[app.runningSlot]);
`;

let lines: string[] = [];

beforeAll(async () => {
  buildCoreFiles();
  const keys = await makeKeys();
  const b1 = await makeBundle(keys, { image: sampleImage(9000, 1), sequence: 4, chunkSize: 1024 });
  const b2 = await makeBundle(keys, { image: sampleImage(9000, 2), sequence: 5, chunkSize: 1024 });
  const env = b2.length - 9000 - 32 * 9;
  const bad = b2.slice();
  bad[env + 6 * 1056 + 10] ^= 1;
  // Slot 1 retiring slot 0 (which the running image needs), and slot 0 retiring slot 1.
  const { keyPair: root1, signer: root1Signer } = randomSigner();
  const s0 = await createRootRetirement(root1Signer, { slot: 0, counter: 10, vendorId: VENDOR, retiredKey: keys.root.publicKey });
  const s1 = await createRootRetirement(keys.rootSigner, { slot: 1, counter: 11, vendorId: VENDOR, retiredKey: root1.publicKey });
  const inputs = `var ROOTS = "${hex(keys.root.publicKey)}${hex(root1.publicKey)}", S_RETIRE0 = "${hex(s0)}", S_RETIRE1 = "${hex(s1)}", VENDOR = "${hex(VENDOR)}", CLASS = "${hex(CLASS)}", B1 = "${hex(b1)}", B2BAD = "${hex(bad)}";\n`;
  lines = runDuk([readCoreFile(), inputs + DRIVER]);
});

describe("device app on Duktape (ES5 core build)", () => {
  it("boots to recovery, answers INFO, installs, test-boots a verified image, confirms", () => {
    expect(lines[0]).toBe("boot -1 0");
    expect(lines[1]).toBe("info 129"); // R_INFO
    expect(lines[2]).toBe("install 130"); // END -> R_OK
    expect(lines[3]).toBe("testboot 0 2 0"); // slot A, TEST mode, boot check OK
    expect(lines[4]).toBe("confirm 130 4");
  });

  it("rejects a tampered bundle at its chunk and keeps running the confirmed image", () => {
    expect(lines[5]).toBe(`tampered 133 ${Reason.CHUNK_HASH_MISMATCH} 6`);
    expect(lines[6]).toBe("after 0 1 0");
    expect(lines[7]).toBe("misuse 0"); // never programmed a byte that was not erased
  });

  it("RETIRE_ROOT: refuses to retire the root the running image needs, applies and persists another, refuses the replay", () => {
    expect(lines[8]).toBe(`retire-own-root 133 ${Reason.BAD_STATE}`); // R_ERROR
    expect(lines[9]).toBe("retire-other 130 2 11"); // R_OK, slot 1 retired, counter 11
    expect(lines[10]).toBe(`replay 133 ${Reason.STALE_STATEMENT}`);
    expect(lines[11]).toBe("persisted 2 11 1 0"); // after a reset: still retired, image verified
  });
});
