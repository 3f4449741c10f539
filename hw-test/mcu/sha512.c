/* SHA-512 (FIPS 180-4) for the native Ed25519 verifier. The round constants and the initial
   value come from the device core's sha512.ts (gen-ed25519-consts.mjs), so both use the
   same numbers. */
#include "sha512.h"
#include "ed25519_consts.h"
#include <string.h>

#define ROTR(x, n) (((x) >> (n)) | ((x) << (64 - (n))))

static void compress(uint64_t h[8], const uint8_t *p) {
  uint64_t w[80];
  for (int i = 0; i < 16; i++) {
    uint64_t v = 0;
    for (int j = 0; j < 8; j++) v = (v << 8) | p[8 * i + j];
    w[i] = v;
  }
  for (int i = 16; i < 80; i++) {
    uint64_t s0 = ROTR(w[i - 15], 1) ^ ROTR(w[i - 15], 8) ^ (w[i - 15] >> 7);
    uint64_t s1 = ROTR(w[i - 2], 19) ^ ROTR(w[i - 2], 61) ^ (w[i - 2] >> 6);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint64_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (int i = 0; i < 80; i++) {
    uint64_t t1 = k + (ROTR(e, 14) ^ ROTR(e, 18) ^ ROTR(e, 41)) + ((e & f) ^ (~e & g)) + K512[i] + w[i];
    uint64_t t2 = (ROTR(a, 28) ^ ROTR(a, 34) ^ ROTR(a, 39)) + ((a & b) ^ (a & c) ^ (b & c));
    k = g; g = f; f = e; e = d + t1;
    d = c; c = b; b = a; a = t1 + t2;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
}

void sha512_init(sha512_ctx *c) {
  memcpy(c->h, IV512, sizeof c->h);
  c->fill = 0;
  c->total = 0;
}

void sha512_update(sha512_ctx *c, const uint8_t *p, size_t n) {
  c->total += n;
  while (n > 0) {
    if (c->fill == 0 && n >= 128) {
      compress(c->h, p);
      p += 128;
      n -= 128;
      continue;
    }
    size_t k = 128 - c->fill < n ? 128 - c->fill : n;
    memcpy(c->buf + c->fill, p, k);
    c->fill += k;
    p += k;
    n -= k;
    if (c->fill == 128) {
      compress(c->h, c->buf);
      c->fill = 0;
    }
  }
}

void sha512_final(sha512_ctx *c, uint8_t out[64]) {
  uint64_t bits = c->total * 8;
  c->buf[c->fill++] = 0x80;
  if (c->fill > 112) {
    memset(c->buf + c->fill, 0, 128 - c->fill);
    compress(c->h, c->buf);
    c->fill = 0;
  }
  memset(c->buf + c->fill, 0, 120 - c->fill); /* the length's high 64 bits are 0 */
  for (int i = 0; i < 8; i++) c->buf[120 + i] = (uint8_t)(bits >> (56 - 8 * i));
  compress(c->h, c->buf);
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < 8; j++) out[8 * i + j] = (uint8_t)(c->h[i] >> (56 - 8 * j));
}
