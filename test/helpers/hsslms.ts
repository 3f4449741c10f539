// The independent HSS/LMS implementation the interop tests compare fwseal with: the Python
// package `hsslms`, which scripts/setup.sh installs into build/hsslms-venv. Requests go
// through test/helpers/hsslms-bridge.py as JSON.
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { REPO } from "./repo.js";

const BRIDGE = path.join(REPO, "test/helpers/hsslms-bridge.py");

/** The Python that can import hsslms ($FWSEAL_HSSLMS_PYTHON, the setup venv, python3), or why none can. */
export function findHsslmsPython(): { python: string } | { missing: string } {
  const candidates = [process.env.FWSEAL_HSSLMS_PYTHON, path.join(REPO, "build/hsslms-venv/bin/python"), "python3"].filter(
    (p): p is string => p !== undefined && p !== ""
  );
  for (const python of candidates) {
    if (python.includes("/") && !fs.existsSync(python)) continue;
    const r = spawnSync(python, ["-c", "import hsslms"], { encoding: "utf8" });
    if (r.status === 0) return { python };
  }
  return { missing: `no Python with the hsslms package (tried ${candidates.join(", ")}); run scripts/setup.sh` };
}

/** Run one bridge request (see hsslms-bridge.py) and return its JSON answer. */
export function hsslms<T>(python: string, request: object, timeoutMs = 120_000): T {
  const r = spawnSync(python, [BRIDGE], { input: JSON.stringify(request), encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`hsslms bridge failed (${r.status ?? r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
