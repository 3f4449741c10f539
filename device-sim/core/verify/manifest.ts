// Manifest decoding and checks (formats/SPEC.md §4; §8 step 3, sub-steps a-f in that
// order). CONSTRAINED TS: allocation only in the constructor, no exceptions. The manifest
// is attacker-controlled until the signatures are checked (§8 step 4): this only judges its
// form; policy (vendor, class, rollback) is the caller's, on the authenticated values.
import { Reason } from "../../../formats/device-safe/reasons.js";
import { Limits } from "../../../formats/device-safe/limits.js";
import { ManifestKey, ProvenanceKey, PayloadEncoding, PayloadCodec, EncodingParamKey } from "../../../formats/device-safe/labels.js";
import { CborReader, CborMapWalk, MapKeys } from "../../../formats/device-safe/cbor-reader.js";
import { checkChunkGeometry } from "../../../formats/device-safe/chunk-layout.js";
import { copyBytes } from "./bytes.js";

// Manifest keys 1..LAST_KEY are understood by a version-1 verifier (SPEC §4 crit rule).
const FIRST_KEY = ManifestKey.FORMAT_VERSION;
const LAST_KEY = ManifestKey.CRIT;

// Decodes UTF-8 for display (the verifier itself never interprets text). Invalid -> U+FFFD.
function utf8ToString(b: Uint8Array, off: number, len: number): string {
  let s = "";
  let i = off;
  const end = off + len;
  while (i < end) {
    const c = b[i];
    let cp = 0xfffd;
    let n = 1;
    if (c < 0x80) {
      cp = c;
    } else if (c >= 0xc2 && c < 0xe0 && i + 1 < end && (b[i + 1] & 0xc0) === 0x80) {
      cp = ((c & 0x1f) << 6) | (b[i + 1] & 0x3f);
      n = 2;
    } else if (c >= 0xe0 && c < 0xf0 && i + 2 < end && (b[i + 1] & 0xc0) === 0x80 && (b[i + 2] & 0xc0) === 0x80) {
      cp = ((c & 0x0f) << 12) | ((b[i + 1] & 0x3f) << 6) | (b[i + 2] & 0x3f);
      n = 3;
      if (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000)) cp = 0xfffd;
    } else if (
      c >= 0xf0 && c < 0xf5 && i + 3 < end &&
      (b[i + 1] & 0xc0) === 0x80 && (b[i + 2] & 0xc0) === 0x80 && (b[i + 3] & 0xc0) === 0x80
    ) {
      cp = ((c & 0x07) << 18) | ((b[i + 1] & 0x3f) << 12) | ((b[i + 2] & 0x3f) << 6) | (b[i + 3] & 0x3f);
      n = 4;
      if (cp < 0x10000 || cp > 0x10ffff) cp = 0xfffd;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      s += String.fromCharCode(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    } else {
      s += String.fromCharCode(cp);
    }
    i += n;
  }
  return s;
}

/**
 * Where a decoded manifest goes (the bundle verifier's public results). The byte arrays
 * are filled in place; the numbers are valid after decode() returned OK (on failure they
 * may be partly set).
 */
export interface ManifestFields {
  sequence: number;
  version: string;
  imageSize: number;
  chunkSize: number;
  chunkCount: number;
  chainHead: Uint8Array; // HASH_LEN
  vendorId: Uint8Array; // UUID_LEN
  classId: Uint8Array; // UUID_LEN
  keyEpochFloor: number; // -1 absent
  payloadEncoding: number;
  // Encoded payloads (encoding 1 or 3, SPEC §15); for raw payloads the wire stream is the
  // image: wireSize = imageSize, wireChunkCount = chunkCount, wireChainHead = chainHead.
  wireSize: number;
  wireChunkCount: number;
  wireChainHead: Uint8Array; // HASH_LEN
  codec: number; // PayloadCodec; NONE for raw
  windowBits: number; // deflate window (codec DEFLATE), 0 otherwise
  precursorChainHead: Uint8Array; // HASH_LEN (delta)
  precursorSize: number; // delta: the precursor image's size; -1 otherwise
}

const MIN_WINDOW_BITS = Limits.MIN_WINDOW_BITS;
const MAX_WINDOW_BITS = Limits.MAX_WINDOW_BITS;

