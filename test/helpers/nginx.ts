// A real nginx (Debian package) serving a folder on a loopback port, started without root:
// config, pid file, logs and temp paths all in a temporary prefix directory.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { tempDir } from "./cli.js";

/** The nginx binary, or null if it is not installed (the suite is then skipped with the reason). */
export const NGINX_BIN = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => existsSync(p)) ?? null;

/** A running nginx: its base URL and how to stop it. */
export interface NginxServer {
  url: string;
  stop(): void;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts nginx serving `root` at http://127.0.0.1:<port>/ with the log content types of
 * c2sp.org/tlog-tiles (checkpoint as text/plain, tiles as application/octet-stream).
 */
export async function startNginx(root: string): Promise<NginxServer> {
  if (!NGINX_BIN) throw new Error("nginx is not installed (scripts/setup.sh installs it)");
  const prefix = tempDir("nginx");
  for (const d of ["logs", "tmp"]) mkdirSync(path.join(prefix, d));
  // Started as root, nginx's workers drop to an unprivileged user: the served folder must be
  // readable by others (a temporary directory is created 0700).
  chmodSync(root, 0o755);
  const port = await freePort();
  const conf = path.join(prefix, "nginx.conf");
  writeFileSync(conf, `daemon on;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
worker_processes 1;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
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
        const pid = Number(readFileSync(pidFile, "utf8").trim());
        try {
          process.kill(pid, "SIGTERM");
        } catch {
          // already gone
        }
      }
      rmSync(prefix, { recursive: true, force: true });
    }
  };
}
