// The Espruino target end to end, on the real interpreter: Espruino's Linux build (named by
// ESPRUINO_BIN, e.g. built with VARIABLES=12000 by scripts/build-espruino.sh) behind a pty,
// talked to only through its console. Provisioning, install of a signed JavaScript
// application, reboot into it through the boot check, confirm, a tampered bundle, and a power
// cut (SIGKILL) in the middle of an install followed by a verified boot of the old image and a
// resumed install. Without ESPRUINO_BIN the suite is skipped, with the reason in its name.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { espruinoBinary, startBoard, type EspruinoBoard } from "../helpers/espruino-board.js";
import { makeKeys, type TestKeys } from "../helpers/keys.js";
import { makeBundle, VENDOR, CLASS, OTHER_CLASS } from "../helpers/device.js";
import { sampleImage } from "../helpers/images.js";
import { tempDir } from "../helpers/cli.js";
import { flashDevice } from "../../host/device/flash.js";
import { EspruinoConsole } from "../../host/device/espruino-console.js";
import { provisionEspruino, espruinoConfig, defineWriter, uploadFile, type EspruinoConfig } from "../../host/device/espruino-provision.js";
import { FwsealError } from "../../host/errors.js";
import { Reason } from "../../formats/device-safe/reasons.js";
import { inspectBytes } from "../../host/bundle/inspect.js";

const { bin, why } = espruinoBinary();
const suite = bin ? describe : describe.skip;

/** A JavaScript application image of about `size` bytes that sets the global appVersion. */
function jsApp(version: number, size = 0): Uint8Array {
  const code = `var appVersion=${version};print("app v${version} running");`;
  return new Uint8Array(Buffer.from(size > code.length + 4 ? code + "/*" + "x".repeat(size - code.length - 4) + "*/" : code));
}

async function query(port: string, expr: string, timeoutMs = 120000): Promise<string> {
  const con = await EspruinoConsole.open(port);
  try {
    await con.sync(timeoutMs);
    return await con.evaluate(expr, timeoutMs);
  } finally {
    await con.close();
  }
}

const BOARD_STATE = `fwsealBoard.app.runningSlot+","+fwsealBoard.app.runMode+","+fwsealBoard.app.bootReason[0]+","+fwsealBoard.app.bootReason[1]+","+(typeof appVersion==="undefined"?"-":appVersion)`;

function report(line: string): void {
  // Measurements for the closing notes (SPEC §9, README): visible in the test output.
  process.stdout.write(`espruino: ${line}\n`);
}

