// Shared set-up for the TRUST tests (hsm, keys, audit): run the CLI in-process, make a
// SoftHSM2 token in a temporary directory, small files.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { main } from "../../host/cli/cli.js";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `fwseal args...` in this process with extra environment variables (restored after). */
export async function fwseal(args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    const code = await main(args, {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      stderrIsTTY: false
    });
    return { code, stdout, stderr };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Like fwseal() but fails the test (with the CLI's stderr) on a non-zero exit. */
export async function fwsealOk(args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  const r = await fwseal(args, env);
  if (r.code !== 0) throw new Error(`fwseal ${args.join(" ")} -> exit ${r.code}: ${r.stderr}`);
  return r;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `fwseal-${prefix}-`));
}

/** The one error line a failing command prints. */
export function errorLines(r: CliRun): string[] {
  return r.stderr.split("\n").filter((l) => l.length > 0);
}

export function writeImage(dir: string, name: string, size: number, seed = 1): string {
  const buf = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    buf[i] = x & 0xff;
  }
  const p = path.join(dir, name);
  fs.writeFileSync(p, buf);
  return p;
}

export const SOFTHSM_MODULE_CANDIDATES = ["/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"];

export function softhsmAvailable(): boolean {
  try {
    execFileSync("softhsm2-util", ["--version"], { stdio: "pipe" });
  } catch {
    return false;
  }
  if (!SOFTHSM_MODULE_CANDIDATES.some((p) => fs.existsSync(p))) return false;
  try {
    createRequire(import.meta.url)("pkcs11js"); // the native binding must have built
    return true;
  } catch {
    return false;
  }
}

export interface SoftHsm {
  dir: string;
  conf: string;
  label: string;
  pin: string;
  soPin: string;
  /** Env for commands that use the token (SOFTHSM2_CONF is also set process-wide). */
  env: Record<string, string>;
  /** Import a PKCS#8 PEM key pair into the token (softhsm2-util --import). */
  importKey(pemPath: string, label: string, idHex: string): void;
}

/**
 * A fresh SoftHSM2 token in a temporary directory. SOFTHSM2_CONF is set process-wide
 * because the PKCS#11 module reads it once, at C_Initialize.
 */
export function initSoftHsm(label = "fwseal-test"): SoftHsm {
  const dir = tempDir("softhsm");
  const tokens = path.join(dir, "tokens");
  fs.mkdirSync(tokens);
  const conf = path.join(dir, "softhsm2.conf");
  fs.writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  process.env.SOFTHSM2_CONF = conf;
  const pin = "4711-user";
  const soPin = "0815-security-officer";
  execFileSync("softhsm2-util", ["--init-token", "--free", "--label", label, "--so-pin", soPin, "--pin", pin], { env: { ...process.env, SOFTHSM2_CONF: conf }, stdio: "pipe" });
  return {
    dir,
    conf,
    label,
    pin,
    soPin,
    env: { SOFTHSM2_CONF: conf, FWSEAL_PKCS11_PIN: pin },
    importKey(pemPath: string, keyLabel: string, idHex: string): void {
      execFileSync("softhsm2-util", ["--import", pemPath, "--token", label, "--label", keyLabel, "--id", idHex, "--pin", pin], {
        env: { ...process.env, SOFTHSM2_CONF: conf },
        stdio: "pipe"
      });
    }
  };
}

/** Convert one of our PKCS#8 keys to an unencrypted PEM openssl and softhsm2-util read. */
export function opensslPem(keyPath: string, outPath: string): string {
  execFileSync("openssl", ["pkey", "-in", keyPath, "-out", outPath], { stdio: "pipe" });
  return outPath;
}
