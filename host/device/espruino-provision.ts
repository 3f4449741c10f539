// Provisioning an Espruino board: the device core and the board glue go into the board's
// Storage (written in pieces the console accepts, read back and checked by SHA-256), then
// the configuration (roots, identity, layout, limits) and last the boot code, so a board
// whose provisioning is interrupted never runs half of it. A board that already holds a
// configuration with other roots or identity is refused unless `force` (which also erases
// its slots and state).
import { rootListText } from "../../formats/host-only/root-slots.js";
import { Limits } from "../../formats/device-safe/limits.js";
import * as fs from "node:fs";
import * as path from "node:path";
import { createHash } from "node:crypto";
import * as zlib from "node:zlib";
import { FwsealError } from "../errors.js";
import { EspruinoConsole } from "./espruino-console.js";
import { packageRoot } from "./conformance.js";

/** Storage file names on the board (kept short: Espruino allows 28 characters). */
export const ESPRUINO_FILES = { core: "fws.core", board: "fws.board", cfg: "fws.cfg", boot: ".boot0" };

/** The board's configuration record (Storage file fws.cfg, JSON), read by device-sim/espruino/board.js. */
export interface EspruinoConfig {
  roots: string; // hex (formats/host-only/root-slots.ts rootListText): Ed25519 keys concatenated; with an HSS/LMS key, entries joined by "+"
  requiredAlgorithms?: number; // hybrid policy: AlgorithmBits the signers must include (SPEC §8.1)
  bootAlgorithms?: number; // AlgorithmBits the boot check verifies (SPEC §8.5)
  vendor: string; // hex, 16 bytes
  class: string; // hex, 16 bytes
  threshold: number;
  rootThreshold: number;
  pageSize: number;
  flashSize: number; // the protocol's flash: state copies, envelopes, two slots (as page files)
  maxChunk: number; // largest bundle chunk accepted (verifier buffer)
  maxData: number; // DATA payload per frame
  window: number;
  stride: number; // resume point persisted every this many image bytes
  maxWindowBits: number; // compressed and delta payloads (SPEC §15): largest deflate window decoded, in bits; 0: no decoder
  idle: number; // seconds of silence that end an update session
  launch: boolean; // the slots hold a JavaScript application to run (false: raw images, verified only)
  /** "recorded": signatures verified at install, the boot check re-hashes the chain against
   *  the recorded signed chain head (SPEC §7); "full": signatures at every start too. */
  bootCheck: "recorded" | "full";
}

/** The defaults: 4 KiB pages, two 68 KiB slots (the layout's flash is 160 KiB of Storage at
 *  most, written pages only), 4 KiB chunks, 2 KiB frames, 4 in flight. */
export function espruinoConfig(roots: Uint8Array[], vendorId: Uint8Array, classId: Uint8Array, over: Partial<EspruinoConfig> = {}): EspruinoConfig {
  const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
  const slot = over.flashSize ? 0 : 68 * 1024;
  return {
    roots: rootListText(roots),
    vendor: hex(vendorId),
    class: hex(classId),
    threshold: 1,
    rootThreshold: 1,
    pageSize: 4096,
    flashSize: 2 * 4096 + 2 * Limits.MAX_ENVELOPE + 2 * slot,
    maxChunk: 4096,
    maxData: 2048,
    window: 4,
    stride: 16384,
    maxWindowBits: 12,
    idle: 5,
    launch: true,
    bootCheck: "recorded",
    ...over
  };
}

/** What provisioning needs besides the port. */
export interface ProvisionOptions {
  port: string;
  baud?: number;
  config: EspruinoConfig;
  force?: boolean;
  /** Raw bytes per written piece (default 384: a 512-character base64 line). */
  piece?: number;
  onLog?: (line: string) => void;
}

/** What was done: bytes written, time taken and the boot line the board printed afterwards. */
export interface ProvisionResult {
  bytes: number;
  ms: number;
  bootLine: string;
  replacedConfig: boolean;
  /** Console commands sent again (after a mangled line or a lost answer). */
  retries: number;
}

const BOOT_CODE = `eval(require("Storage").read("${ESPRUINO_FILES.core}"));eval(require("Storage").read("${ESPRUINO_FILES.board}"));`;

function packageFile(rel: string): string {
  const p = path.join(packageRoot(), rel);
  if (!fs.existsSync(p)) throw new FwsealError("USAGE", `${rel} not found: run npm run build first`);
  return p;
}

/** The two programs provisioning uploads: the minified ES5 core and the board glue. */
export function espruinoPrograms(): { core: Buffer; board: Buffer } {
  return { core: fs.readFileSync(packageFile("build/fwseal-core.min.js")), board: fs.readFileSync(packageFile("device-sim/espruino/board.js")) };
}

function sha256b64(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("base64");
}

// The board-side writer every piece goes through: it writes only when the CRC-32 of the
// piece's name, offset, file size and bytes, computed on the board over what arrived, equals
// the host's, so a line mangled on the way either fails to parse, names no function, or
// answers "crc" - it never writes other bytes or elsewhere. Writing a piece again is harmless
// (same bytes at the same place; the first piece creates the file afresh). The writer's own
// source is checked the same way before it is defined.
const WRITER = `function fwsW(n,o,l,b,c){var d=atob(b);if(E.CRC32(n+","+o+","+l+","+d)!==c)return "crc";var S=require("Storage");return o?S.write(n,d,o):S.write(n,d,0,l)}`;

