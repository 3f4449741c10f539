// A simulated device: the device core (device-app.ts) on a SimFlash, with node:crypto
// SHA-256 and zlib's CRC-32 for the frame decoder. Power-on = a fresh DeviceApp (volatile
// state lost) booting from flash.
import type { DeviceApp, DeviceConfig, DeviceHal } from "../core/device-app.js";
import { createDeviceApp } from "../core/device-app.js";
import { Limits } from "../../formats/device-safe/limits.js";
import { createNodePrimitives } from "../../host/bundle/node-primitives.js";
import { nodeByteScans } from "./node-byte-scans.js";
import type { Primitives } from "../core/crypto/primitives.js";
import type { LogPolicy } from "../core/verify/log-proof.js";
import { SimFlash } from "./sim-flash.js";
import { packRoots } from "../../formats/host-only/root-slots.js";
import { reasonName } from "../../formats/device-safe/reasons.js";
import { RunMode } from "../../formats/device-safe/protocol.js";

export interface SimDeviceOptions {
  roots: Uint8Array[]; // burned-in root public keys (slot order): Ed25519 32 bytes, HSS/LMS 60 bytes
  rootRetired?: number;
  retireThreshold?: number; // provisioned retirement threshold (SPEC §11.3), default 0 = majority rule
  vendorId: Uint8Array;
  classId: Uint8Array;
  threshold?: number;
  rootThreshold?: number; // distinct roots the signers must come through, default 1
  requiredAlgorithms?: number; // hybrid policy: AlgorithmBits the counted signers must include (SPEC §8.1)
  bootAlgorithms?: number; // AlgorithmBits the boot check verifies (SPEC §8.5), default all
  hss?: boolean; // accept HSS/LMS signatures without an HSS/LMS root
  pageSize?: number; // default 4096
  flashSize?: number; // default 1 MiB
  flashFile?: string; // persist flash here
  maxData?: number; // DATA payload per frame, default 4096
  window?: number; // frames in flight, default 8
  maxChunkSize?: number; // default Limits.MAX_CHUNK_SIZE
  resumeStride?: number; // default 16 KiB
  maxWindowBits?: number; // compressed/delta payloads: largest deflate window decoded, default 12 (0: no decoder)
  now?: () => number; // trusted time, default wall clock
  primitives?: Primitives; // default node:crypto SHA-256, the core's Ed25519, zlib's CRC-32 (node-byte-scans.ts)
  log?: LogPolicy; // install only bundles with a valid transparency-log proof (SPEC §14)
}

export const SIM_DEFAULTS = { pageSize: 4096, flashSize: 1 << 20, maxData: 4096, window: 8, resumeStride: 16384, maxWindowBits: 12 };

export class SimDevice {
  readonly flash: SimFlash;
  app!: DeviceApp;
  /** Incremented at every power-on and reset. */
  boots = 0;
  /** Called after every boot (power-on or reset). */
  onBoot: ((dev: SimDevice) => void) | null = null;
  private readonly cfg: DeviceConfig;
  private readonly hal: DeviceHal;
  private output: (bytes: Uint8Array) => void;

  constructor(opts: SimDeviceOptions, output: (bytes: Uint8Array) => void = () => undefined) {
    this.output = output;
    this.flash = new SimFlash({
      pageSize: opts.pageSize ?? SIM_DEFAULTS.pageSize,
      flashSize: opts.flashSize ?? SIM_DEFAULTS.flashSize,
      file: opts.flashFile
    });
    const packed = packRoots(opts.roots);
    const now = opts.now ?? (() => Math.floor(Date.now() / 1000));
    const flash = this.flash;
    this.hal = {
      pageSize: flash.pageSize,
      flashSize: flash.flashSize,
      flashRead: (a, d, o, l) => flash.flashRead(a, d, o, l),
      flashErase: (a) => flash.flashErase(a),
      flashWrite: (a, s, o, l) => flash.flashWrite(a, s, o, l),
      uartWrite: (b, o, l) => this.output(Uint8Array.prototype.slice.call(b, o, o + l)),
      nowSeconds: now,
      reset: () => undefined // the app sets `halted`; receive() reboots it
    };
    this.cfg = {
      primitives: opts.primitives ?? { ...createNodePrimitives(), ...nodeByteScans() },
      roots: packed.roots,
      rootCount: opts.roots.length,
      rootHssMask: packed.rootHssMask,
      requiredAlgorithms: opts.requiredAlgorithms ?? 0,
      bootAlgorithms: opts.bootAlgorithms ?? 0,
      hss: opts.hss ?? false,
      rootRetired: opts.rootRetired ?? 0,
      retireThreshold: opts.retireThreshold ?? 0,
      vendorId: opts.vendorId,
      classId: opts.classId,
      threshold: opts.threshold ?? 1,
      rootThreshold: opts.rootThreshold ?? 1,
      maxChunkSize: opts.maxChunkSize ?? Limits.MAX_CHUNK_SIZE,
      maxData: opts.maxData ?? SIM_DEFAULTS.maxData,
      window: opts.window ?? SIM_DEFAULTS.window,
      resumeStride: opts.resumeStride ?? SIM_DEFAULTS.resumeStride,
      maxWindowBits: opts.maxWindowBits ?? SIM_DEFAULTS.maxWindowBits,
      ...(opts.log ?? {})
    };
  }

  setOutput(output: (bytes: Uint8Array) => void): void {
    this.output = output;
  }

  /** Power on (or on again after a cut): fresh RAM, boot from flash. */
  powerOn(): void {
    const app = createDeviceApp(this.hal, this.cfg);
    if (!app) throw new Error("flash too small for the device layout");
    this.app = app;
    this.boots++;
    app.boot();
    this.onBoot?.(this);
  }

  /** Bytes arriving on the device's UART. A PowerCut thrown by the flash propagates. */
  receive(bytes: Uint8Array): void {
    this.app.onBytes(bytes, 0, bytes.length);
    if (this.app.halted) {
      this.boots++;
      this.app.boot();
      this.onBoot?.(this);
    }
  }

  /** One line describing what the boot loader just did. */
  describeBoot(): string {
    const app = this.app;
    const st = app.store.state;
    const parts: string[] = [];
    for (let s = 0; s < 2; s++) {
      const r = app.bootReason[s];
      if (r < 0) continue;
      const si = st.slots[s];
      const v = Buffer.from(si.version.subarray(0, si.versionLen)).toString("utf8");
      parts.push(`slot ${"AB"[s]} ${r === 0 ? "verified" : "FAILED " + reasonName(r)}${v ? ` (v${v.replace(/^v/, "")}, seq ${si.sequence})` : ""}`);
    }
    if (app.reverted) parts.unshift("unconfirmed test image reverted");
    const run =
      app.runningSlot < 0
        ? "no verified image: recovery mode (update protocol only)"
        : `running slot ${"AB"[app.runningSlot]}${app.runMode === RunMode.TEST ? " in TEST mode (confirm, or the next reset reverts)" : ""}`;
    return `boot: ${parts.length ? parts.join("; ") + " -> " : ""}${run}`;
  }

  close(): void {
    this.flash.close();
  }
}