/** Decodes and checks manifests into a ManifestFields. */
export class ManifestDecoder {
  private r: CborReader;
  private walk: CborMapWalk;
  private buf: Uint8Array;
  private end: number;
  // value offset by manifest key (FIRST_KEY..LAST_KEY), -1 absent
  private pos: Int32Array;
  private err: number; // reason of the last mandatoryUint() failure
  // value offset by encoding-params key (1..PRECURSOR_SIZE), -1 absent
  private ppos: Int32Array;

  // `r` may be shared with other decoders: decode() re-initialises it.
  constructor(r: CborReader) {
    this.r = r;
    this.walk = new CborMapWalk(r);
    this.buf = new Uint8Array(0);
    this.end = 0;
    this.pos = new Int32Array(LAST_KEY + 1);
    this.err = 0;
    this.ppos = new Int32Array(EncodingParamKey.PRECURSOR_SIZE + 1);
  }

  // Positions the reader at manifest key k's value; false if absent.
  private seek(k: number): boolean {
    const p = this.pos[k];
    if (p < 0) return false;
    this.r.init(this.buf, p, this.end);
    return true;
  }

  // Reads manifest key k as a uint (-1 absent; -2 error, reason in the reader's err).
  private uintAt(k: number): number {
    if (!this.seek(k)) return -1;
    const v = this.r.readUint();
    return v < 0 ? -2 : v;
  }

  /**
   * Decodes and checks the manifest buf[off .. off+len) (SPEC §8 step 3). maxChunk: the
   * verifier's chunk buffer (a larger chunk size is TOO_LARGE). maxWindowBits: the largest
   * deflate window the device decodes (0: it decodes no encoded payload, SPEC §15). The
   * values go to `out`. Returns a Reason.
   */
  decode(buf: Uint8Array, off: number, len: number, maxChunk: number, maxWindowBits: number, out: ManifestFields): number {
    const r = this.r;
    const w = this.walk;
    const end = off + len;
    this.buf = buf;
    this.end = end;
    out.version = "";
    out.keyEpochFloor = -1;
    r.init(buf, off, end);
    for (let k = 0; k <= LAST_KEY; k++) this.pos[k] = -1;
    // 3a: canonical CBOR map with integer keys; remember where known keys' values are.
    if (w.begin(MapKeys.INT) < 0) return r.err;
    while (w.next()) {
      if (r.isInt()) {
        const k = r.intValue();
        if (k >= FIRST_KEY && k <= LAST_KEY) this.pos[k] = r.pos;
      }
      if (!r.skip(1)) return r.err;
    }
    if (r.err !== 0) return r.err;
    if (r.pos !== end) return Reason.MALFORMED;
    // 3b: format version
    const fv = this.uintAt(ManifestKey.FORMAT_VERSION);
    if (fv === -1) return Reason.MALFORMED;
    if (fv === -2) return r.err === Reason.TOO_LARGE ? Reason.UNSUPPORTED_VERSION : r.err;
    if (fv !== Limits.FORMAT_VERSION) return Reason.UNSUPPORTED_VERSION;
    // 3c: types and sizes of every field
    const rc = this.fields(out);
    if (rc !== Reason.OK) return rc;
    // 3d: crit
    if (this.seek(ManifestKey.CRIT)) {
      const cn = r.readArray();
      for (let j = 0; j < cn; j++) {
        r.head();
        const k = r.intValue();
        if (!r.isInt() || k < FIRST_KEY || k > LAST_KEY) return Reason.UNSUPPORTED_CRITICAL;
      }
    }
    // 3e: payload encoding and its parameters
    const enc = out.payloadEncoding;
    if (enc === PayloadEncoding.RAW) {
      out.wireSize = out.imageSize;
      out.wireChunkCount = out.chunkCount;
      copyBytes(out.chainHead, 0, out.wireChainHead, 0, Limits.HASH_LEN);
      out.codec = PayloadCodec.NONE;
      out.windowBits = 0;
      out.precursorSize = -1;
    } else {
      if ((enc !== PayloadEncoding.COMPRESSED && enc !== PayloadEncoding.DELTA) || maxWindowBits < MIN_WINDOW_BITS) return Reason.UNSUPPORTED_ENCODING;
      const pc = this.encodingParams(out, maxWindowBits);
      if (pc !== Reason.OK) return pc;
    }
    // 3f: geometry of the image, then of the wire stream
    const gc = checkChunkGeometry(out.imageSize, out.chunkSize, out.chunkCount, maxChunk);
    if (gc !== Reason.OK || enc === PayloadEncoding.RAW) return gc;
    return checkChunkGeometry(out.wireSize, out.chunkSize, out.wireChunkCount, maxChunk);
  }

