// The crypto primitives the device core needs, behind one small interface, so a platform
// can plug in native implementations (node:crypto in the simulator, C in the MCU firmware,
// Espruino's one-shot require("crypto").SHA256) in place of the pure constrained-TS ones.
// Constrained TS: a plain record of functions; no exceptions, results by return value.

export interface Primitives {
  // SHA-256 of buf[off .. off+len) written to out[0..32). One call per chunk: a platform
  // whose native hash is one-shot (Espruino) implements this directly.
  sha256(buf: Uint8Array, off: number, len: number, out: Uint8Array): void;
  // Ed25519 verification following formats/SPEC.md §6.1 exactly (strict, cofactorless).
  // pk: 32 bytes, sig: 64 bytes, message msg[msgOff .. msgOff+msgLen).
  ed25519Verify(pk: Uint8Array, sig: Uint8Array, msg: Uint8Array, msgOff: number, msgLen: number): boolean;
  // Optional native HSS/LMS (RFC 8554) verification with the contract of
  // HssVerifier.verify in hss-lms.ts (returns a Reason code). A platform without one builds
  // the constrained-TS verifier on its sha256 with createHssVerifier(primitives, maxMsgLen).
  hssVerify?(pk: Uint8Array, pkOff: number, pkLen: number, sig: Uint8Array, sigOff: number, sigLen: number,
    msg: Uint8Array, off: number, len: number): number;
  // Optional native copy of src[srcOff .. srcOff+n) to dst[dstOff ..) (memmove in the MCU
  // firmware, TypedArray.set on Espruino and Node). Every received chunk byte is copied once
  // into the verifier's chunk buffer; in an interpreter the core's index loop costs hundreds
  // of instructions per byte, and the verifier itself makes no views (set + subarray would
  // allocate one per call). A platform may allocate inside it; without it the core loops.
  copyBytes?(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, n: number): void;
  // Optional native byte scans for the serial frame decoder (update/framing.ts), which without
  // them runs a CRC-32 step and a zero test per received byte in the interpreter. crc32: the
  // one-shot CRC-32 of buf[off .. off+len) (IEEE, as zlib; E.CRC32 on Espruino), unsigned.
  // findZero: the index of the first zero byte in buf[from .. to), or `to` if there is none.
  // The decoder uses them only as a pair.
  crc32?(buf: Uint8Array, off: number, len: number): number;
  findZero?(buf: Uint8Array, from: number, to: number): number;
}