function crc(text: string, data: Uint8Array = new Uint8Array(0)): number {
  return zlib.crc32(data, zlib.crc32(Buffer.from(text, "latin1")));
}

/** Defines the checked piece writer (above) on the board; idempotent. */
export async function defineWriter(con: EspruinoConsole): Promise<void> {
  const b64 = Buffer.from(WRITER).toString("base64");
  await con.evaluateRetrying(`E.CRC32(fwsS=atob("${b64}"))===${crc(WRITER)}?(eval(fwsS),typeof fwsW):"crc"`, { accept: (r) => r === "function" });
}

/** How many times a whole file is written again when its read-back hash differs. */
const FILE_ATTEMPTS = 3;

/** Writes one Storage file in pieces through the checked writer (defineWriter() first), each
 *  piece acknowledged by the board, and checks the whole file by SHA-256 read back from the
 *  board; a file that reads back different is written again from the start. */
export async function uploadFile(con: EspruinoConsole, name: string, data: Uint8Array, piece = 384, onRetry?: (why: string) => void): Promise<void> {
  const S = `require("Storage")`;
  const quoted = JSON.stringify(name);
  for (let attempt = 1; ; attempt++) {
    for (let off = 0; off < data.length || off === 0; off += piece) {
      const part = data.subarray(off, off + piece);
      const b64 = Buffer.from(part).toString("base64");
      const c = crc(`${name},${off},${data.length},`, part);
      const r = await con.evaluateRetrying(`fwsW(${quoted},${off},${data.length},"${b64}",${c})`, { accept: (x) => x === "true" || x === "false", onRetry });
      if (r !== "true") throw new FwsealError("DEVICE", `${con.path}: Storage.write ${name} at ${off} failed (${r}); is Storage full?`);
      if (data.length === 0) break;
    }
    const got = await con.evaluateRetrying(`btoa(require("crypto").SHA256(${S}.read(${quoted})||""))`, { accept: (x) => /^[A-Za-z0-9+/]{43}=$/.test(x), onRetry });
    if (got === sha256b64(data)) return;
    if (attempt >= FILE_ATTEMPTS) throw new FwsealError("DEVICE", `${con.path}: ${name} read back differs from what was written (${attempt} attempts)`);
    onRetry?.(`${name} read back differs; writing it again`);
    await con.evaluateRetrying(`${S}.erase(${quoted})||"erased"`, { accept: (x) => x === "erased" });
  }
}

/** Provisions (or re-provisions with the same roots and identity) an Espruino board. */
export async function provisionEspruino(o: ProvisionOptions): Promise<ProvisionResult> {
  const log = o.onLog ?? (() => undefined);
  const t0 = Date.now();
  const con = await EspruinoConsole.open(o.port, o.baud ?? 115200);
  try {
    await con.sync();
    const S = `require("Storage")`;
    const old = await con.evaluateRetrying(`${S}.read("${ESPRUINO_FILES.cfg}")||"none"`);
    const cfgText = JSON.stringify(o.config);
    let replaced = false;
    if (old !== "none") {
      let same = false;
      try {
        const c = JSON.parse(old) as EspruinoConfig;
        same = c.roots === o.config.roots && c.vendor === o.config.vendor && c.class === o.config.class;
      } catch {
        same = false;
      }
      if (!same && !o.force) throw new FwsealError("USAGE", `${o.port}: the board is already provisioned with other roots or identity; refusing to replace them (use --force, which also erases its slots)`);
      replaced = !same;
    }
    if (o.force) {
      // Everything fwseal keeps on the board, including the slots and the state record.
      await con.evaluateRetrying(`${S}.list(/^fws\\./).forEach(function(f){${S}.erase(f)})||${S}.erase(".boot0")||"ok"`, { timeoutMs: 30000, accept: (r) => r === "ok" });
      log("erased the board's fwseal files");
    }
    const { core, board } = espruinoPrograms();
    const files: [string, Uint8Array][] = [
      [ESPRUINO_FILES.core, core],
      [ESPRUINO_FILES.board, board],
      [ESPRUINO_FILES.cfg, Buffer.from(cfgText)],
      [ESPRUINO_FILES.boot, Buffer.from(BOOT_CODE)]
    ];
    let bytes = 0;
    let retries = 0;
    const onRetry = (why: string) => {
      retries++;
      log(`console: ${why}; re-synchronised and sent again`);
    };
    await defineWriter(con);
    for (const [name, data] of files) {
      await uploadFile(con, name, data, o.piece ?? 384, onRetry);
      bytes += data.length;
      log(`wrote ${name} (${data.length} bytes, checked by SHA-256)`);
    }
    // Restart the interpreter: the boot code runs the boot check and prints its line. (A
    // mangled load() line is typed again; a second restart is harmless.)
    for (let i = 0; ; i++) {
      await con.write(`\x1b[2H\x10load()\n`);
      try {
        const m = await con.waitFor(/FWSEAL boot [^\r\n]*(?=\r?\n)/, 30000, "boot after provisioning");
        return { bytes, ms: Date.now() - t0, bootLine: m[0], replacedConfig: replaced, retries };
      } catch (e) {
        if (i >= 2 || !(e instanceof FwsealError)) throw e;
        onRetry("no boot line after load()");
        await con.sync();
      }
    }
  } finally {
    await con.close();
  }
}
