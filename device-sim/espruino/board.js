// fwseal Espruino board glue (ES5). Stored in the board's Storage as "fws.board" and run by
// the boot code ("fws.boot0" installed as ".boot0") after the device core ("fws.core"),
// both with eval(require("Storage").read(...)) so function bodies stay in flash.
//
// What it does at every start:
//  1. builds the device application (the core's createDeviceApp) over a HAL whose flash
//     pages are Storage files "fws.p<index>" (a missing file reads as erased 0xFF bytes;
//     erase = delete the file; a write creates the page file all-0xFF first and then writes
//     into it, which like NOR flash only clears bits), with native one-shot SHA-256;
//  2. runs the boot check (app.boot(): by default the chunk chain re-hashed over every byte
//     in flash against the signed chain head recorded when the envelope's signatures were
//     verified at install; the signatures again only for an envelope or trust state not
//     recorded, or with fws.cfg "bootCheck": "full") and prints one "FWSEAL boot" line;
//  3. launches the JavaScript application from the verified slot: the Storage file
//     "fws.app" is compared page by page (native SHA-256 of each 4 KiB page) with the slot
//     just verified, rewritten from the slot if it differs, and evaluated from flash.
//     (fws.cfg "launch": false makes the slots hold raw images that are only verified.)
// fwsealUpdate() (typed on the console by the host, prefixed with 0x10 so it is not echoed)
// moves the REPL off the console and runs the binary update protocol (formats/PROTOCOL.md)
// on the raw console device until the line stays idle; REBOOT reboots into update mode.
var fwsealBoard = (function () {
  var S = require("Storage");
  var core = fwsealCore;
  var cfg = S.readJSON("fws.cfg", true);
  var CON = eval(process.env.CONSOLE || "USB"); // the device the board's console is on
  var PREFIX = "fws.p";
  var board = { app: null, launched: false, updating: false, error: null, peak: 0, bootPath: "-", fieldOps: "flash" };

  function peak() {
    var u = process.memory(false).usage;
    if (u > board.peak) board.peak = u;
  }

  if (!cfg) {
    board.error = "not provisioned (no fws.cfg)";
    print("FWSEAL boot error=" + board.error);
    return board;
  }
  var pageSize = cfg.pageSize;

  function pageFile(p) { return PREFIX + p; }

  // ---- flash HAL over Storage page files ----
  function flashRead(addr, dst, off, len) {
    while (len > 0) {
      var p = (addr / pageSize) | 0, po = addr - p * pageSize;
      var n = pageSize - po < len ? pageSize - po : len;
      var ab = S.readArrayBuffer(pageFile(p));
      if (ab === undefined) {
        for (var i = 0; i < n; i++) dst[off + i] = 255;
      } else {
        dst.set(new Uint8Array(ab, po, n), off);
      }
      addr += n; off += n; len -= n;
    }
  }
  function flashErase(pageAddr) {
    S.erase(pageFile((pageAddr / pageSize) | 0));
  }
  function flashWrite(addr, src, off, len) {
    while (len > 0) {
      var p = (addr / pageSize) | 0, po = addr - p * pageSize;
      var n = pageSize - po < len ? pageSize - po : len;
      var name = pageFile(p);
      // Storage.write at offset 0 (re)creates the file as long as the data: a page's first
      // write is at its start (pages are erased, then written in order), so a page file holds
      // what was written (a state record, an envelope, whole chunks: no wasted Storage). A
      // later write past its end (chunks or decoded pieces smaller than a page) first grows it
      // to the whole page, its written bytes kept and the rest erased (0xFF).
      if (po === 0) S.write(name, src.subarray(off, off + n));
      else {
        var cur = S.readArrayBuffer(name);
        if (cur === undefined) S.write(name, "", 0, pageSize);
        else if (cur.byteLength < po + n) {
          var whole = new Uint8Array(pageSize);
          whole.fill(255);
          whole.set(new Uint8Array(cur), 0);
          S.write(name, whole);
          whole = undefined;
        }
        S.write(name, src.subarray(off, off + n), po);
      }
      addr += n; off += n; len -= n;
    }
    peak();
  }

  // ---- the console as a raw byte link (update mode only) ----
  function uartWrite(buf, off, len) {
    CON.write(buf.subarray(off, off + len));
  }

  // Power-off-and-on: the interpreter restarts and runs the boot code again. A reboot asked
  // for by the protocol comes back in update mode (the host continues its session). The host
  // never sends 0x03 (it escapes it), so its retried frames cannot interrupt the boot check
  // like Ctrl-C while the console is back on the line.
  function reset() {
    if (board.updating) S.write("fws.upd", "1");
    CON.setConsole();
    load();
  }

  function nowSeconds() {
    var t = (Date.now() / 1000) | 0;
    return t > 1600000000 ? t : -1; // boards without a set clock start in 1970
  }

  var crypto = require("crypto");
  var pure = core.createPurePrimitives();
  var primitives = {
    sha256: function (buf, off, len, out) {
      out.set(new Uint8Array(crypto.SHA256(buf.subarray(off, off + len))), 0);
    },
    ed25519Verify: pure.ed25519Verify,
    // TypedArray.set copies in C: the core's own loop costs microseconds per received byte
    copyBytes: function (src, srcOff, dst, dstOff, n) {
      dst.set(src.subarray(srcOff, srcOff + n), dstOff);
    },
    // the frame decoder's scans in C: E.CRC32 is zlib's CRC-32, indexOf a native search
    crc32: function (buf, off, len) {
      return E.CRC32(buf.subarray(off, off + len)) >>> 0;
    },
    findZero: function (buf, from, to) {
      var k = buf.subarray(from, to).indexOf(0);
      return k < 0 ? to : from + k;
    }
  };

  // Storage is shared with the core, the glue and the application: before an install writes
  // anything, the target slot must fit in what Storage can still give (free and trash, and the
  // slot's own pages, which are erased first), with room for the envelope and state records.
  // Otherwise the install is refused (TOO_LARGE) instead of failing in the middle of a write.
  function slotCanHold(slot, bytes) {
    var st = S.getStats(), have = st.freeBytes + st.trashBytes;
    var first = app.layout.slotAddr[slot] / pageSize, n = app.layout.slotSize / pageSize;
    for (var p = first; p < first + n; p++) {
      var f = S.readArrayBuffer(pageFile(p));
      if (f !== undefined) have += f.byteLength;
    }
    // Each page file has a 32-byte Storage header; 1 KiB for the state records being rewritten.
    return have >= bytes + (((bytes / pageSize) | 0) + 4) * 32 + 1024;
  }

  var hal = {
    pageSize: pageSize, flashSize: cfg.flashSize,
    flashRead: flashRead, flashErase: flashErase, flashWrite: flashWrite, slotCanHold: slotCanHold,
    uartWrite: uartWrite, nowSeconds: nowSeconds, reset: reset
  };
  // Roots: Ed25519 keys concatenated, or entries joined by "+" with HSS/LMS keys
  // (formats/device-safe/root-keys.ts parseRootList).
  var rootBuf = new Uint8Array(4 * 60);
  var rootList = core.parseRootList(cfg.roots, rootBuf);
  var rootCount = rootList > 0 ? Math.floor(rootList / 256) : 0;
  // The boot check (fws.cfg "bootCheck"): "recorded" (default) verifies signatures once per
  // installed envelope (at install, by the install verifier) and at later starts re-hashes the
  // chunk chain with the native SHA-256 against the signed chain head recorded then (Storage
  // file "fws.brec"; see SPEC §7); "full" verifies the signatures at every start (minutes
  // with the pure-JS Ed25519 on a 64 MHz board). Either way the boot check borrows the
  // install verifier and its buffers instead of holding a second one.
  var recorded = cfg.bootCheck !== "full";
  var installVerifier = null, installCfg = null, bootCheck = null;
  var recordHal = {
    readBootRecord: function (dst) {
      var ab = S.readArrayBuffer("fws.brec");
      if (ab === undefined || ab.byteLength !== dst.length) return false;
      dst.set(new Uint8Array(ab), 0);
      return true;
    },
    writeBootRecord: function (src) { S.write("fws.brec", src); }
  };
  var app = core.createDeviceApp(hal, {
    createBundleVerifier: function (c) {
      installCfg = c;
      installVerifier = core.createBundleVerifier(c);
      return installVerifier;
    },
    createBootVerifier: function (c) {
      if (recorded) bootCheck = core.createRecordedBootCheck(c, installVerifier, installCfg, recordHal);
      else bootCheck = core.createBootVerifier(c, installVerifier);
      return bootCheck;
    },
    primitives: primitives,
    roots: rootBuf.subarray(0, rootCount > 0 ? core.rootKeyOffset(rootList % 256, rootCount) : 0),
    rootCount: rootCount,
    rootHssMask: rootCount > 0 ? rootList % 256 : 0,
    requiredAlgorithms: cfg.requiredAlgorithms || 0,
    bootAlgorithms: cfg.bootAlgorithms || 0,
    rootRetired: cfg.rootRetired || 0,
    vendorId: core.hexToBytes(cfg.vendor),
    classId: core.hexToBytes(cfg["class"]),
    threshold: cfg.threshold || 1,
    rootThreshold: cfg.rootThreshold || 1,
    maxChunkSize: cfg.maxChunk,
    maxData: cfg.maxData,
    window: cfg.window,
    resumeStride: cfg.stride,
    maxWindowBits: cfg.maxWindowBits === undefined ? 12 : cfg.maxWindowBits
  });
  if (!app) {
    board.error = "flash layout does not fit";
    print("FWSEAL boot error=" + board.error);
    return board;
  }
  board.app = app;
  pure = null;

  // ---- the application launcher ----
  function sameHash(a, b) {
    for (var i = 0; i < 32; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  // Makes "fws.app" byte-identical to the verified slot's image (flash to flash, one page at
  // a time, no copy of the image in RAM) and reports whether it already was.
  function syncAppFile(slot) {
    var size = app.store.state.slots[slot].imageSize;
    var base = app.layout.slotAddr[slot] / pageSize;
    var cur = S.readArrayBuffer("fws.app");
    var same = cur !== undefined && cur.byteLength === size;
    for (var o = 0; same && o < size; o += pageSize) {
      var n = size - o < pageSize ? size - o : pageSize;
      var pa = S.readArrayBuffer(pageFile(base + o / pageSize));
      same = pa !== undefined && sameHash(new Uint8Array(crypto.SHA256(new Uint8Array(cur, o, n))),
        new Uint8Array(crypto.SHA256(new Uint8Array(pa, 0, n))));
    }
    if (same) return true;
    S.erase("fws.app");
    for (o = 0; o < size; o += pageSize) {
      n = size - o < pageSize ? size - o : pageSize;
      pa = S.readArrayBuffer(pageFile(base + o / pageSize));
      if (o === 0) S.write("fws.app", new Uint8Array(pa, 0, n), 0, size);
      else S.write("fws.app", new Uint8Array(pa, 0, n), o);
    }
    return false;
  }
  function launch() {
    if (board.launched || app.runningSlot < 0 || cfg.launch === false) return;
    board.launched = true;
    var reused = syncAppFile(app.runningSlot);
    print("FWSEAL launch slot=" + "AB"[app.runningSlot] + " file=" + (reused ? "kept" : "rewritten"));
    peak();
    // A string timeout runs in global scope: the application's vars are globals, as when a
    // board runs its saved code.
    setTimeout('eval(require("Storage").read("fws.app"))', 0);
  }

  // ---- update mode ----
  var idleTimer, idleMs = (cfg.idle || 5) * 1000;
  function endSession() {
    idleTimer = undefined;
    CON.removeAllListeners("data");
    board.updating = false;
    CON.setConsole();
    print("FWSEAL session end peak=" + board.peak);
    launch();
  }
  function kick() {
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    idleTimer = setTimeout(endSession, idleMs);
  }
  var pend = "";
  var MARK = "\nFWSEAL update esc=1\n\x00";
  function onData(d) {
    kick();
    // A host that finds the board still in update mode (a session that has not idled out)
    // types the same line again: answer it, the decoder drops the text as a bad frame.
    if (d.indexOf("fwsealUpdate()") >= 0) CON.write(MARK);
    // The host escapes 0x03 (Ctrl-C on a console), 0x04 (ends the Linux build's stdin) and
    // the escape byte itself: 1B 07, 1B 05, 1B 1C. Undone with native string operations.
    d = pend + d;
    pend = "";
    if (d.charCodeAt(d.length - 1) === 27) { pend = "\x1b"; d = d.substring(0, d.length - 1); }
    if (d.indexOf("\x1b") >= 0) d = d.split("\x1b\x07").join("\x03").split("\x1b\x05").join("\x04").split("\x1b\x1c").join("\x1b");
    var pendingBefore = pendingSlots();
    app.onBytes(E.toUint8Array(d), 0, d.length);
    recordInstall(pendingBefore);
    peak();
    kick();
  }
  // Slots in state PENDING, as bits.
  function pendingSlots() {
    var sl = app.store.state.slots, P = core.SlotState.PENDING;
    return (sl[0].state === P ? 1 : 0) | (sl[1].state === P ? 2 : 0);
  }
  // A slot that became PENDING in this piece of input was just verified completely by the
  // install verifier (signatures, trust, every chunk): record it for the boot check.
  function recordInstall(before) {
    var now = pendingSlots(), s = (now & ~before) & 1 ? 0 : (now & ~before) & 2 ? 1 : -1;
    if (s < 0 || !recorded) return;
    bootCheck.recordInstalled(app.store.state.slots[s].imageSize);
    peak();
  }
  function startUpdate() {
    if (board.updating) return;
    board.updating = true;
    LoopbackA.setConsole();
    CON.on("data", onData);
    CON.write(MARK);
    kick();
  }

  // Ed25519's field arithmetic from RAM when the core runs from flash that is not memory-mapped
  // (E.getAddressOf gives no data address for Storage on SPI flash, nor for the Linux build's
  // file): every function body is then re-read from flash as it runs, and a verification spends
  // most of its time in these two (measured on the Linux build: 6.1 s from flash, 3.0 s with
  // them in RAM, for about 230 variables). The copies are made from the core's own source and
  // checked by the core before it uses them. Done once the device application holds its
  // buffers, and only with room to spare for an install's peak (about 120 variables more).
  if (E.getAddressOf(S.read("fws.core"), true) === 0 && process.memory(false).free > 1000) {
    var ops = core.ed25519FieldOps;
    try {
      if (core.ed25519UseFieldOps(eval("(" + ops.mul + ")"), eval("(" + ops.sqN + ")"))) board.fieldOps = "ram";
    } catch (e) {
      board.fieldOps = "flash"; // a copy that does not run here: the core keeps its own
    }
  }
  var t0 = getTime();
  app.boot();
  var dt = getTime() - t0;
  peak();
  board.bootPath = recorded ? ["-", "recorded", "full"][bootCheck.lastPath] : "full";
  print("FWSEAL boot slot=" + (app.runningSlot < 0 ? "-" : "AB"[app.runningSlot]) + " mode=" + app.runMode +
    " check=" + app.bootReason[0] + "," + app.bootReason[1] + " reverted=" + app.reverted +
    " path=" + board.bootPath +
    " ms=" + Math.round(dt * 1000) + " vars=" + process.memory().usage + " peak=" + board.peak + " field=" + board.fieldOps);
  board.startUpdate = startUpdate;
  if (S.read("fws.upd") !== undefined) {
    S.erase("fws.upd");
    startUpdate();
  } else {
    launch();
  }
  return board;
})();
function fwsealUpdate() { fwsealBoard.startUpdate(); }
