// Bundles for the simulated device's class, a SimDevice trusting a test root, and an
// in-process protocol driver for it (frames in, replies out, no serial line). Shared by the
// device, serial, key-rotation and root-retirement suites.
import * as crypto from "node:crypto";
import { buildBundle } from "../../formats/host-only/bundle-builder.js";
import { vendorUuid, classUuid } from "../../formats/host-only/uuid.js";
import type { TestKeys } from "./keys.js";
import { createFrameDecoder, createFrameEncoder } from "../../device-sim/core/update/framing.js";
import { Msg, PROTOCOL_VERSION, DATA_HEADER_LEN, getU32, putU32 } from "../../formats/device-safe/protocol.js";
import { SimDevice, type SimDeviceOptions } from "../../device-sim/sim/sim-device.js";

export const VENDOR = vendorUuid("acme.example");
export const CLASS = classUuid(VENDOR, "sensor-v3");
export const OTHER_CLASS = classUuid(VENDOR, "sensor-v4");

export interface BundleSpec {
  image: Uint8Array;
  sequence: number;
  version?: string;
  chunkSize?: number;
  classId?: Uint8Array;
  keyEpochFloor?: number;
}

export async function makeBundle(keys: TestKeys, spec: BundleSpec): Promise<Uint8Array> {
  return buildBundle(
    spec.image,
    {
      vendorId: VENDOR,
      classId: spec.classId ?? CLASS,
      sequence: spec.sequence,
      version: spec.version ?? `1.0.${spec.sequence}`,
      chunkSize: spec.chunkSize ?? 4096,
      keyEpochFloor: spec.keyEpochFloor,
      sha256: (d) => new Uint8Array(crypto.createHash("sha256").update(d).digest())
    },
    [keys.releaseSigner]
  );
}

export function simDevice(keys: TestKeys, extra: Partial<SimDeviceOptions> = {}): SimDevice {
  return new SimDevice({ roots: [keys.root.publicKey], vendorId: VENDOR, classId: CLASS, ...extra });
}

export interface Frame {
  type: number;
  tag: number;
  body: Uint8Array;
}

/** Drives a SimDevice in-process: every request is answered synchronously. */
export class InProcHost {
  readonly dev: SimDevice;
  private enc = createFrameEncoder(70000);
  private dec = createFrameDecoder(4096);
  private replies: Frame[] = [];
  private tag = 0;

  constructor(dev: SimDevice) {
    this.dev = dev;
    dev.setOutput((b) => {
      let pos = 0;
      while (pos < b.length) {
        const n = this.dec.push(b, pos, b.length - pos);
        pos += this.dec.consumed;
        if (n >= 2) this.replies.push({ type: this.dec.frame[0], tag: this.dec.frame[1], body: this.dec.frame.slice(0, n) });
      }
    });
  }

  /** Sends one frame; returns the replies it produced. A PowerCut propagates. */
  send(type: number, payload: Uint8Array): Frame[] {
    this.replies = [];
    this.tag = (this.tag + 1) & 0xff;
    this.enc.body[0] = type;
    this.enc.body[1] = this.tag;
    this.enc.body.set(payload, 2);
    const n = this.enc.encode(2 + payload.length);
    this.dev.receive(this.enc.wire.slice(0, n));
    return this.replies;
  }

  one(type: number, payload: Uint8Array = new Uint8Array(0)): Frame {
    const r = this.send(type, payload);
    if (r.length !== 1) throw new Error(`expected one reply to 0x${type.toString(16)}, got ${r.length}`);
    return r[0];
  }

  info(): Frame {
    return this.one(Msg.INFO, Uint8Array.of(PROTOCOL_VERSION));
  }

  data(bundle: Uint8Array, offset: number, len: number): Frame {
    const p = new Uint8Array(4 + len);
    putU32(p, 0, offset);
    p.set(bundle.subarray(offset, offset + len), 4);
    return this.one(Msg.DATA, p);
  }

  /** BEGIN (or resume at `from`) and stream the rest; returns the last reply. */
  install(bundle: Uint8Array, frame = 4096, from = -1): Frame {
    let off = from;
    if (off < 0) {
      const b = this.one(Msg.BEGIN, Uint8Array.of(0, 0, 0, 0, 0));
      if (b.type !== Msg.R_OK) return b;
      off = 0;
    }
    let last: Frame = { type: 0, tag: 0, body: new Uint8Array(0) };
    while (off < bundle.length) {
      const n = Math.min(frame, bundle.length - off);
      last = this.data(bundle, off, n);
      if (last.type !== Msg.R_ACK) return last;
      off = getU32(last.body, 2);
    }
    return this.one(Msg.END);
  }
}

export { DATA_HEADER_LEN };
