// The example update server (examples/update-server.mjs) on a real loopback port: real
// uploads streamed in pieces, a tampered and a wrong-class bundle rejected with the reason
// and nothing stored, range requests that let a device resume a download.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { fwsealOk, tempDir } from "../helpers/cli.js";
import { writeImage } from "../helpers/images.js";
import { REPO } from "../helpers/repo.js";
import { loadPublicKey } from "../../host/index.js";

let dir: string;
let store: string;
let server: http.Server;
let base: string;
const f = (n: string): string => path.join(dir, n);

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request; `upload` is sent in 7 KiB pieces with pauses, as a slow client would. */
function request(method: string, url: string, opts: { upload?: Buffer; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(base + url, { method, headers: opts.headers }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (b: Buffer) => parts.push(b));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on("error", reject);
    const data = opts.upload;
    if (!data) return void req.end();
    let o = 0;
    const next = (): void => {
      if (o >= data.length) return void req.end();
      req.write(data.subarray(o, o + 7 * 1024));
      o += 7 * 1024;
      setTimeout(next, 1);
    };
    next();
  });
}

beforeAll(async () => {
  dir = tempDir("update-server");
  store = f("store");
  fs.mkdirSync(store);
  writeImage(dir, "fw.bin", 200_000, 8);
  await fwsealOk(["keygen", "-o", f("root")]);
  const meta = ["--seq", "9", "--vendor", "acme.example", "--fw-version", "9.0", "--key", f("root.key"), "--root", f("root.pub")];
  await fwsealOk(["pack", f("fw.bin"), "--class", "sensor-v3", ...meta, "-o", f("good.fwb")]);
  await fwsealOk(["pack", f("fw.bin"), "--class", "hub", ...meta, "-o", f("hub.fwb")]);
  const { createUpdateServer } = await import(pathToFileURL(path.join(REPO, "examples/update-server.mjs")).href);
  server = createUpdateServer(store, { roots: [await loadPublicKey(f("root.pub"))], vendor: "acme.example", deviceClass: "sensor-v3" });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  if (server) {
    server.closeAllConnections(); // keep-alive sockets would hold close() for seconds
    await new Promise((r) => server.close(r));
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("example update server", () => {
  it("accepts a valid upload verified as it streams in, and stores exactly its bytes", async () => {
    const good = fs.readFileSync(f("good.fwb"));
    const r = await request("PUT", "/bundles/fw-9.fwb", { upload: good });
    expect(r.status).toBe(201);
    expect(JSON.parse(r.body.toString())).toEqual({ accepted: true, version: "9.0", sequence: 9, bytes: good.length });
    expect(fs.readFileSync(path.join(store, "fw-9.fwb")).equals(good)).toBe(true);
  });

  it("rejects a tampered bundle and a bundle for another class with the reason; nothing is stored", async () => {
    const bad = Buffer.from(fs.readFileSync(f("good.fwb")));
    bad[bad.length - 30_000] ^= 0x01; // a byte of a late chunk
    const t = await request("PUT", "/bundles/tampered.fwb", { upload: bad });
    expect(t.status).toBe(422);
    const tb = JSON.parse(t.body.toString());
    expect(tb).toMatchObject({ accepted: false, reason: "CHUNK_HASH_MISMATCH" });
    expect(tb.chunk).toBeGreaterThan(35);
    const h = await request("PUT", "/bundles/hub.fwb", { upload: fs.readFileSync(f("hub.fwb")) });
    expect(h.status).toBe(422);
    expect(JSON.parse(h.body.toString())).toEqual({ accepted: false, reason: "WRONG_CLASS", chunk: null });
    expect(fs.readdirSync(store).sort()).toEqual(["fw-9.fwb"]);
  });

  it("serves ranges so a device resumes: first part, then the rest from where it stopped", async () => {
    const good = fs.readFileSync(f("good.fwb"));
    const full = await request("GET", "/bundles/fw-9.fwb");
    expect(full.status).toBe(200);
    expect(full.headers["accept-ranges"]).toBe("bytes");
    expect(full.body.equals(good)).toBe(true);
    const first = await request("GET", "/bundles/fw-9.fwb", { headers: { range: "bytes=0-65535" } });
    expect(first.status).toBe(206);
    expect(first.headers["content-range"]).toBe(`bytes 0-65535/${good.length}`);
    const rest = await request("GET", "/bundles/fw-9.fwb", { headers: { range: `bytes=${first.body.length}-` } });
    expect(rest.status).toBe(206);
    expect(Buffer.concat([first.body, rest.body]).equals(good)).toBe(true);
    const tail = await request("GET", "/bundles/fw-9.fwb", { headers: { range: "bytes=-100" } });
    expect(tail.body.equals(good.subarray(good.length - 100))).toBe(true);
    const past = await request("GET", "/bundles/fw-9.fwb", { headers: { range: `bytes=${good.length}-` } });
    expect(past.status).toBe(416);
    expect(past.headers["content-range"]).toBe(`bytes */${good.length}`);
    expect((await request("GET", "/bundles/none.fwb")).status).toBe(404);
  });
});
