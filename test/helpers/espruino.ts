// Running the ES5 build of the device core on Espruino's Linux build, when one is configured
// with ESPRUINO_BIN (it is not part of the repository); the core is loaded through Storage
// (espruino-scripts.ts).
import { expect } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { espruinoCoreLoader } from "./espruino-scripts.js";

export { ESPRUINO_NATIVE_PRIMITIVES } from "./espruino-scripts.js";

/** The Espruino binary from ESPRUINO_BIN, or "" when none is configured. */
export function espruinoBin(): string {
  return process.env.ESPRUINO_BIN ?? "";
}

/** Why Espruino runs are skipped ("" when ESPRUINO_BIN is set). */
export const ESPRUINO_SKIP_REASON = espruinoBin() === "" ? "ESPRUINO_BIN is not set: no Espruino Linux build to run the core on" : "";

/** Marks the lines a driver prints for the test (Espruino also prints its banner and prompt). */
export const ESPRUINO_OUT = "@@";

/**
 * Runs the scripts (concatenated, after the core loader) on Espruino in a fresh directory
 * (its flash file lives there). Returns the lines the script printed that start with
 * ESPRUINO_OUT, without that mark. Fails the test on an Espruino error message.
 */
export function runEspruino(scripts: string[], timeoutMs = 600_000): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), "fwseal-espruino-"));
  try {
    const file = path.join(dir, "run.js");
    writeFileSync(file, espruinoCoreLoader() + scripts.join("\n"));
    const r = spawnSync(espruinoBin(), [file], { cwd: dir, encoding: "utf8", input: "", timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    expect(r.error, "Espruino did not run").toBeUndefined();
    const text = r.stdout + r.stderr;
    expect(text, text.slice(-800)).not.toMatch(/Uncaught|OUT OF MEMORY|LOW_MEMORY|Execution Interrupted/);
    return text.split("\n").filter((l) => l.startsWith(ESPRUINO_OUT)).map((l) => l.slice(ESPRUINO_OUT.length).trim());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
