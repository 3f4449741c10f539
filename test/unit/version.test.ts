// The version the CLI prints is compiled in (host/version.ts): it must be package.json's.
import { describe, it, expect } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { FWSEAL_VERSION } from "../../host/version.js";
import { main } from "../../host/cli/cli.js";

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../package.json");

describe("version", () => {
  it("host/version.ts says package.json's version, and `fwseal --version` prints it", async () => {
    const version = JSON.parse(fs.readFileSync(pkg, "utf8")).version as string;
    expect(FWSEAL_VERSION).toBe(version);
    let stdout = "";
    const logged: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void logged.push(a.join(" ")); // yargs prints the version with console.log
    try {
      expect(await main(["--version"], { stdout: (t) => void (stdout += t), stderr: () => undefined, stderrIsTTY: false })).toBe(0);
    } finally {
      console.log = log;
    }
    expect((stdout + logged.join("\n")).trim()).toBe(version);
  });
});
