// A real SoftHSM2 token in a temporary directory, and openssl key conversion: for the
// PKCS#11 and OpenSSL interop suites (system tier; both tools are external processes).
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { tempDir } from "./cli.js";

/** Where Debian and Ubuntu install the SoftHSM2 PKCS#11 module. */
export const SOFTHSM_MODULE_CANDIDATES = ["/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"];

/** True when softhsm2-util, the SoftHSM2 module and the pkcs11js binding are all usable. */
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

/** A token initialised by initSoftHsm(). */
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
