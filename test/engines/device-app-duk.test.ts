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
import { ES5_HEX_CODEC, buildCoreFiles, hex, readCoreFile, runDuk } from "../helpers/engines.js";

const DRIVER = ES5_HEX_CODEC + `
var C = fwsealCore;
var PAGE = 1024, SIZE = 96 * 1024;
var FLASH = new Uint8Array(SIZE);
for (var i = 0; i < SIZE; i++) FLASH[i] = 255;
var replies = [];
var dec = C.createFrameDecoder(1024);
var misuse = 0;
var hal = {
  pageSize: PAGE, flashSize: SIZE,
  flashRead: function (a, d, o, l) { for (var i = 0; i < l; i++) d[o + i] = FLASH[a + i]; },
  flashErase: function (p) { for (var i = 0; i < PAGE; i++) FLASH[p + i] = 255; },
  flashWrite: function (a, s, o, l) { for (var i = 0; i < l; i++) { if (FLASH[a + i] !== 255) misuse++; FLASH[a + i] = s[o + i]; } },
  uartWrite: function (b, o, l) {
    var p = o, e = o + l;
    while (p < e) { var n = dec.push(b, p, e - p); p += dec.consumed; if (n >= 0) replies.push([dec.frame[0], dec.frame[2], dec.frame[3] | (dec.frame[4] << 8) | (dec.frame[5] << 16) | (dec.frame[6] << 24)]); }
  },
  nowSeconds: function () { return -1; },
  reset: function () {}
};
var app = C.createDeviceApp(hal, { primitives: C.createPurePrimitives(), roots: fromHex(ROOT + ROOT1), rootCount: 2, rootRetired: 0,
  vendorId: fromHex(VENDOR), classId: fromHex(CLASS), threshold: 1, maxChunkSize: 4096, maxData: 512, window: 4, resumeStride: 2048 });
app.boot();
var enc = C.createFrameEncoder(600);
var tag = 0;
function send(type, bytes, off, len) {
  replies = [];
  tag = (tag + 1) & 255;
  enc.body[0] = type; enc.body[1] = tag;
  for (var i = 0; i < len; i++) enc.body[2 + i] = bytes[off + i];
  var n = enc.encode(2 + len);
  app.onBytes(enc.wire, 0, n);
  if (app.halted) app.boot();
  return replies.length ? replies[0] : [0, 0, 0];
}
var NONE = new Uint8Array(8);
function install(b) {
  var r = send(C.Msg.BEGIN, NONE, 0, 5);
  if (r[0] !== C.Msg.R_OK) return r;
  var off = 0, frame = new Uint8Array(516);
  while (off < b.length) {
    var n = b.length - off; if (n > 512) n = 512;
    frame[0] = off & 255; frame[1] = (off >>> 8) & 255; frame[2] = (off >>> 16) & 255; frame[3] = (off >>> 24) & 255;
    for (var i = 0; i < n; i++) frame[4 + i] = b[off + i];
    r = send(C.Msg.DATA, frame, 0, 4 + n);
    if (r[0] !== C.Msg.R_ACK) return r;
    off += n;
  }
  return send(C.Msg.END, NONE, 0, 0);
}
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
  const inputs = `var ROOT = "${hex(keys.root.publicKey)}", ROOT1 = "${hex(root1.publicKey)}", S_RETIRE0 = "${hex(s0)}", S_RETIRE1 = "${hex(s1)}", VENDOR = "${hex(VENDOR)}", CLASS = "${hex(CLASS)}", B1 = "${hex(b1)}", B2BAD = "${hex(bad)}";\n`;
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
