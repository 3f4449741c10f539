// The device's INFO and STATUS replies: what runs, the slots, the limits, the install session
// and its resume point, gathered into the field records of formats/device-safe/protocol.ts
// (allocated once here) and written by its encoders.
// Constrained TS.

import { PROTOCOL_VERSION, newInfoFields, newStatusFields, writeInfoReply, writeStatusReply } from "../../../formats/device-safe/protocol.js";
import type { InfoSlotFields } from "../../../formats/device-safe/protocol.js";
import type { FlashLayout, SlotInfo, StateStore } from "../boot/flash-layout.js";
import { installingSlot, resumeStreamOffset } from "../boot/slot-select.js";
import type { RunStatus } from "../boot/boot-loader.js";
import type { VerifierConfig } from "../verify/bundle-verifier.js";
import type { InstallSession } from "./install-receiver.js";
import type { ReplySender } from "./replies.js";

/** The fixed identity and limits INFO reports (from the device configuration). */
export interface ReportConfig {
  vendorId: Uint8Array; // 16
  classId: Uint8Array; // 16
  rootCount: number;
  maxData: number;
  window: number;
  maxChunkSize: number;
}

/** Device-side state INFO reports besides the boot status. */
export interface LinkCounters {
  framesSinceBoot: number;
}

/** Sends INFO and STATUS replies. */
export interface Reports {
  info(tag: number): void;
  status(tag: number): void;
}

function fillSlot(f: InfoSlotFields, si: SlotInfo): void {
  f.state = si.state;
  f.sequence = si.sequence;
  f.imageSize = si.imageSize;
  f.version = si.version;
  f.versionLen = si.versionLen;
}

/** Creates the INFO / STATUS encoders; vcfg supplies the retired-root mask in force. */
export function createReports(
  cfg: ReportConfig,
  layout: FlashLayout,
  store: StateStore,
  status: RunStatus,
  counters: LinkCounters,
  sess: InstallSession,
  vcfg: VerifierConfig,
  replies: ReplySender
): Reports {
  const st = store.state;
  const info = newInfoFields();
  const stat = newStatusFields();
  info.protocolVersion = PROTOCOL_VERSION;
  info.maxData = cfg.maxData;
  info.window = cfg.window;
  info.vendorId = cfg.vendorId;
  info.classId = cfg.classId;
  info.slotSize = layout.slotSize;
  info.maxChunkSize = cfg.maxChunkSize;
  info.rootCount = cfg.rootCount;
  info.bootCheck = status.bootReason;

  // The interrupted (or ongoing) install and where it continues, into stat.
  function installPoint(): void {
    const ins = installingSlot(st);
    stat.installSlot = ins;
    stat.nextChunk = 0;
    stat.chunkCount = 0;
    stat.resumeOffset = 0;
    if (ins >= 0) {
      const si = st.slots[ins];
      stat.nextChunk = st.nextChunk;
      stat.chunkCount = si.chunkCount;
      stat.resumeOffset = resumeStreamOffset(st, ins);
    }
  }

  function sendInfo(tag: number): void {
    info.runningSlot = status.runningSlot;
    info.runMode = status.runMode;
    info.reverted = status.reverted;
    info.framesSinceBoot = counters.framesSinceBoot;
    info.minSequence = st.minSequence;
    info.minEpoch = st.minEpoch;
    installPoint();
    info.installSlot = stat.installSlot;
    info.installNextChunk = stat.nextChunk;
    info.installChunkCount = stat.chunkCount;
    fillSlot(info.slots[0], st.slots[0]);
    fillSlot(info.slots[1], st.slots[1]);
    info.rootRetired = vcfg.rootRetired;
    info.rootCounter = st.rootCounter;
    replies.send(writeInfoReply(replies.tx, tag, info));
  }

  function sendStatus(tag: number): void {
    stat.session = sess.session;
    stat.offset = sess.expectOffset;
    stat.lastReason = sess.lastReason;
    stat.lastChunk = sess.lastChunk;
    installPoint();
    replies.send(writeStatusReply(replies.tx, tag, stat));
  }

  return { info: sendInfo, status: sendStatus };
}