/** Powers a suite's board off and removes its folder. */
async function shutdown(board: EspruinoBoard | undefined, dir: string | undefined): Promise<void> {
  await board?.powerCut();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

/** Provisions a started board (the caller keeps it, so it is powered off even if this fails). */
async function provision(keys: TestKeys, board: EspruinoBoard, over: Partial<EspruinoConfig>): Promise<void> {
  const r = await provisionEspruino({ port: board.port, config: espruinoConfig([keys.root.publicKey], VENDOR, CLASS, over) });
  report(`provisioned ${r.bytes} bytes in ${r.ms} ms; ${r.bootLine}`);
  expect(r.bootLine).toMatch(/FWSEAL boot slot=- /);
  // The Linux build's Storage is a file, not memory-mapped flash: the board runs Ed25519's
  // field arithmetic from RAM copies (device-sim/espruino/board.js), which the core accepted.
  expect(r.bootLine).toMatch(/ field=ram$/);
}

suite(`Espruino board (${bin ? "ESPRUINO_BIN" : why})`, () => {
  let keys: TestKeys;
  let board: EspruinoBoard;
  let dir: string;
  const idle = 2;

  beforeAll(async () => {
    keys = await makeKeys();
    dir = tempDir("fwseal-espruino-");
    board = await startBoard(bin as string, path.join(dir, "board"));
    await provision(keys, board, { idle });
  });
  afterAll(() => shutdown(board, dir));

  it("refuses to replace the roots of a provisioned board without force", async () => {
    const other = await makeKeys();
    await expect(provisionEspruino({ port: board.port, config: espruinoConfig([other.root.publicKey], VENDOR, CLASS) })).rejects.toThrow(/already provisioned/);
  });

  it("installs a signed application, boots it through the boot check, confirms it and runs it", async () => {
    const bundle = await makeBundle(keys, { image: jsApp(1, 12000), sequence: 1 });
    const res = await flashDevice({ port: board.port, espruino: true, bundle, reboot: true, confirm: true, slowTimeoutMs: 120000 });
    expect(res.outcome).toBe("installed");
    expect(res.boot?.runningSlot).toBe(0);
    expect(res.boot?.bootCheck[0]).toBe(Reason.OK);
    expect(res.confirmed?.sequence).toBe(1);
    report(`install of a ${bundle.length}-byte bundle: ${res.transfer?.ms} ms, payload/wire ${res.transfer?.payloadOverWire.toFixed(3)}`);
    await new Promise((r) => setTimeout(r, (idle + 1) * 1000)); // the session ends, the app starts
    expect(await query(board.port, BOARD_STATE)).toBe("0,1,0,-1,1");
    // The signatures were verified at install: the boot check only re-hashed the image.
    expect(await query(board.port, "fwsealBoard.bootPath")).toBe("recorded");
    report(`peak variables so far (no GC before reading): ${await query(board.port, "fwsealBoard.peak")}`);
  });

  it("refuses a tampered bundle and a bundle for another class; the running application stays", async () => {
    const good = await makeBundle(keys, { image: jsApp(2, 12000), sequence: 2 });
    const bad = good.slice();
    bad[bad.length - 100] ^= 1;
    const e1 = await flashDevice({ port: board.port, espruino: true, bundle: bad, slowTimeoutMs: 120000 }).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(FwsealError);
    expect((e1 as FwsealError).reason).toBe(Reason.CHUNK_HASH_MISMATCH);
    const wrong = await makeBundle(keys, { image: jsApp(2), sequence: 2, classId: OTHER_CLASS });
    const e2 = await flashDevice({ port: board.port, espruino: true, bundle: wrong, force: true, slowTimeoutMs: 120000 }).catch((e: unknown) => e);
    expect((e2 as FwsealError).reason).toBe(Reason.WRONG_CLASS);
    await new Promise((r) => setTimeout(r, (idle + 1) * 1000));
    expect(await query(board.port, BOARD_STATE)).toBe("0,1,0,-1,1");
  });

  it("survives a power cut in the middle of an install: boots the verified old image, then resumes", async () => {
    const bundle = await makeBundle(keys, { image: jsApp(3, 30000), sequence: 3 });
    let cut: Promise<void> | null = null;
    const first = await flashDevice({
      port: board.port,
      espruino: true,
      bundle,
      slowTimeoutMs: 120000,
      retries: 1,
      onProgress: (p) => {
        if (!cut && p.acked >= 20000) cut = board.powerCut();
      }
    }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(Error);
    await cut;
    board = await startBoard(bin as string, path.join(dir, "board"));
    // Power back: the boot check verifies the old image and the launcher runs it.
    expect(await query(board.port, BOARD_STATE)).toBe("0,1,0,-1,1");
    const res = await flashDevice({ port: board.port, espruino: true, bundle, resume: true, reboot: true, confirm: true, slowTimeoutMs: 120000 });
    expect(res.resumedFrom).toBeGreaterThan(0);
    expect(res.boot?.runningSlot).toBe(1);
    report(`resumed at byte ${res.resumedFrom} of ${bundle.length}`);
    await new Promise((r) => setTimeout(r, (idle + 1) * 1000));
    expect(await query(board.port, BOARD_STATE)).toBe("1,1,-1,0,3");
    report(`peak variables (no GC before reading): ${await query(board.port, "fwsealBoard.peak")}; after GC now: ${await query(board.port, "process.memory().usage")}`);
  });
});

suite(`Espruino board, 64 KiB raw image (${bin ? "ESPRUINO_BIN" : why})`, () => {
  let board: EspruinoBoard;
  let dir: string;
  afterAll(() => shutdown(board, dir));

  it("installs a 64 KiB image and boot-checks it", async () => {
    const keys = await makeKeys();
    dir = tempDir("fwseal-espruino-raw-");
    board = await startBoard(bin as string, path.join(dir, "board"));
    await provision(keys, board, { launch: false, idle: 2 });
    const bundle = await makeBundle(keys, { image: sampleImage(65536, 7), sequence: 1 });
    const res = await flashDevice({ port: board.port, espruino: true, bundle, reboot: true, slowTimeoutMs: 120000 });
    expect(res.boot?.bootCheck[0]).toBe(Reason.OK);
    const t = res.transfer;
    report(`64 KiB image (${bundle.length}-byte bundle): ${t?.ms} ms, ${Math.round(t?.bytesPerSec ?? 0)} B/s, payload/wire ${t?.payloadOverWire.toFixed(3)}, retransmits ${t?.retransmits}`);
    await new Promise((r) => setTimeout(r, 3000));
    report(`boot line state ${await query(board.port, BOARD_STATE)}; peak variables ${await query(board.port, "fwsealBoard.peak")}`);
  });
});

suite(`Espruino console link under mangled lines (${bin ? "ESPRUINO_BIN" : why})`, () => {
  let board: EspruinoBoard;
  let dir: string;
  afterAll(() => shutdown(board, dir));

  it("refuses a mangled piece, recovers from a half-typed line and is unharmed by a replayed line", async () => {
    dir = tempDir("fwseal-espruino-con-");
    board = await startBoard(bin as string, path.join(dir, "board"));
    const con = await EspruinoConsole.open(board.port);
    try {
      // A half-typed line with an open string and bracket, as a line cut short leaves it:
      // without the erase before each command the REPL would swallow the next line.
      await con.write('\x10print("#0:"+(function(){return "');
      await con.sync();
      await defineWriter(con);
      const data = new Uint8Array(Buffer.from("x".repeat(700) + "end"));
      // The first piece as the writer expects it, then with one byte of its base64 changed
      // on the way: the board computes a different CRC and writes nothing.
      const b64 = Buffer.from(data.subarray(0, 384)).toString("base64");
      const good = await con.evaluate(`fwsW("fws.t",0,${data.length},"${b64}",${crc32(data.subarray(0, 384), "fws.t,0," + data.length + ",")})`);
      expect(good).toBe("true");
      const mangled = b64.slice(0, 100) + (b64[100] === "A" ? "B" : "A") + b64.slice(101);
      expect(await con.evaluate(`fwsW("fws.t",384,${data.length},"${mangled}",${crc32(data.subarray(384, 768), "fws.t,384," + data.length + ",")})`)).toBe("crc");
      // A wrong offset (a digit changed on the way) is refused the same way.
      expect(await con.evaluate(`fwsW("fws.t",385,${data.length},"${b64}",${crc32(data.subarray(384, 768), "fws.t,384," + data.length + ",")})`)).toBe("crc");
      const retries: string[] = [];
      await uploadFile(con, "fws.t", data, 384, (w) => retries.push(w));
      // A stale line replayed later (the failure seen on a loaded host) writes the same bytes
      // at the same place: the file still reads back identical.
      expect(await con.evaluate(`fwsW("fws.t",0,${data.length},"${b64}",${crc32(data.subarray(0, 384), "fws.t,0," + data.length + ",")})`)).toBe("true");
      await uploadFile(con, "fws.t", data, 384, (w) => retries.push(w));
      expect(await con.evaluate(`require("Storage").read("fws.t")`)).toBe("x".repeat(700) + "end");
      report(`console link: retries ${retries.length}`);
    } finally {
      await con.close();
    }
  });
});

/** CRC-32 of a text prefix followed by bytes, as the board's checked writer computes it. */
function crc32(data: Uint8Array, prefix: string): number {
  return zlib.crc32(data, zlib.crc32(Buffer.from(prefix, "latin1")));
}

suite(`Espruino Storage compaction under a power cut (${bin ? "ESPRUINO_BIN" : why})`, () => {
  let board: EspruinoBoard;
  let dir: string;
  afterAll(() => shutdown(board, dir));

  it("power cuts while an install fills Storage and makes it compact: every restart boots the verified image or recovery, the install completes", async () => {
    const keys = await makeKeys();
    dir = tempDir("fwseal-espruino-compact-");
    const at = path.join(dir, "board");
    board = await startBoard(bin as string, at);
    await provision(keys, board, { launch: false, idle: 2 });
    const b1 = await makeBundle(keys, { image: sampleImage(60000, 1), sequence: 1 });
    const r1 = await flashDevice({ port: board.port, espruino: true, bundle: b1, reboot: true, confirm: true, slowTimeoutMs: 120000 });
    expect(r1.confirmed?.sequence).toBe(1);
    await new Promise((r) => setTimeout(r, 3000));
    const stats = JSON.parse(await query(board.port, `JSON.stringify(require("Storage").getStats())`)) as { freeBytes: number; trashBytes: number };
    report(`Storage before the second install: ${JSON.stringify(stats)}`);
    // The second image takes what Storage can give less 256 bytes, counted as the board does
    // before an install (device-sim/espruino/board.js slotCanHold: free and trash bytes; image,
    // envelope, 32 bytes per page and 1 KiB of state records): more than is free, so Storage
    // compacts during the install, however large the core and the glue in Storage have become.
    const envelope = inspectBytes(b1, b1.length).envelopeSize; // same keys: same envelope size
    const room = stats.freeBytes + stats.trashBytes - 256;
    const needs = (image: number): number => image + envelope + ((((image + envelope) / 4096) | 0) + 4) * 32 + 1024;
    let size = room - envelope;
    while (needs(size) > room) size -= 16;
    report(`second image: ${size} bytes`);
    const b2 = await makeBundle(keys, { image: sampleImage(size, 2), sequence: 2 });
    // The second image's pages, its envelope's and the state record's rewrites do not fit in
    // the free space: Storage compacts during the install.
    expect(stats.freeBytes).toBeLessThan(b2.length + 2 * 4096);
    // Cut the power at points spread over the install, so cuts fall before, around and after
    // the compaction (Storage's trash figures after each restart show where it ran).
    // (With this layout it compacts between bytes 24,576 and 36,864: cuts are denser there.)
    const cuts = [12288, 24576, 28672, 32768, 36864, 49152];
    for (const c of cuts) {
      let cut: Promise<void> | null = null;
      await flashDevice({
        port: board.port,
        espruino: true,
        bundle: b2,
        resume: true,
        slowTimeoutMs: 120000,
        retries: 1,
        onProgress: (p) => {
          if (!cut && p.acked >= c) cut = board.powerCut();
        }
      }).catch((e: unknown) => e);
      await cut;
      board = await startBoard(bin as string, at);
      const state = await query(board.port, BOARD_STATE);
      const after = await query(board.port, `JSON.stringify(require("Storage").getStats())`);
      report(`cut at byte ${c}: board state ${state}; Storage ${after}`);
      // slot A, normal mode, its boot check OK; or recovery (no slot) - never anything unverified.
      expect(state).toMatch(/^(0,1,0,-?\d+,-|-1,0,-?\d+,-?\d+,-)$/);
    }
    const res = await flashDevice({ port: board.port, espruino: true, bundle: b2, resume: true, reboot: true, confirm: true, slowTimeoutMs: 120000 });
    expect(res.boot?.runningSlot).toBe(1);
    expect(res.boot?.bootCheck[1]).toBe(Reason.OK);
    expect(res.confirmed?.sequence).toBe(2);
    report(`after the cuts: resumed at ${res.resumedFrom}, image 2 boots from slot B`);
  }, 900_000);
});
