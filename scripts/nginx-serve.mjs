// A real nginx (Debian package `nginx`) serving a folder on a loopback port, started without
// root: config, pid file, logs and temp paths all in a temporary prefix directory. Used by
// the transparency-log tests and bench/log.mjs to publish a log as static files.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

/** The nginx binary, or null if it is not installed. */
export const NGINX_BIN = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => existsSync(p)) ?? null;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts nginx serving `root` at http://127.0.0.1:<port>/ with the content types of
 * c2sp.org/tlog-tiles (checkpoint as text/plain, never cached; tiles immutable).
 * Resolves to { url, stop() }.
 */
export async function startNginx(root) {
  if (!NGINX_BIN) throw new Error("nginx is not installed (scripts/setup.sh installs it)");
  const prefix = mkdtempSync(path.join(tmpdir(), "fwseal-nginx-"));
  for (const d of ["logs", "tmp"]) mkdirSync(path.join(prefix, d));
  // Started as root, nginx's workers drop to an unprivileged user: the served folder must be
  // readable by others (a temporary directory is created 0700).
  chmodSync(root, 0o755);
  const port = await freePort();
  const conf = path.join(prefix, "nginx.conf");
  const t = path.join(prefix, "tmp");
  writeFileSync(conf, `daemon on;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
worker_processes 1;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${t}/body;
  proxy_temp_path ${t}/proxy;
  fastcgi_temp_path ${t}/fastcgi;
  uwsgi_temp_path ${t}/uwsgi;
  scgi_temp_path ${t}/scgi;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location ~ /checkpoint$ { default_type "text/plain; charset=utf-8"; add_header Cache-Control "no-cache"; }
    location /tile/ { add_header Cache-Control "max-age=31536000, immutable"; }
  }
}
`);
  const r = spawnSync(NGINX_BIN, ["-p", prefix, "-c", conf, "-e", path.join(prefix, "logs/error.log")], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`nginx did not start: ${r.stderr}`);
  const pidFile = path.join(prefix, "nginx.pid");
  for (let i = 0; i < 50 && !existsSync(pidFile); i++) await new Promise((res) => setTimeout(res, 50));
  return {
    url: `http://127.0.0.1:${port}/`,
    stop() {
      if (existsSync(pidFile)) {
        try {
          process.kill(Number(readFileSync(pidFile, "utf8").trim()), "SIGTERM");
        } catch {
          // already gone
        }
      }
      rmSync(prefix, { recursive: true, force: true });
    }
  };
}
