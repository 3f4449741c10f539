// Compressed and delta payloads on the Espruino target (the real interpreter named by
// ESPRUINO_BIN, behind a pty; formats/SPEC.md §15): a JavaScript application installed raw,
// then compressed with a power cut in the middle (the board restarts on the verified old
// application and the install resumes from its persisted decoder state), then as a delta
// against the running application; a delta for another application is WRONG_PRECURSOR. The
// core's decoder runs in the interpreter with the board's 12,000 variables. Without
// ESPRUINO_BIN the suite is skipped, with the reason in its name.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { espruinoBinary, startBoard, type EspruinoBoard } from "../helpers/espruino-board.js";
import { EspruinoConsole } from "../../host/device/espruino-console.js";
import { randomSigner } from "../helpers/keys.js";
import { VENDOR, CLASS } from "../helpers/device.js";
import { tempDir } from "../helpers/cli.js";
import { flashDevice } from "../../host/device/flash.js";
import { provisionEspruino, espruinoConfig } from "../../host/device/espruino-provision.js";
import { buildBundle, buildEncodedBundle } from "../../formats/host-only/bundle-builder.js";
import { encodePayload } from "../../host/bundle/encode-payload.js";
import { chainHeadOf } from "../../host/bundle/precursor.js";
import { FwsealError } from "../../host/errors.js";
import { Reason } from "../../formats/device-safe/reasons.js";

const { bin, why } = espruinoBinary();
const suite = bin ? describe : describe.skip;
// Smaller than the board's 4 KiB pages and 2 KiB frames: chunks and decoded pieces land inside pages.
const CS = 1024;

/**
 * A JavaScript application of about `size` bytes that sets appVersion; the rest is a comment
 * of text-like lines (code and strings compress like this; a comment costs the board no
 * variables). `tweak` changes one line, as a small source change does.
 */
function jsApp(version: number, size: number, tweak = -1): Uint8Array {
  let code = `var appVersion=${version};print("app v${version} running");\n/*\n`;
  for (let i = 0; code.length < size - 3; i++) code += `  function f${i}(x) { return x * ${i} + ${(i * 7 + (i === tweak ? 5 : 0)) % 13}; } // sensor table ${i % 17}\n`;
  return new Uint8Array(Buffer.from(code + "*/\n"));
}

async function query(port: string, expr: string): Promise<string> {
  const con = await EspruinoConsole.open(port);
  try {
    await con.sync(120000);
    return await con.evaluate(expr, 120000);
  } finally {
    await con.close();
  }
}

const APP = `(typeof appVersion==="undefined"?"-":appVersion)+","+fwsealBoard.app.runMode`;

suite(`Espruino board, compressed and delta payloads (${bin ? "ESPRUINO_BIN" : why})`, () => {
  let board: EspruinoBoard;
  let dir: string;
  const root = randomSigner();
  const V1 = jsApp(1, 24000);
  const V2 = jsApp(2, 24000, 40);
  const V3 = jsApp(3, 24500, 200);
  const sha256 = (d: Uint8Array): Uint8Array => new Uint8Array(createHash("sha256").update(d).digest());
  const opts = (seq: number) => ({ vendorId: VENDOR, classId: CLASS, sequence: seq, version: `e${seq}`, chunkSize: CS, sha256 });
  const encoded = async (image: Uint8Array, seq: number, precursor?: Uint8Array): Promise<Uint8Array> => {
    const e = await encodePayload(image, CS, precursor ? { kind: "delta", precursor: { image: precursor, chainHead: await chainHeadOf(precursor, CS) } } : { kind: "compressed" });
    const { wireSize: _s, wireChunkCount: _c, wireChainHead: _h, ...spec } = e.params;
    return buildEncodedBundle(image, e.wire, spec, opts(seq), [root.signer]);
  };

  beforeAll(async () => {
    dir = tempDir("fwseal-espruino-encoded-");
    board = await startBoard(bin as string, path.join(dir, "board"));
    const r = await provisionEspruino({ port: board.port, config: espruinoConfig([root.keyPair.publicKey], VENDOR, CLASS, { idle: 2, stride: 4096, ...(process.env.MW_TRY ? { maxWindowBits: Number(process.env.MW_TRY) } : {}) }) });
    process.stdout.write(`espruino encoded: provisioned ${r.bytes} bytes in ${r.ms} ms; ${r.bootLine}\n`);
  }, 300_000);
  afterAll(async () => {
    await board?.powerCut();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const step = (what: string): void => void process.stdout.write(`espruino encoded: ${what} at ${new Date().toISOString()}\n`);

  it("raw, then compressed cut mid-install and resumed, then a delta: each runs; a delta for another image is refused", async () => {
    const raw = await buildBundle(V1, opts(1), [root.signer]);
    expect((await flashDevice({ port: board.port, espruino: true, bundle: raw, reboot: true, confirm: true, slowTimeoutMs: 120000 })).outcome).toBe("installed");

    step("raw v1 installed");
    const compressed = await encoded(V2, 2);
    expect(compressed.length).toBeLessThan(raw.length / 3);
    let cut: Promise<void> | null = null;
    const first = await flashDevice({
      port: board.port, espruino: true, bundle: compressed, slowTimeoutMs: 120000, retries: 1,
      onProgress: (p) => {
        if (!cut && p.acked >= compressed.length * 0.6) cut = board.powerCut();
      }
    }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(Error);
    await cut;
    step("power cut during the compressed install");
    board = await startBoard(bin as string, path.join(dir, "board"));
    await new Promise((r) => setTimeout(r, 3000));
    expect(await query(board.port, APP)).toBe("1,1"); // the verified old application runs
    step("restarted on v1");
    const r2 = await flashDevice({ port: board.port, espruino: true, bundle: compressed, resume: true, reboot: true, confirm: true, slowTimeoutMs: 120000 });
    expect(r2.resumedFrom ?? 0).toBeGreaterThan(0);
    expect(r2.boot?.bootCheck[r2.boot.runningSlot]).toBe(Reason.OK);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await query(board.port, APP)).toBe("2,1");

    step("compressed v2 resumed and running");
    const delta = await encoded(V3, 3, V2);
    expect(delta.length).toBeLessThan(compressed.length / 3);
    const r3 = await flashDevice({ port: board.port, espruino: true, bundle: delta, reboot: true, confirm: true, slowTimeoutMs: 120000 });
    expect(r3.boot?.bootCheck[r3.boot.runningSlot]).toBe(Reason.OK);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await query(board.port, APP)).toBe("3,1");

    const wrong = await flashDevice({ port: board.port, espruino: true, bundle: await encoded(V3, 4, V1), slowTimeoutMs: 120000 }).catch((x: unknown) => x);
    expect(wrong).toBeInstanceOf(FwsealError);
    expect((wrong as FwsealError).reason).toBe(Reason.WRONG_PRECURSOR);
    process.stdout.write(`espruino encoded: raw ${raw.length} bytes, compressed ${compressed.length}, delta ${delta.length}; peak variables ${await query(board.port, "fwsealBoard.peak")}\n`);
  }, 900_000);
});
