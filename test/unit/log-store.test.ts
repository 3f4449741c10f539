// The log kept in a directory (tiles, entry bundles, checkpoint), a witness that refuses a
// fork, and a monitor that reports an unexpected entry: all through the published files.
import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { appendEntries, folderSource, initLog, mergeCosignatures, proofsFor, publishCheckpoint, readEntries, readLogConfig, PUBLIC_DIR } from "../../host/log/log-store.js";
import { leafHash, verifyInclusion, verifyConsistency } from "../../host/log/merkle.js";
import { NoteSigType, noteSigningKey, parseNote } from "../../host/log/note.js";
import { verifyCosignature } from "../../host/log/cosignature.js";
import { witnessCheckpoint, WitnessRefusal } from "../../host/log/witness.js";
import { monitorLog } from "../../host/log/monitor.js";
import { encodeLogEntry, type LogEntry } from "../../formats/host-only/log-proof.js";
import { generateKeyPair } from "../../host/keys/keys.js";

const tmp = (): string => mkdtempSync(path.join(tmpdir(), "fwseal-log-"));
const logKey = noteSigningKey("log.example/fw", NoteSigType.ED25519, generateKeyPair().privateKey);
const wKey = noteSigningKey("witness.example/w1", NoteSigType.COSIGNATURE_V1, generateKeyPair().privateKey);

function entry(i: number, kid: number): LogEntry {
  return {
    manifestDigest: new Uint8Array(32).fill(i & 255),
    signerKeyIds: [new Uint8Array(8).fill(kid)],
    envelopeDigest: new Uint8Array(32).fill((i + 1) & 255),
    vendorId: new Uint8Array(16).fill(1),
    classId: new Uint8Array(16).fill(2),
    sequence: i,
    version: `1.0.${i}`,
    loggedAt: 1_700_000_000 + i
  };
}

