// The Espruino variant of the demo (npm run demo -- --espruino, or after the main demo when
// ESPRUINO_BIN names Espruino's Linux interpreter): a board on a pseudo-terminal
// (scripts/espruino-board.sh), provisioned over its console, updated with a signed
// JavaScript application, a tampered bundle refused, a power cut, the verified app again.
// Runs the real, built CLI like the main demo.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const VENDOR = "acme.example";
const CLASS = "badge-v1";

function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, "bin", "fwseal.js"))) {
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
  return dir;
}

/** Runs the Espruino demo in `dir` (created); returns the number of steps that did not go as expected. */
export async function runEspruinoDemo(dir: string, bin: string, w: (s: string) => void): Promise<number> {
  const root = repoRoot();
  const cli = path.join(root, "bin", "fwseal.js");
  const boardScript = path.join(root, "scripts", "espruino-board.sh");
  const boardDir = path.join(dir, "board");
  fs.mkdirSync(boardDir, { recursive: true });
  let failures = 0;
  const fwseal = (args: string[], expectCode = 0): Promise<void> => {
    w(`$ fwseal ${args.join(" ")}\n`);
    return new Promise((resolve) => {
      const p = spawn(process.execPath, [cli, ...args], { cwd: dir, stdio: ["ignore", "inherit", "inherit"] });
      p.on("exit", (code) => {
        if ((code ?? 1) !== expectCode) failures++;
        else if (expectCode !== 0) w(`  (exit ${code}, as expected)\n`);
        resolve();
      });
    });
  };
  const board = (...extra: string[]): string => {
    const r = spawnSync("bash", [boardScript, boardDir, ...extra], { env: { ...process.env, ESPRUINO_BIN: bin }, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`espruino-board.sh: ${r.stderr}`);
    return r.stdout.trim();
  };
  const step = (t: string): void => w(`\n── Espruino: ${t}\n`);
  try {
    step("a root key and a signed JavaScript application");
    await fwseal(["keygen", "--out", "root"]);
    fs.writeFileSync(path.join(dir, "app-1.js"), 'var badge = "v1"; print("badge app v1 running");\n');
    fs.writeFileSync(path.join(dir, "app-2.js"), 'var badge = "v2"; print("badge app v2 running");\n');
    for (const v of ["1", "2"]) {
      await fwseal(["pack", `app-${v}.js`, "-k", "root.key", "--root", "root.pub", "--seq", v, "--vendor", VENDOR, "--class", CLASS, "--fw-version", `${v}.0.0`, "-o", `app-${v}.fwb`]);
    }
    const bad = new Uint8Array(fs.readFileSync(path.join(dir, "app-2.fwb")));
    bad[bad.length - 40] ^= 1;
    fs.writeFileSync(path.join(dir, "app-2-tampered.fwb"), bad);

    step("an Espruino board (the Linux interpreter on a pty), provisioned over its console");
    const port = board();
    await fwseal(["espruino", "provision", "--port", port, "--root", "root.pub", "--vendor", VENDOR, "--class", CLASS, "--idle", "2"]);

    step("install v1, reboot through the boot check, confirm");
    await fwseal(["flash", "app-1.fwb", "--port", port, "--espruino", "--reboot", "--confirm"]);
    step("a tampered v2 is refused chunk by chunk; v1 keeps running");
    await new Promise((r) => setTimeout(r, 3000));
    await fwseal(["flash", "app-2-tampered.fwb", "--port", port, "--espruino"], 13);
    step("install v2, then cut the power before confirming: the board reverts to the verified v1");
    await new Promise((r) => setTimeout(r, 3000));
    await fwseal(["flash", "app-2.fwb", "--port", port, "--espruino", "--reboot"]);
    board(); // SIGKILL and restart on the same flash
    await fwseal(["flash", "--port", port, "--espruino"]);
  } finally {
    board("stop");
  }
  return failures;
}
