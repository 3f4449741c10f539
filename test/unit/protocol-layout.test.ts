// The serial reply layouts of formats/PROTOCOL.md §3, as the device writes them and the host
// reads them (formats/device-safe/protocol.ts): pinned offsets, byte-exact encodings, round
// trips, and the length checks a hostile reply meets.
import { describe, it, expect } from "vitest";
import {
  Msg,
  InfoAt,
  SlotRecordAt,
  RootsAt,
  StatusAt,
  ErrorAt,
  AckAt,
  newInfoFields,
  writeInfoReply,
  readInfoReply,
  newStatusFields,
  writeStatusReply,
  readStatusReply,
  writeErrorReply,
  readErrorReply,
  writeAckReply,
  writeNakReply,
  getU32,
  getU53
} from "../../formats/device-safe/protocol.js";

function sampleInfo() {
  const f = newInfoFields();
  f.maxData = 4096;
  f.window = 8;
  f.vendorId = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
  f.classId = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
  f.runningSlot = 1;
  f.runMode = 2;
  f.reverted = 1;
  f.bootCheck[0] = -1;
  f.bootCheck[1] = 0;
  f.framesSinceBoot = 7;
  f.minSequence = 2 ** 40 + 3;
  f.minEpoch = 5;
  f.slotSize = 65536;
  f.maxChunkSize = 4096;
  f.installSlot = -1;
  f.slots[0] = { state: 5, sequence: 1, imageSize: 20000, version: new TextEncoder().encode("1.0.0"), versionLen: 5 };
  f.slots[1] = { state: 3, sequence: 2, imageSize: 30000, version: new TextEncoder().encode("2.0"), versionLen: 3 };
  f.rootCount = 2;
  f.rootRetired = 1;
  f.rootCounter = 77;
  return f;
}

describe("reply layouts", () => {
  it("offsets are those of PROTOCOL.md §3", () => {
    expect(InfoAt).toEqual({
      VERSION: 2, MAX_DATA: 3, WINDOW: 5, VENDOR_ID: 6, CLASS_ID: 22, RUNNING_SLOT: 38, RUN_MODE: 39, REVERTED: 40,
      BOOT_CHECK: 41, FRAMES: 43, MIN_SEQUENCE: 47, MIN_EPOCH: 55, SLOT_SIZE: 63, MAX_CHUNK: 67, INSTALL_SLOT: 71,
      INSTALL_NEXT_CHUNK: 72, INSTALL_CHUNK_COUNT: 76, SLOTS: 80
    });
    expect(SlotRecordAt).toEqual({ STATE: 0, SEQUENCE: 1, IMAGE_SIZE: 9, VERSION_LEN: 13, VERSION: 14 });
    expect(RootsAt).toEqual({ COUNT: 0, RETIRED: 1, COUNTER: 2, LEN: 10 });
    expect(StatusAt).toEqual({ SESSION: 2, OFFSET: 3, LAST_REASON: 7, LAST_CHUNK: 8, INSTALL_SLOT: 12, NEXT_CHUNK: 13, CHUNK_COUNT: 17, RESUME_OFFSET: 21, LEN: 25 });
    expect(ErrorAt).toEqual({ REASON: 2, CHUNK: 3, OFFSET: 7, LEN: 11 });
  });

  it("R_INFO: written bytes, then read back field for field", () => {
    const b = new Uint8Array(512);
    const n = writeInfoReply(b, 0x42, sampleInfo());
    expect(n).toBe(80 + (14 + 5) + (14 + 3) + 10);
    expect([b[0], b[1], b[2], b[3], b[4], b[5]]).toEqual([Msg.R_INFO, 0x42, 1, 0x00, 0x10, 8]);
    expect([b[38], b[39], b[40], b[41], b[42], b[71]]).toEqual([1, 2, 1, 0xff, 0, 0xff]);
    expect(getU53(b, 47)).toBe(2 ** 40 + 3);
    expect(Buffer.from(b.subarray(80 + 14, 80 + 19)).toString()).toBe("1.0.0");
    expect([b[n - 10], b[n - 9], getU53(b, n - 8)]).toEqual([2, 1, 77]);

    const r = newInfoFields();
    expect(readInfoReply(b, n, r)).toBe(true);
    const w = sampleInfo();
    expect({ ...r, slots: undefined }).toEqual({ ...w, slots: undefined });
    expect(r.slots.map((s) => [s.state, s.sequence, s.imageSize, Buffer.from(s.version).toString()])).toEqual([
      [5, 1, 20000, "1.0.0"],
      [3, 2, 30000, "2.0"]
    ]);
  });

  it("R_INFO: the root trailer is optional, truncated slot records are refused", () => {
    const b = new Uint8Array(512);
    const n = writeInfoReply(b, 1, sampleInfo());
    const r = newInfoFields();
    expect(readInfoReply(b, n - 1, r)).toBe(true);
    expect(r.rootCount).toBe(-1);
    expect(readInfoReply(b, n - 11, r)).toBe(false); // last version byte missing
    expect(readInfoReply(b, 79, r)).toBe(false);
  });

  it("R_STATUS: bytes and round trip, -1 as 0xFF / 0xFFFFFFFF", () => {
    const f = newStatusFields();
    Object.assign(f, { session: 3, offset: 1234, lastReason: 9, lastChunk: -1, installSlot: 0, nextChunk: 4, chunkCount: 10, resumeOffset: 999 });
    const b = new Uint8Array(64);
    expect(writeStatusReply(b, 7, f)).toBe(25);
    expect([b[0], b[1], b[2], b[7], b[12]]).toEqual([Msg.R_STATUS, 7, 3, 9, 0]);
    expect([getU32(b, 3), getU32(b, 8), getU32(b, 21)]).toEqual([1234, 0xffffffff, 999]);
    const r = newStatusFields();
    expect(readStatusReply(b, 24, r)).toBe(false);
    expect(readStatusReply(b, 25, r)).toBe(true);
    expect(r).toEqual(f);
  });

  it("R_ERROR, R_ACK, R_NAK", () => {
    const b = new Uint8Array(16);
    expect(writeErrorReply(b, 3, 12, -1, 500)).toBe(11);
    expect([b[0], b[1], b[2], getU32(b, 3), getU32(b, 7)]).toEqual([Msg.R_ERROR, 3, 12, 0xffffffff, 500]);
    const e = { reason: 0, chunk: 0, offset: 0 };
    expect(readErrorReply(b, 11, e)).toBe(true);
    expect(e).toEqual({ reason: 12, chunk: -1, offset: 500 });
    expect(readErrorReply(b, 10, e)).toBe(false);
    expect(writeAckReply(b, 4, 4096, 1)).toBe(AckAt.LEN);
    expect(Array.from(b.subarray(0, 7))).toEqual([Msg.R_ACK, 4, 0x00, 0x10, 0, 0, 1]);
    expect(writeNakReply(b, 5, 8192)).toBe(AckAt.NAK_LEN);
    expect(Array.from(b.subarray(0, 6))).toEqual([Msg.R_NAK, 5, 0x00, 0x20, 0, 0]);
  });
});
