// A device application (ES5 core build) driven inside Duktape: a NOR-flash HAL in plain ES5
// (`misuse` counts writes to bytes that were not erased) with a settable trusted clock
// (NOW, -1 = none), and install / send / reboot helpers that speak the same frames as the
// serial line. The script defining ROOTS (hex of the root keys in slot order), VENDOR and
// CLASS runs first; scenarios are appended to DUK_DEVICE and print one line per step.
import { hex, readCoreFile, runDuk, ES5_HEX_CODEC } from "./engines.js";

/** The driver: defines app, send(type, bytes, off, len) -> [type, reason, chunk], install(bytes), reboot(), misuse, NOW. */
export const DUK_DEVICE = ES5_HEX_CODEC + `
var C = fwsealCore;
var PAGE = 1024, SIZE = 96 * 1024;
var FLASH = new Uint8Array(SIZE);
for (var i = 0; i < SIZE; i++) FLASH[i] = 255;
var NOW = -1;
var misuse = 0;
var replies = [];
var dec = C.createFrameDecoder(1024);
var hal = {
  pageSize: PAGE, flashSize: SIZE,
  flashRead: function (a, d, o, l) { for (var i = 0; i < l; i++) d[o + i] = FLASH[a + i]; },
  flashErase: function (p) { for (var i = 0; i < PAGE; i++) FLASH[p + i] = 255; },
  flashWrite: function (a, s, o, l) { for (var i = 0; i < l; i++) { if (FLASH[a + i] !== 255) misuse++; FLASH[a + i] = s[o + i]; } },
  uartWrite: function (b, o, l) {
    var p = o, e = o + l;
    while (p < e) { var n = dec.push(b, p, e - p); p += dec.consumed; if (n >= 0) replies.push([dec.frame[0], dec.frame[2], dec.frame[3] | (dec.frame[4] << 8) | (dec.frame[5] << 16) | (dec.frame[6] << 24)]); }
  },
  nowSeconds: function () { return NOW; },
  reset: function () {}
};
var app = C.createDeviceApp(hal, { primitives: C.createPurePrimitives(), roots: fromHex(ROOTS), rootCount: ROOTS.length / 64, rootRetired: 0,
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
function reboot() { send(C.Msg.REBOOT, NONE, 0, 0); }
`;

/** Runs `scenario` after the core and DUK_DEVICE; `inputs` become ES5 string globals (hex of byte arrays).
 *  ROOTS, VENDOR and CLASS are required. Returns the printed lines. */
export function runDukDevice(inputs: Record<string, Uint8Array>, scenario: string): string[] {
  const vars = Object.entries(inputs).map(([k, v]) => `var ${k} = "${hex(v)}";`).join("\n");
  return runDuk([readCoreFile(), vars + "\n" + DUK_DEVICE + scenario]);
}
