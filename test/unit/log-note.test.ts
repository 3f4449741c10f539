// C2SP signed notes, checkpoints and cosignatures of the host log library, byte for byte
// against the examples of the specifications and of the Go checksum database
// (test/vectors/signed-note, see SOURCES.md).
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import path from "node:path";
import { STANDARD_VECTORS } from "../helpers/standard-vectors.js";
import {
  NoteSigType, formatNote, formatVerifierKey, noteKeyId, noteSigningKey, parseNote, parseSignerKey, parseVerifierKey, signNoteText, verifyNoteSignature
} from "../../host/log/note.js";
import { formatCheckpoint, openCheckpoint, parseCheckpointText, signCheckpoint } from "../../host/log/checkpoint.js";
import { cosign, cosignedMessage, verifyCosignature } from "../../host/log/cosignature.js";
import { generateKeyPair } from "../../host/keys/keys.js";

const vectors = JSON.parse(readFileSync(path.join(STANDARD_VECTORS, "signed-note/notes.json"), "utf8")) as Record<string, Record<string, string>>;

describe("signed notes against published examples", () => {
  it("signs the Go checksum database's example note byte for byte", () => {
    const v = vectors["go-sumdb-note-sign"];
    const key = parseSignerKey(v.skey);
    expect(key.name).toBe("PeterNeumann");
    expect(formatVerifierKey(key)).toBe(v.vkey);
    expect(noteKeyId(key.name, NoteSigType.ED25519, key.publicKey).toString(16)).toBe("c74f20a3");
    const note = formatNote({ text: v.text, signatures: [signNoteText(v.text, key)] });
    expect(note).toBe(v.note);
    expect(Buffer.from(note, "utf8").equals(Buffer.from(v.note, "utf8"))).toBe(true);
  });

  it("verifies the C2SP signed-note example with its vkey, and re-serialises it byte for byte", () => {
    const v = vectors["c2sp-signed-note-example"];
    const key = parseVerifierKey(v.vkey);
    const n = parseNote(Buffer.from(v.note, "utf8"));
    expect(n.text).toBe("This is an example message.\n");
    expect(verifyNoteSignature(n, key)).toBe(true);
    expect(formatNote(n)).toBe(v.note);
    // One changed byte of text fails.
    expect(verifyNoteSignature({ ...n, text: "This is an example message!\n" }, key)).toBe(false);
  });

  it("parses the C2SP cosigned checkpoint example: log signature and a 72-byte timestamped cosignature", () => {
    const n = parseNote(vectors["c2sp-cosigned-checkpoint-example"].note);
    const cp = parseCheckpointText(n.text);
    expect(cp).toMatchObject({ origin: "example.com/behind-the-sofa", size: 20852163 });
    expect(n.signatures.map((s) => s.name)).toEqual(["example.com/behind-the-sofa", "witness.example.com/w1"]);
    expect(n.signatures[1].signature.length).toBe(8 + 64);
    expect(formatNote(n)).toBe(vectors["c2sp-cosigned-checkpoint-example"].note);
  });

  it("rejects malformed notes and keys", () => {
    const good = vectors["c2sp-signed-note-example"].note;
    expect(() => parseNote(good.replace("\n\n", "\n"))).toThrow();
    expect(() => parseNote(good.slice(0, -1))).toThrow();
    expect(() => parseNote(good.replace("\u2014", "-"))).toThrow();
    expect(() => parseNote(good.replace("This", "Th\tis"))).toThrow(/control/);
    expect(() => parseVerifierKey(vectors["c2sp-signed-note-example"].vkey.replace("530d903a", "530d903b"))).toThrow(/key ID/);
    expect(() => parseVerifierKey("a+b+c+d")).toThrow();
  });
});

describe("checkpoints and cosignatures", () => {
  const logKey = noteSigningKey("log.example/fw", NoteSigType.ED25519, generateKeyPair().privateKey);
  const w = noteSigningKey("witness.example/w1", NoteSigType.COSIGNATURE_V1, generateKeyPair().privateKey);
  const root = new Uint8Array(32).fill(9);

  it("formats the three checkpoint lines and signs them as a note", () => {
    const text = formatCheckpoint({ origin: "log.example/fw", size: 12, root });
    expect(text).toBe(`log.example/fw\n12\n${Buffer.from(root).toString("base64")}\n`);
    const note = signCheckpoint({ origin: "log.example/fw", size: 12, root }, logKey);
    expect(note.startsWith(text + "\n\u2014 log.example/fw ")).toBe(true);
    expect(note.endsWith("\n")).toBe(true);
    expect(openCheckpoint(note, logKey).checkpoint.size).toBe(12);
    const other = noteSigningKey("log.example/fw", NoteSigType.ED25519, generateKeyPair().privateKey);
    expect(() => openCheckpoint(note, other)).toThrow(/no valid signature/);
  });

  it("rejects checkpoint texts that are not canonical", () => {
    const r = Buffer.from(root).toString("base64");
    expect(() => parseCheckpointText(`o\n012\n${r}\n`)).toThrow(/size/);
    expect(() => parseCheckpointText(`o\n12\n${r}`)).toThrow();
    expect(() => parseCheckpointText(`o\n12\n${r}\n\n`)).toThrow(/extension/);
    expect(parseCheckpointText(`o\n12\n${r}\next\n`).extensions).toEqual(["ext"]);
  });

  it("cosignature/v1: key ID with type 0x04, timestamp then signature over the header, time line and checkpoint", () => {
    const text = formatCheckpoint({ origin: "log.example/fw", size: 3, root });
    expect(new TextDecoder().decode(cosignedMessage(text, 1679315147))).toBe(`cosignature/v1\ntime 1679315147\n${text}`);
    const line = cosign(text, w, 1679315147);
    expect(line.keyId).toBe(noteKeyId(w.name, 0x04, w.publicKey));
    expect(line.keyId).not.toBe(noteKeyId(w.name, 0x01, w.publicKey));
    expect(Buffer.from(line.signature.subarray(0, 8)).readBigUInt64BE()).toBe(1679315147n);
    const note = parseNote(formatNote({ text, signatures: [signNoteText(text, logKey), line] }));
    expect(verifyCosignature(note, w)).toBe(1679315147);
    const tampered = parseNote(formatNote({ text, signatures: [{ ...line, signature: Uint8Array.from(line.signature, (b, i) => (i === 7 ? b ^ 1 : b)) }] }));
    expect(verifyCosignature(tampered, w)).toBeNull();
  });
});