describe("log directory", () => {
  it("appends across calls, writes full and partial tiles, and proves from them", async () => {
    const dir = tmp();
    try {
      initLog(dir, logKey);
      const all = Array.from({ length: 600 }, (_, i) => encodeLogEntry(entry(i, 5)));
      const a = appendEntries(dir, all.slice(0, 300));
      expect(a).toMatchObject({ firstIndex: 0, size: 300 });
      const b = appendEntries(dir, all.slice(300));
      expect(b).toMatchObject({ firstIndex: 300, size: 600 });
      const pub = path.join(dir, PUBLIC_DIR);
      for (const f of ["tile/0/000", "tile/0/001", "tile/0/002.p/88", "tile/1/000.p/2", "tile/entries/000", "tile/entries/002.p/88", "tile/0/001.p/44"]) {
        expect(existsSync(path.join(pub, f)), f).toBe(true);
      }
      const cp = (await publishCheckpoint(dir, logKey)).checkpoint;
      expect(cp.size).toBe(600);
      const src = folderSource(pub);
      expect(await readEntries(src, 600, 250, 260)).toEqual(all.slice(250, 260));
      const { inclusion, consistency } = await proofsFor(src, 600, { index: 517, from: 300 });
      expect(verifyInclusion(leafHash(all[517]), 517, 600, inclusion!, cp.root)).toBe(true);
      expect(consistency!.length).toBeGreaterThan(0);
      expect(readLogConfig(dir).size).toBe(600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a witness cosigns consistent growth, refuses a fork and a rollback; cosignatures merge into the checkpoint", async () => {
    const dir = tmp();
    const fork = tmp();
    const state = path.join(tmp(), "w1.json");
    try {
      initLog(dir, logKey);
      appendEntries(dir, [1, 2, 3].map((i) => encodeLogEntry(entry(i, 5))));
      let note = (await publishCheckpoint(dir, logKey)).note;
      const src = folderSource(path.join(dir, PUBLIC_DIR));
      const first = await witnessCheckpoint({ note: readFileSync(path.join(dir, PUBLIC_DIR, "checkpoint"), "utf8"), logKey, source: src, witnessKey: wKey, stateFile: state, now: 1000 });
      expect(first.previousSize).toBeNull();
      appendEntries(dir, [4, 5].map((i) => encodeLogEntry(entry(i, 5))));
      await publishCheckpoint(dir, logKey);
      const second = await witnessCheckpoint({ note: readFileSync(path.join(dir, PUBLIC_DIR, "checkpoint"), "utf8"), logKey, source: src, witnessKey: wKey, stateFile: state, now: 1001 });
      expect(second.previousSize).toBe(3);
      expect(second.proofHashes).toBeGreaterThan(0);
      const merged = mergeCosignatures(dir, [second.note]);
      expect(verifyCosignature(parseNote(merged), wKey)).toBe(1001);
      void note;

      // The same log key signs a different history of 6 entries: the witness refuses it.
      initLog(fork, logKey);
      appendEntries(fork, [1, 2, 9, 4, 5, 6].map((i) => encodeLogEntry(entry(i, 5))));
      note = (await publishCheckpoint(fork, logKey)).note;
      const forkSrc = folderSource(path.join(fork, PUBLIC_DIR));
      const err = await witnessCheckpoint({ note: readFileSync(path.join(fork, PUBLIC_DIR, "checkpoint"), "utf8"), logKey, source: forkSrc, witnessKey: wKey, stateFile: state, now: 1002 }).catch((e) => e);
      expect(err).toBeInstanceOf(WitnessRefusal);
      expect((err as WitnessRefusal).kind).toBe("fork");
      // An older checkpoint is a rollback.
      const old = tmp();
      initLog(old, logKey);
      appendEntries(old, [1].map((i) => encodeLogEntry(entry(i, 5))));
      await publishCheckpoint(old, logKey);
      const rb = await witnessCheckpoint({ note: readFileSync(path.join(old, PUBLIC_DIR, "checkpoint"), "utf8"), logKey, source: folderSource(path.join(old, PUBLIC_DIR)), witnessKey: wKey, stateFile: state, now: 1003 }).catch((e) => e);
      expect((rb as WitnessRefusal).kind).toBe("rollback");
      rmSync(old, { recursive: true, force: true });
    } finally {
      for (const d of [dir, fork, path.dirname(state)]) rmSync(d, { recursive: true, force: true });
    }
  });

  it("a monitor follows the log and reports a watched key's entry that is not an expected release", async () => {
    const dir = tmp();
    const state = path.join(tmp(), "monitor.json");
    try {
      initLog(dir, logKey);
      appendEntries(dir, [1, 2].map((i) => encodeLogEntry(entry(i, 5))));
      await publishCheckpoint(dir, logKey);
      const src = folderSource(path.join(dir, PUBLIC_DIR));
      const expected = new Set([Buffer.from(entry(1, 5).manifestDigest).toString("hex"), Buffer.from(entry(2, 5).manifestDigest).toString("hex")]);
      const watch = [Buffer.alloc(8, 5).toString("hex")];
      const r1 = await monitorLog({ source: src, logKey, watch, expected, stateFile: state });
      expect(r1).toMatchObject({ previousSize: 0, size: 2, entriesChecked: 2 });
      expect(r1.unexpected).toEqual([]);
      appendEntries(dir, [encodeLogEntry(entry(3, 7)), encodeLogEntry(entry(4, 5))]);
      await publishCheckpoint(dir, logKey);
      const r2 = await monitorLog({ source: src, logKey, watch, expected, stateFile: state });
      expect(r2).toMatchObject({ previousSize: 2, size: 4, entriesChecked: 2 });
      expect(r2.unexpected.map((u) => u.index)).toEqual([3]);
      expect(r2.unexpected[0].entry.version).toBe("1.0.4");
    } finally {
      for (const d of [dir, path.dirname(state)]) rmSync(d, { recursive: true, force: true });
    }
  });
});
