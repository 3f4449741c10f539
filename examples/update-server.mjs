// An update server in a few dozen lines (Node's http module and the fwseal library):
//   PUT  /bundles/<name>.fwb  verifies the upload AS IT STREAMS IN (as a device would) and
//                             keeps it only if valid: 201, or 422 with the reason and chunk;
//   GET  /bundles/<name>.fwb  serves an accepted bundle, with HTTP range requests
//                             (Range: bytes=<from>-) so a device resumes an interrupted download.
// Run: node examples/update-server.mjs <dir> <root.pub> <vendor> <class> [port]
import * as http from "node:http";
import * as fs from "node:fs";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { verifyStream, loadPublicKey } from "fwseal";

/** An http.Server storing verified bundles in `dir` under `policy` (roots, vendor, deviceClass, ...). */
export function createUpdateServer(dir, policy) {
  return http.createServer(async (req, res) => {
    const name = /^\/bundles\/([\w.-]+\.fwb)$/.exec(req.url ?? "")?.[1];
    const reply = (status, body, headers = {}) => res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
    if (!name) return reply(404, { error: "not found" });
    const file = path.join(dir, name);
    if (req.method === "PUT") {
      const temp = `${file}.${process.pid}.${Date.now()}.upload`;
      const out = fs.createWriteStream(temp, { flags: "wx" });
      // Every block is written to disk as the verifier consumes it: one pass, constant memory.
      async function* teed() {
        for await (const block of req.iterator({ destroyOnReturn: false })) {
          if (!out.write(block)) await new Promise((r) => out.once("drain", r));
          yield block;
        }
      }
      try {
        const v = await verifyStream(teed(), policy);
        await new Promise((r, j) => out.end((e) => (e ? j(e) : r())));
        if (!v.valid) {
          fs.rmSync(temp, { force: true });
          req.resume(); // the rest of a rejected upload is read and dropped
          return reply(422, { accepted: false, reason: v.reasonName, chunk: v.chunk });
        }
        fs.renameSync(temp, file);
        return reply(201, { accepted: true, version: v.manifest.version, sequence: v.manifest.sequence, bytes: v.bytes });
      } catch (e) {
        out.destroy();
        fs.rmSync(temp, { force: true });
        return reply(400, { accepted: false, error: e.message });
      }
    }
    if (req.method !== "GET" && req.method !== "HEAD") return reply(405, { error: "PUT, GET or HEAD" }, { allow: "PUT, GET, HEAD" });
    let size;
    try {
      size = fs.statSync(file).size;
    } catch {
      return reply(404, { error: "no such bundle" });
    }
    const head = { "content-type": "application/octet-stream", "accept-ranges": "bytes" };
    const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "");
    if (req.headers.range === undefined || !m || (m[1] === "" && m[2] === "")) {
      res.writeHead(200, { ...head, "content-length": size });
      return req.method === "HEAD" ? res.end() : pipeline(fs.createReadStream(file), res).catch(() => undefined);
    }
    const start = m[1] === "" ? Math.max(0, size - Number(m[2])) : Number(m[1]);
    const end = m[1] === "" || m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (start > end || start >= size) return reply(416, { error: "range not satisfiable" }, { "content-range": `bytes */${size}` });
    res.writeHead(206, { ...head, "content-length": end - start + 1, "content-range": `bytes ${start}-${end}/${size}` });
    return req.method === "HEAD" ? res.end() : pipeline(fs.createReadStream(file, { start, end }), res).catch(() => undefined);
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, rootPub, vendor, deviceClass, port = "8080"] = process.argv.slice(2);
  const policy = { roots: [await loadPublicKey(rootPub)], vendor, deviceClass };
  createUpdateServer(dir, policy).listen(Number(port), () => console.log(`update server on :${port}, bundles in ${dir}`));
}
