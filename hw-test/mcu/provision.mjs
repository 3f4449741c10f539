#!/usr/bin/env node
// Provisions a test MCU: a fresh root key in <dir>/root.key (what HW_KEYS_DIR expects) and
// the firmware command-line words that burn its public key and identity into the device.
// With --hybrid, also an HSS/LMS root (<dir>/root-hss.key, stateful, H10/W4) burned in as a
// second slot, and the hybrid policy: every release must carry an Ed25519 and an HSS/LMS
// signature (requirealgs=3), and the boot check verifies the HSS/LMS one (bootalgs=2).
// Needs dist/ (npm run build). Usage: node hw-test/mcu/provision.mjs [--hybrid] <dir> [vendor] [class]
// Prints the words (roots=... vendor=... class=... [requirealgs=3 bootalgs=2]) on stdout.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const { generateKeyPair, privateKeyToPem } = await import(path.join(root, "dist/host/keys/keys.js"));
const { vendorUuid, classUuid } = await import(path.join(root, "dist/formats/host-only/uuid.js"));

const argv = process.argv.slice(2);
const hybrid = argv[0] === "--hybrid";
const [dir, vendor = "acme.example", cls = "sensor-v3"] = hybrid ? argv.slice(1) : argv;
fs.mkdirSync(dir, { recursive: true });
const kp = generateKeyPair();
fs.writeFileSync(path.join(dir, "root.key"), privateKeyToPem(kp.privateKey), { mode: 0o600 });
const hex = (b) => Buffer.from(b).toString("hex");
let roots = hex(kp.publicKey);
let policy = "";
if (hybrid) {
  const { keygenHssLms } = await import(path.join(root, "dist/host/keys/hss-lms.js"));
  const k = await keygenHssLms({ out: path.join(dir, "root-hss"), heights: [10], w: 4 });
  roots += "+" + hex(k.publicKey);
  policy = " requirealgs=3 bootalgs=2";
}
const v = vendorUuid(vendor);
process.stdout.write(`roots=${roots} vendor=${hex(v)} class=${hex(classUuid(v, cls))}${policy}\n`);
