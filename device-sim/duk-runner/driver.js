// Driver for device-sim/duk-runner/duk-capped.c (ES5, constrained subset: no JSON, no
// exceptions, no host APIs). Runs after build/fwseal-core.js in the same Duktape heap.
// Inputs from the C host: the global `fwsealArgs` (policy as numbers and hex strings) and,
// with --native-sha256, the global C function `fwsealNativeSha256(buf, off, len, out)`.
// Defines `fwsealRunner`:
//   input          Uint8Array(frag), created once; the host reads the bundle into it
//   feed(len)      push input[0 .. len) through the streaming verifier -> 0 more, 1 rejected
//   finish()       end of input -> "valid reason chunk chunksReleased" (one line, no JSON)
// Everything is allocated here, once, before the first byte of the bundle.
var fwsealRunner = (function (core, args) {
  var fromHex = core.hexToBytes;
  var pure = core.createPurePrimitives();
  var prims = pure;
  if (args.nativeSha256) prims = { sha256: fwsealNativeSha256, ed25519Verify: pure.ed25519Verify };
  var EV = core.VerifyEvent;
  var v = core.createBundleVerifier({
    primitives: prims,
    roots: fromHex(args.roots),
    rootCount: args.rootCount,
    rootRetired: args.retired,
    vendorId: fromHex(args.vendor),
    classId: fromHex(args.cls),
    minSequence: args.minSeq,
    minEpoch: args.minEpoch,
    threshold: args.threshold,
    now: args.now,
    maxChunkSize: args.maxChunk
  });
  var input = new Uint8Array(args.frag);
  var rejected = false;
  var released = 0;
  function feed(len) {
    var off = 0;
    while (off < len) {
      var ev = v.push(input, off, len - off);
      var used = v.consumed;
      off += used;
      if (ev === EV.REJECT) {
        rejected = true;
        return 1;
      }
      if (ev === EV.CHUNK) released++;
      if (used === 0 && ev === EV.NEED_MORE) {
        return 2; // a verifier that takes nothing: report, never spin
      }
    }
    return 0;
  }
  function finish() {
    var ev = rejected ? EV.REJECT : v.end();
    var ok = ev === EV.DONE;
    var reason = ok ? 0 : v.reason;
    var chunk = ok ? -1 : v.rejectChunk;
    return (ok ? "1 " : "0 ") + core.reasonName(reason) + " " + chunk + " " + released;
  }
  return { input: input, feed: feed, finish: finish };
})(fwsealCore, fwsealArgs);