  // 3e for encodings 1 and 3 (SPEC §15): the mandatory parameters with their types and
  // sizes (MALFORMED), then codec (UNSUPPORTED_ENCODING), then the window (MALFORMED outside
  // 9..15, TOO_LARGE above what this device decodes).
  private encodingParams(out: ManifestFields, maxWindowBits: number): number {
    const r = this.r;
    const w = this.walk;
    const BAD = Reason.MALFORMED;
    const delta = out.payloadEncoding === PayloadEncoding.DELTA;
    for (let k = 0; k <= EncodingParamKey.PRECURSOR_SIZE; k++) this.ppos[k] = -1;
    if (!this.seek(ManifestKey.ENCODING_PARAMS)) return BAD;
    if (w.begin(MapKeys.INT) < 0) return r.err;
    while (w.next()) {
      if (r.isInt()) {
        const k = r.intValue();
        if (k >= 1 && k <= EncodingParamKey.PRECURSOR_SIZE) this.ppos[k] = r.pos;
      }
      if (!r.skip(1)) return r.err;
    }
    if (r.err !== 0) return r.err;
    let v = this.paramUint(EncodingParamKey.WIRE_SIZE);
    if (v < 0) return this.err;
    if (v === 0) return BAD;
    out.wireSize = v;
    v = this.paramUint(EncodingParamKey.WIRE_CHUNK_COUNT);
    if (v < 0) return this.err;
    out.wireChunkCount = v;
    if (!this.seekParam(EncodingParamKey.WIRE_CHAIN_HEAD)) return BAD;
    let o = r.readBytesN(Limits.HASH_LEN);
    if (o < 0) return r.err;
    copyBytes(this.buf, o, out.wireChainHead, 0, Limits.HASH_LEN);
    v = this.paramUint(EncodingParamKey.CODEC);
    if (v < 0) return this.err;
    out.codec = v;
    out.windowBits = 0;
    if (v === PayloadCodec.DEFLATE) {
      v = this.paramUint(EncodingParamKey.WINDOW_BITS);
      if (v < 0) return this.err;
      out.windowBits = v;
    }
    out.precursorSize = -1;
    if (delta) {
      if (!this.seekParam(EncodingParamKey.PRECURSOR_CHAIN_HEAD)) return BAD;
      o = r.readBytesN(Limits.HASH_LEN);
      if (o < 0) return r.err;
      copyBytes(this.buf, o, out.precursorChainHead, 0, Limits.HASH_LEN);
      v = this.paramUint(EncodingParamKey.PRECURSOR_SIZE);
      if (v < 0) return this.err;
      if (v === 0) return BAD;
      out.precursorSize = v;
    }
    if (out.codec === PayloadCodec.DEFLATE) {
      if (out.windowBits < MIN_WINDOW_BITS || out.windowBits > MAX_WINDOW_BITS) return BAD;
      if (out.windowBits > maxWindowBits) return Reason.TOO_LARGE;
      return Reason.OK;
    }
    return out.codec === PayloadCodec.NONE && delta ? Reason.OK : Reason.UNSUPPORTED_ENCODING;
  }

  // Positions the reader at encoding-params key k's value; false if absent.
  private seekParam(k: number): boolean {
    const p = this.ppos[k];
    if (p < 0) return false;
    this.r.init(this.buf, p, this.end);
    return true;
  }

  // Reads mandatory encoding-params key k as a uint: -1 on failure, the reason in this.err.
  private paramUint(k: number): number {
    if (!this.seekParam(k)) {
      this.err = Reason.MALFORMED;
      return -1;
    }
    const v = this.r.readUint();
    if (v < 0) this.err = this.r.err;
    return v < 0 ? -1 : v;
  }

  // Reads mandatory manifest key k as a uint: -1 on failure, the reason in this.err
  // (MALFORMED when absent).
  private mandatoryUint(k: number): number {
    if (!this.seek(k)) {
      this.err = Reason.MALFORMED;
      return -1;
    }
    const v = this.r.readUint();
    if (v < 0) this.err = this.r.err;
    return v < 0 ? -1 : v;
  }

