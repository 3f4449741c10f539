/* SHA-256 (FIPS 180-4), one-shot, no allocation: the native primitive behind the core's
   sha256(buf, off, len, out), for the MCU firmware (hw-test/mcu/build.sh, -O2 on the
   Cortex-M3) and the host's duk-capped (device-sim/duk-runner/build.sh). Rounds unrolled
   by 16 with renamed variables. */
#include "sha256.h"
#include <string.h>

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define S0(x) (ROR(x, 2) ^ ROR(x, 13) ^ ROR(x, 22))
#define S1(x) (ROR(x, 6) ^ ROR(x, 11) ^ ROR(x, 25))
#define G0(x) (ROR(x, 7) ^ ROR(x, 18) ^ ((x) >> 3))
#define G1(x) (ROR(x, 17) ^ ROR(x, 19) ^ ((x) >> 10))
#define CH(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define MAJ(x, y, z) (((x) & (y)) | ((z) & ((x) | (y))))
/* One round with the variables renamed instead of moved: 8 calls rotate the names back. */
#define RND(a, b, c, d, e, f, g, h, i)                          \
  do {                                                        \
    uint32_t t1 = h + S1(e) + CH(e, f, g) + k[i] + w[i];       \
    d += t1;                                                  \
    h = t1 + S0(a) + MAJ(a, b, c);                            \
  } while (0)

static uint32_t load_be32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4); /* Cortex-M3 (and x86) load unaligned words; REV swaps the bytes */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  return v;
#else
  return __builtin_bswap32(v);
#endif
}

static void compress(uint32_t h[8], const uint8_t *p) {
  uint32_t w[16];
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (int j = 0; j < 16; j++) w[j] = load_be32(p + 4 * j);
  for (int r = 0; r < 64; r += 16) {
    const uint32_t *k = K + r;
    if (r) /* message schedule in place: w[j] becomes W[r + j] */
      for (int j = 0; j < 16; j++) w[j] += G1(w[(j + 14) & 15]) + w[(j + 9) & 15] + G0(w[(j + 1) & 15]);
    RND(a, b, c, d, e, f, g, hh, 0);
    RND(hh, a, b, c, d, e, f, g, 1);
    RND(g, hh, a, b, c, d, e, f, 2);
    RND(f, g, hh, a, b, c, d, e, 3);
    RND(e, f, g, hh, a, b, c, d, 4);
    RND(d, e, f, g, hh, a, b, c, 5);
    RND(c, d, e, f, g, hh, a, b, 6);
    RND(b, c, d, e, f, g, hh, a, 7);
    RND(a, b, c, d, e, f, g, hh, 8);
    RND(hh, a, b, c, d, e, f, g, 9);
    RND(g, hh, a, b, c, d, e, f, 10);
    RND(f, g, hh, a, b, c, d, e, 11);
    RND(e, f, g, hh, a, b, c, d, 12);
    RND(d, e, f, g, hh, a, b, c, 13);
    RND(c, d, e, f, g, hh, a, b, 14);
    RND(b, c, d, e, f, g, hh, a, 15);
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

void sha256(const uint8_t *data, size_t len, uint8_t out[32]) {
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  uint8_t tail[128];
  size_t full = len & ~(size_t)63, rest = len - full;
  for (size_t i = 0; i < full; i += 64) compress(h, data + i);
  memcpy(tail, data + full, rest);
  tail[rest] = 0x80;
  size_t tlen = rest < 56 ? 64 : 128;
  memset(tail + rest + 1, 0, tlen - rest - 1);
  uint64_t bits = (uint64_t)len * 8;
  for (int i = 0; i < 8; i++) tail[tlen - 1 - i] = (uint8_t)(bits >> (8 * i));
  for (size_t i = 0; i < tlen; i += 64) compress(h, tail + i);
  for (int i = 0; i < 8; i++) {
    out[4 * i] = (uint8_t)(h[i] >> 24);
    out[4 * i + 1] = (uint8_t)(h[i] >> 16);
    out[4 * i + 2] = (uint8_t)(h[i] >> 8);
    out[4 * i + 3] = (uint8_t)h[i];
  }
}
