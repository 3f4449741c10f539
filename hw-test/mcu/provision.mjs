#!/usr/bin/env node
// Provisions a test MCU: a fresh root key in <dir>/root.key (what HW_KEYS_DIR expects) and
// the firmware command-line words that burn its public key and identity into the device.
// Needs dist/ (npm run build). Usage: node hw-test/mcu/provision.mjs <dir> [vendor] [class]
// Prints the words (roots=... vendor=... class=...) on stdout.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const { generateKeyPair, privateKeyToPem } = await import(path.join(root, "dist/host/keys/keys.js"));
const { vendorUuid, classUuid } = await import(path.join(root, "dist/formats/host-only/uuid.js"));

const [dir, vendor = "acme.example", cls = "sensor-v3"] = process.argv.slice(2);
fs.mkdirSync(dir, { recursive: true });
const kp = generateKeyPair();
fs.writeFileSync(path.join(dir, "root.key"), privateKeyToPem(kp.privateKey), { mode: 0o600 });
const hex = (b) => Buffer.from(b).toString("hex");
const v = vendorUuid(vendor);
process.stdout.write(`roots=${hex(kp.publicKey)} vendor=${hex(v)} class=${hex(classUuid(v, cls))}\n`);
