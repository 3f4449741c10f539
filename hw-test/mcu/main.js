// fwseal MCU glue (ES5, runs in the firmware's Duktape after build/fwseal-core.js).
// Natives come from the C firmware as the global `mcu` (see main.c). The firmware calls
// onBytes(buf, len) with the bytes the UART received and onIdle() when input runs dry.
//
// Modes, chosen by the semihosting command line word mode=<name>:
//   app      (default) the device application over the serial protocol, when the core
//            provides one; otherwise the console.
//   console  line commands for the platform tests and the benchmark (see runCommand).
var onBytes = null;
var onIdle = null;
var fwsealMcu = { app: null };
(function () {
  var core = typeof fwsealCore === "undefined" ? null : fwsealCore;

  function argValue(key) {
    var words = mcu.args.split(" ");
    for (var i = 0; i < words.length; i++) {
      var w = words[i];
      if (w.substring(0, key.length + 1) === key + "=") return w.substring(key.length + 1);
    }
    return null;
  }

  var toHex = core.bytesToHex;
  var fromHex = core.hexToBytes;

  // Checked native flash, in the shape of the core's FlashHal. A failure is a bug in the
  // caller (range, alignment, writing unerased bytes): it throws so the firmware logs it.
  function check(rc, what) {
    if (rc !== 0) throw new Error("flash " + what + " failed: " + rc);
  }
  var hal = {
    flashRead: function (addr, dst, off, len) { check(mcu.flashRead(addr, dst, off, len), "read"); },
    flashErase: function (pageAddr) { check(mcu.flashErase(pageAddr, mcu.pageSize), "erase"); },
    flashWrite: function (addr, src, off, len) { check(mcu.flashWrite(addr, src, off, len), "write"); },
    pageSize: mcu.pageSize,
    flashSize: mcu.flashSize,
    uartWrite: function (buf, off, len) { mcu.uartWrite(buf, off, len); },
    nowSeconds: function () { return mcu.nowSeconds(); },
    reset: function () { mcu.reset(); }
  };

  // ---- console: one command per line, one reply line each ----
  var line = "";
  var hssV = null; // the console's HSS/LMS verifier, made at first use
  function reply(s) { mcu.uartWrite(s + "\n"); }

  function pattern(len, seed) {
    var b = new Uint8Array(len);
    var x = seed >>> 0;
    for (var i = 0; i < len; i++) {
      x = (x * 1103515245 + 12345) % 4294967296; // exact in doubles
      b[i] = (x >>> 16) & 255;
    }
    return b;
  }

  function shaBoth(b, reps) {
    var out = new Uint8Array(32);
    var t0 = mcu.busyTicks();
    for (var r = 0; r < reps; r++) mcu.sha256(b, 0, b.length, out);
    var tn = mcu.busyTicks() - t0;
    var nat = toHex(out, 0, 32);
    var js = "none";
    var tj = -1;
    if (core && core.sha256) {
      var out2 = new Uint8Array(32);
      t0 = mcu.busyTicks();
      for (r = 0; r < reps; r++) core.sha256(b, 0, b.length, out2);
      tj = mcu.busyTicks() - t0;
      js = toHex(out2, 0, 32);
    }
    return "native=" + nat + " js=" + js + " tn=" + tn + " tj=" + tj;
  }

  function edVerify() {
    if (!core) return null;
    if (core.ed25519Verify) return core.ed25519Verify;
    if (core.createPurePrimitives) return core.createPurePrimitives().ed25519Verify;
    return null;
  }

  function runCommand(cmd) {
    var sp = cmd.indexOf(" ");
    var op = sp < 0 ? cmd : cmd.substring(0, sp);
    var a = sp < 0 ? [] : cmd.substring(sp + 1).split(" ");
    if (op === "ping") return reply("pong");
    if (op === "echo") return reply("echo " + (sp < 0 ? "" : cmd.substring(sp + 1)));
    if (op === "sha") return reply("sha " + shaBoth(fromHex(a[0] || ""), 1));
    if (op === "shagen") return reply("shagen " + shaBoth(pattern(+a[0], +a[1]), +(a[2] || 1)));
    if (op === "ed") {
      var v = edVerify();
      if (!v) return reply("ed unavailable");
      var pk = fromHex(a[0]), sig = fromHex(a[1]), msg = fromHex(a[2] || "");
      var t0 = mcu.busyTicks();
      var ok = v(pk, sig, msg, 0, msg.length);
      return reply("ed ok=" + (ok ? 1 : 0) + " ticks=" + (mcu.busyTicks() - t0));
    }
    if (op === "edn") { // the firmware's native Ed25519 (ed25519.c), the app's verifier by default
      var npk = fromHex(a[0]), nsig = fromHex(a[1]), nmsg = fromHex(a[2] || "");
      var n0 = mcu.busyTicks();
      var nok = mcu.ed25519Verify(npk, nsig, nmsg, 0, nmsg.length);
      return reply("edn ok=" + (nok ? 1 : 0) + " ticks=" + (mcu.busyTicks() - n0));
    }
    if (op === "hss") { // HSS/LMS verification by the core on the native C SHA-256
      if (!core || !core.createHssVerifier) return reply("hss unavailable");
      if (!hssV) hssV = core.createHssVerifier({ sha256: mcu.sha256, ed25519Verify: edVerify() }, 1024);
      var hpk = fromHex(a[0]), hsig = fromHex(a[1] || ""), hmsg = fromHex(a[2] || "");
      var h0 = mcu.busyTicks();
      var hrc = hssV.verify(hpk, 0, hpk.length, hsig, 0, hsig.length, hmsg, 0, hmsg.length);
      return reply("hss rc=" + hrc + " calls=" + hssV.hashCalls + " ticks=" + (mcu.busyTicks() - h0));
    }
    if (op === "fr") {
      var rb = new Uint8Array(+a[1]);
      var rc = mcu.flashRead(+a[0], rb, 0, rb.length);
      return reply("fr rc=" + rc + " data=" + (rc === 0 ? toHex(rb, 0, rb.length) : ""));
    }
    if (op === "fe") return reply("fe rc=" + mcu.flashErase(+a[0], +a[1]));
    if (op === "fw") {
      var wb = fromHex(a[1]);
      return reply("fw rc=" + mcu.flashWrite(+a[0], wb, 0, wb.length));
    }
    if (op === "info") {
      return reply("info flashSize=" + mcu.flashSize + " pageSize=" + mcu.pageSize + " core=" + (core ? 1 : 0) +
        " ed=" + (edVerify() ? 1 : 0) + " app=" + (appFactory() ? 1 : 0));
    }
    if (op === "stats") {
      var s = mcu.stats();
      return reply("stats heapPeak=" + s.heapPeak + " heapLive=" + s.heapLive + " heapArenaUsed=" + s.heapArenaUsed +
        " stackPeak=" + s.stackPeak + " stackSize=" + s.stackSize + " rxOverruns=" + s.rxOverruns +
        " rxPeak=" + s.rxPeak + " rxFullStops=" + s.rxFullStops);
    }
    if (op === "peaks") { mcu.gc(); mcu.resetPeaks(); return reply("peaks reset"); }
    if (op === "framebench" && core && core.createFrameDecoder) { // per-byte costs of the serial framing
      // framebench <len> [seed]: one frame encoded, then decoded by the core's loop and with the
      // firmware's native crc32 + findZero (the app's default); the same frame with one byte
      // changed must be dropped by both
      var fn = +(a[0] || 4096), seed = +(a[1] || 9), enc = core.createFrameEncoder(fn), dec = core.createFrameDecoder(fn);
      var decN = core.createFrameDecoder(fn, { crc32: mcu.crc32, findZero: mcu.findZero });
      enc.body.set(pattern(fn, seed), 0);
      var f0 = mcu.busyTicks();
      var crc = core.crc32(enc.body, 0, fn);
      var f1 = mcu.busyTicks();
      var ncrc = mcu.crc32(enc.body, 0, fn);
      var f1n = mcu.busyTicks();
      var wl = enc.encode(fn);
      var f2 = mcu.busyTicks();
      var got = dec.push(enc.wire, 0, wl);
      var f3 = mcu.busyTicks();
      var gotN = decN.push(enc.wire, 0, wl);
      var f4 = mcu.busyTicks();
      var same = got === fn && gotN === fn ? 1 : 0;
      for (var q = 0; q < fn && same; q++) if (dec.frame[q] !== decN.frame[q]) same = 0;
      enc.wire[wl >> 1] ^= enc.wire[wl >> 1] === 1 ? 3 : 1; // stays non-zero: a changed byte, not a delimiter
      var bad = dec.push(enc.wire, 0, wl), badN = decN.push(enc.wire, 0, wl);
      return reply("framebench len=" + fn + " ok=" + (got === fn ? 1 : 0) + " nok=" + (gotN === fn ? 1 : 0) + " same=" + same +
        " bad=" + (bad >= 0 ? 1 : 0) + " nbad=" + (badN >= 0 ? 1 : 0) + " crc=" + (f1 - f0) + " ncrcTicks=" + (f1n - f1) +
        " encode=" + (f2 - f1n) + " decode=" + (f3 - f2) + " ndecode=" + (f4 - f3) + " crcval=" + crc + " ncrc=" + ncrc);
    }
    if (op === "sink") { // the raw link: swallow N bytes, report the guest's busy ticks
      // sink <n> hold: first keep the CPU busy until the receive ring is full and the UART
      // holds a byte back (a long signature check), then swallow; adler= lets the host check
      // that flow control lost nothing
      var want = +a[0], got = 0, b0 = mcu.busyTicks(), w0 = mcu.ticks(), hold = a[1] === "hold", check = hold;
      var sa = 1, sb = 0, stops0 = mcu.stats().rxFullStops, t0 = mcu.ticks();
      onBytes = function (buf, len) {
        while (hold && mcu.stats().rxFullStops === stops0 && mcu.ticks() - t0 < 60 * mcu.timerHz) { /* busy */ }
        for (var i = 0; i < len && check; i++) { // only for "hold": the plain sink stays the raw link
          sa = (sa + buf[i]) % 65521;
          sb = (sb + sa) % 65521;
        }
        hold = false;
        got += len;
        if (got < want) return;
        onBytes = consoleBytes;
        var st = mcu.stats();
        reply("sink n=" + got + " busy=" + (mcu.busyTicks() - b0) + " ticks=" + (mcu.ticks() - w0) + " adler=" + (sb * 65536 + sa) +
          " rxPeak=" + st.rxPeak + " rxFullStops=" + st.rxFullStops + " rxOverruns=" + st.rxOverruns);
      };
      return reply("sink ready");
    }
    if (op === "ticks") return reply("ticks " + mcu.ticks() + " busy=" + mcu.busyTicks());
    if (op === "reset") { reply("reset"); mcu.reset(); }
    if (op === "exit") { reply("exit"); mcu.exit(+(a[0] || 0)); }
    return reply("error unknown command " + op);
  }

  function consoleBytes(buf, len) {
    for (var i = 0; i < len; i++) {
      var c = buf[i];
      if (c === 10) {
        var cmd = line;
        line = "";
        if (cmd.length > 0 && cmd.charCodeAt(cmd.length - 1) === 13) cmd = cmd.substring(0, cmd.length - 1);
        if (cmd.length > 0) runCommand(cmd);
      } else if (c !== 13 && line.length < 65536) {
        line += String.fromCharCode(c);
      }
    }
  }

  // ---- the device application (DEVICE's core code), when present ----
  function appFactory() { return core && core.createDeviceApp ? core.createDeviceApp : null; }

  // Provisioning ("burned in" at manufacture): semihosting command-line words
  //   roots=<hex: 32 bytes per Ed25519 root; entries joined by "+", 60 bytes for an HSS/LMS
  //   root> vendor=<hex 16> class=<hex 16> [threshold=k]
  //   [rootthreshold=r] (distinct roots the k signers must come through)
  //   [requirealgs=m] (hybrid policy: AlgorithmBits 1 Ed25519 | 2 HSS/LMS the signers must include)
  //   [bootalgs=m] (AlgorithmBits whose signatures the boot check verifies; default all)
  //   [maxchunk=4096] [maxdata=4096] [window=<frames; default: as many as the receive ring holds>]
  //   [windowbits=12] (payload decoder window; 0: none)
  //   [ed=js] (verify Ed25519 with the core's JS verifier instead of the native port)
  //   [logkeys=<hex> witnesskeys=<hex> quorum=<n>] (install only logged bundles)
  // The window the device offers: as many full DATA frames as the firmware's receive ring
  // holds (formats/PROTOCOL.md §4). The interrupt keeps filling the ring while the core
  // verifies the envelope or hashes and writes a chunk, so the host can keep the line busy
  // throughout; a host that sends more is only held back (the ring never drops bytes).
  function ringWindow(maxData) {
    var frames = Math.floor(mcu.rxRing / core.maxWireLen(maxData + core.DATA_HEADER_LEN));
    return Math.max(1, Math.min(255, frames));
  }

  function startApp() {
    var rootBuf = new Uint8Array(4 * 60);
    var rootList = core.parseRootList(argValue("roots") || "", rootBuf);
    var rootCount = rootList > 0 ? Math.floor(rootList / 256) : 0;
    var roots = rootBuf.subarray(0, rootCount > 0 ? core.rootKeyOffset(rootList % 256, rootCount) : 0);
    var vendorId = fromHex(argValue("vendor") || "");
    var classId = fromHex(argValue("class") || "");
    if (rootCount === 0 || vendorId.length !== 16 || classId.length !== 16) {
      mcu.log("fwseal-mcu: not provisioned (roots=, vendor=, class= missing): console mode");
      return false;
    }
    // Ed25519 on the firmware's native port of the core's verifier (ed25519.c: same checks,
    // same arithmetic, about 40 times fewer instructions than the core's JS on Duktape), so
    // the envelope check holds up reception for milliseconds, not a quarter of a second;
    // ed=js: the core's own JS verifier.
    var edNative = argValue("ed") !== "js";
    // copy=js: the core copies chunk bytes in its own loop (for comparison in bench:mcu).
    var copyNative = argValue("copy") !== "js";
    // scan=js: the frame decoder's per-byte CRC and zero test in the core's JS.
    var scanNative = argValue("scan") !== "js";
    var pure = core.createPurePrimitives();
    var maxData = +(argValue("maxdata") || 4096);
    var cfg = {
      primitives: {
        sha256: mcu.sha256,
        ed25519Verify: edNative ? mcu.ed25519Verify : pure.ed25519Verify,
        copyBytes: copyNative ? mcu.copyBytes : undefined,
        crc32: scanNative ? mcu.crc32 : undefined,
        findZero: scanNative ? mcu.findZero : undefined
      },
      roots: roots,
      rootCount: rootCount,
      rootHssMask: rootList % 256,
      requiredAlgorithms: +(argValue("requirealgs") || 0),
      bootAlgorithms: +(argValue("bootalgs") || 0),
      rootRetired: 0,
      vendorId: vendorId,
      classId: classId,
      threshold: +(argValue("threshold") || 1),
      rootThreshold: +(argValue("rootthreshold") || 1),
      maxChunkSize: +(argValue("maxchunk") || 4096),
      maxData: maxData,
      window: +(argValue("window") || ringWindow(maxData)),
      resumeStride: +(argValue("stride") || 16384),
      // compressed and delta payloads (formats/SPEC.md §15): the largest deflate window decoded, in bits; 0: no decoder
      maxWindowBits: +(argValue("windowbits") || 12),
      // log policy (formats/SPEC.md §14): logkeys=<hex, 36-byte records> witnesskeys=<hex> quorum=<n>
      logKeys: fromHex(argValue("logkeys") || ""),
      logKeyCount: Math.floor((argValue("logkeys") || "").length / 72),
      witnessKeys: fromHex(argValue("witnesskeys") || ""),
      witnessKeyCount: Math.floor((argValue("witnesskeys") || "").length / 72),
      witnessQuorum: +(argValue("quorum") || 0)
    };
    var app = core.createDeviceApp(hal, cfg);
    if (!app) {
      mcu.log("fwseal-mcu: flash too small for the layout: console mode");
      return false;
    }
    var t0 = mcu.busyTicks();
    app.boot(); // boot-time verification of the image about to run
    mcu.log("fwseal-mcu: app booted runningSlot=" + app.runningSlot + " runMode=" + app.runMode +
      " bootCheck=" + app.bootReason[0] + "," + app.bootReason[1] + " reverted=" + app.reverted +
      " bootTicks=" + (mcu.busyTicks() - t0));
    onBytes = function (buf, len) {
      app.onBytes(buf, 0, len);
      if (app.halted) mcu.reset(); // the app asked for a reboot: a real system reset
    };
    fwsealMcu.app = app;
    return true;
  }

  // bench=1: when the device goes quiet after doing work, log its busy ticks, so a host
  // benchmark can take differences between reports (bench/mcu.mjs). onIdle runs at least
  // every millisecond (the firmware's tick).
  if (argValue("bench") === "1") {
    var prevBusy = 0, worked = false;
    onIdle = function () {
      var b = mcu.busyTicks();
      if (b - prevBusy > 2500) { // more than this call's own cost since the last call
        worked = true;
      } else if (worked) {
        worked = false;
        var st = mcu.stats();
        mcu.log("fwseal-mcu: bench busy=" + b + " ticks=" + mcu.ticks() + " rxPeak=" + st.rxPeak +
          " rxFullStops=" + st.rxFullStops + " rxOverruns=" + st.rxOverruns);
      }
      prevBusy = mcu.busyTicks();
    };
  }

  var mode = argValue("mode") || "app";
  if (mode === "app" && !(appFactory() && startApp())) mode = "console";
  mcu.log("fwseal-mcu: main.js mode=" + mode + " core=" + (core ? "yes" : "no"));
  if (mode === "console") {
    onBytes = consoleBytes;
    reply("fwseal-mcu ready");
  }
  fwsealMcu.hal = hal;
})();