  // 3c: every known manifest field has its type and size (MALFORMED / TOO_LARGE), strictly
  // in key order: a missing mandatory key is judged where its key would be, so a fault in
  // a lower key is reported first (a 65-byte version before a missing chain head).
  private fields(out: ManifestFields): number {
    const r = this.r;
    const buf = this.buf;
    const BAD = Reason.MALFORMED;
    if (!this.seek(ManifestKey.VENDOR_ID)) return BAD;
    let o = r.readBytesN(Limits.UUID_LEN);
    if (o < 0) return r.err;
    copyBytes(buf, o, out.vendorId, 0, Limits.UUID_LEN);
    if (!this.seek(ManifestKey.CLASS_ID)) return BAD;
    o = r.readBytesN(Limits.UUID_LEN);
    if (o < 0) return r.err;
    copyBytes(buf, o, out.classId, 0, Limits.UUID_LEN);
    let v = this.mandatoryUint(ManifestKey.SEQUENCE);
    if (v < 0) return this.err;
    out.sequence = v;
    if (!this.seek(ManifestKey.VERSION)) return BAD;
    const vl = r.readText();
    if (vl < 0) return r.err;
    if (vl === 0) return BAD;
    if (vl > Limits.MAX_VERSION_LEN) return Reason.TOO_LARGE;
    const vo = r.dataOff;
    v = this.mandatoryUint(ManifestKey.IMAGE_SIZE);
    if (v < 0) return this.err;
    if (v === 0) return BAD;
    out.imageSize = v;
    v = this.mandatoryUint(ManifestKey.CHUNK_SIZE);
    if (v < 0) return this.err;
    out.chunkSize = v;
    v = this.mandatoryUint(ManifestKey.CHUNK_COUNT);
    if (v < 0) return this.err;
    out.chunkCount = v;
    if (!this.seek(ManifestKey.CHAIN_HEAD)) return BAD;
    o = r.readBytesN(Limits.HASH_LEN);
    if (o < 0) return r.err;
    copyBytes(buf, o, out.chainHead, 0, Limits.HASH_LEN);
    v = this.mandatoryUint(ManifestKey.PAYLOAD_ENCODING);
    if (v < 0) return this.err;
    out.payloadEncoding = v;
    // optional keys
    const rc = this.optionalFields(out);
    if (rc !== Reason.OK) return rc;
    out.version = utf8ToString(buf, vo, vl);
    return Reason.OK;
  }

  // 3c for encoding-params .. crit, in key order.
  private optionalFields(out: ManifestFields): number {
    const r = this.r;
    const w = this.walk;
    if (this.seek(ManifestKey.ENCODING_PARAMS)) {
      if (w.begin(MapKeys.INT) < 0) return r.err;
      while (w.next()) if (!r.skip(2)) return r.err;
      if (r.err !== 0) return r.err;
    }
    if (this.seek(ManifestKey.PROVENANCE)) {
      if (w.begin(MapKeys.INT) < 0) return r.err;
      while (w.next()) {
        const pk = r.isInt() ? r.intValue() : 0;
        if (pk === ProvenanceKey.SOURCE_REVISION || pk === ProvenanceKey.BUILDER) {
          const tl = r.readText();
          if (tl < 0) return r.err;
          if (tl > Limits.MAX_TEXT_LEN) return Reason.TOO_LARGE;
        } else if (pk === ProvenanceKey.BUILD_TIME) {
          if (r.readUint() < 0) return r.err;
        } else if (!r.skip(2)) {
          return r.err;
        }
      }
      if (r.err !== 0) return r.err;
    }
    if (this.seek(ManifestKey.SBOM_DIGEST)) {
      if (r.readBytesN(Limits.HASH_LEN) < 0) return r.err;
    }
    if (this.seek(ManifestKey.RELEASE_NOTES)) {
      const nl = r.readText();
      if (nl < 0) return r.err;
      if (nl > Limits.MAX_NOTES_LEN) return Reason.TOO_LARGE;
    }
    out.keyEpochFloor = -1;
    const v = this.uintAt(ManifestKey.KEY_EPOCH_FLOOR);
    if (v === -2) return r.err;
    out.keyEpochFloor = v;
    if (this.seek(ManifestKey.CRIT)) {
      const cn = r.readArray();
      if (cn < 0) return r.err;
      if (cn === 0) return Reason.MALFORMED;
      if (cn > Limits.MAX_MANIFEST_CRIT) return Reason.TOO_LARGE;
      for (let j = 0; j < cn; j++) {
        if (!r.head()) return r.err;
        if (r.major !== 0 && r.major !== 1) return Reason.MALFORMED;
      }
    }
    return Reason.OK;
  }
}
