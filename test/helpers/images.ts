// Firmware images for tests. Every generator is deterministic (same size and seed, same
// bytes), so a failure reproduces and suites that compare engines see the same input.
import { createCipheriv } from "node:crypto";
import { closeSync, openSync, writeFileSync, writeSync } from "node:fs";
import path from "node:path";

const MiB = 1024 * 1024;

/**
 * Compressible image bytes: words of a small vocabulary in a seeded order, like the strings
 * and repeated instruction patterns of firmware (deflate takes them to about a third).
 */
export function textLikeImage(size: number, seed = 1): Uint8Array {
  const words = ["ldr r0, [r1]", "bl flash_write", "str r2, [r3, #4]", "movs r0, #0", "uart_send", "sensor_read", "\x00\x00", "push {r4, lr}", "pop {r4, pc}", "cmp r0, #1", "bne.n 0x8001", "config", "0123456789"];
  const out = new Uint8Array(size);
  let x = seed * 2654435761;
  let i = 0;
  while (i < size) {
    x = (x * 1103515245 + 12345) >>> 0;
    const w = words[(x >>> 24) % words.length];
    for (let k = 0; k < w.length && i < size; k++) out[i++] = w.charCodeAt(k);
    if (i < size) out[i++] = (x >>> 8) & 0xff;
  }
  return out;
}

/** Pseudo-random image bytes (32-bit LCG, high byte), one stream per seed. */
export function sampleImage(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed * 2654435761;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/**
 * A patterned image whose bytes are easy to predict by hand: byte i is
 * (i * 31 + (i >> 8) * 7 + salt) & 0xff, so every 256-byte page differs.
 */
export function patternImage(size: number, salt = 0): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + (i >> 8) * 7 + salt) & 0xff;
  return b;
}

/** The image of the engine conformance bundles: byte i is (i * 131 + 7) & 0xff. */
export function rampImage(size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (i * 131 + 7) & 0xff;
  return b;
}

/** Writes a pseudo-random image (xorshift32, one stream per seed) to dir/name; returns its path. */
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
  writeFileSync(p, buf);
  return p;
}

/**
 * Writes a large pseudo-random image (AES-256-CTR keystream of a fixed seed) 1 MiB at a time,
 * so images of many MiB never sit in memory whole.
 */
export function writeLargeImage(file: string, size: number, seed: number): void {
  const c = createCipheriv("aes-256-ctr", Buffer.alloc(32, seed), Buffer.alloc(16, 0));
  const zero = Buffer.alloc(MiB);
  const fd = openSync(file, "w");
  try {
    for (let done = 0; done < size; done += MiB) writeSync(fd, c.update(zero.subarray(0, Math.min(MiB, size - done))));
  } finally {
    closeSync(fd);
  }
}
