/* Native Ed25519 verification: device-sim/core/crypto/ed25519.ts ported to C (see there for
   the bounds notes). Field elements: 15 signed limbs of radix 2^17, value = sum a_i 2^(17 i),
   2^255 = 19 (mod p). A limb fits an int32 between operations; products and column sums are
   exact in int64, and every carry truncates toward zero as the TS `(t / 2^17) | 0` does, so
   each step yields the same limbs as the core's. Checks of SPEC §6.1: S < L; A decodes
   canonically; [8]A is not the identity; k = SHA-512(R || A || M) mod L; accept iff
   encode([S]B - [k]A) == R (cofactorless). The MCU is single-threaded: scratch is static. */
#include "ed25519.h"
#include "ed25519_consts.h"
#include "sha512.h"
#include <string.h>

typedef int32_t fe[15];

/* t / 2^17 truncated toward zero (C's division, without a 64-bit division call). */
static inline int64_t carry17(int64_t t) { return t >= 0 ? t >> 17 : -((-t) >> 17); }

static void fe_reduce(fe o, int64_t t[15]) {
  int64_t c;
  for (int i = 0; i < 14; i++) {
    c = carry17(t[i]);
    t[i] -= c * 131072;
    t[i + 1] += c;
  }
  c = carry17(t[14]);
  t[14] -= c * 131072;
  t[0] += 19 * c;
  c = carry17(t[0]);
  t[0] -= c * 131072;
  t[1] += c;
  for (int i = 0; i < 15; i++) o[i] = (int32_t)t[i];
}

/* o = a * b mod p; o may alias a or b. */
static void fe_mul(fe o, const fe a, const fe b) {
  int64_t t[15];
  int32_t c19[15];
  for (int i = 0; i < 15; i++) c19[i] = 19 * b[i];
  for (int k = 0; k < 15; k++) {
    int64_t s = 0;
    for (int i = 0; i <= k; i++) s += (int64_t)a[i] * b[k - i];
    for (int i = k + 1; i < 15; i++) s += (int64_t)a[i] * c19[15 + k - i];
    t[k] = s;
  }
  fe_reduce(o, t);
}

/* o = a^(2^n), n >= 1 (the same columns as a product, hence the same limbs as feSqN). */
static void fe_sqn(fe o, const fe a, int n) {
  fe_mul(o, a, a);
  while (--n > 0) fe_mul(o, o, o);
}

static void fe_add(fe o, const fe a, const fe b) {
  for (int i = 0; i < 15; i++) o[i] = a[i] + b[i];
}
static void fe_sub(fe o, const fe a, const fe b) {
  for (int i = 0; i < 15; i++) o[i] = a[i] - b[i];
}
static void fe_copy(fe o, const fe a) { memcpy(o, a, sizeof(fe)); }
static void fe_small(fe o, int32_t v) {
  memset(o, 0, sizeof(fe));
  o[0] = v;
}

/* Canonical limbs (0 <= limb < 2^17, value < p) of a. */
static void fe_canon(int32_t c15[15], const fe a) {
  int32_t v, c = 0;
  int i;
  for (i = 0; i < 15; i++) { v = a[i] + c; c = v >> 17; c15[i] = v & 131071; }
  c = 19 * c;
  for (i = 0; i < 15; i++) { v = c15[i] + c; c = v >> 17; c15[i] = v & 131071; }
  c = 19 * c;
  for (i = 0; i < 15; i++) { v = c15[i] + c; c = v >> 17; c15[i] = v & 131071; }
  c = (c15[0] + 19) >> 17;
  for (i = 1; i < 15; i++) c = (c15[i] + c) >> 17;
  c = 19 * c;
  for (i = 0; i < 15; i++) { v = c15[i] + c; c = v >> 17; c15[i] = v & 131071; }
}

static int fe_is_zero(const fe a) {
  int32_t c[15], r = 0;
  fe_canon(c, a);
  for (int i = 0; i < 15; i++) r |= c[i];
  return r == 0;
}

static int fe_parity(const fe a) {
  int32_t c[15];
  fe_canon(c, a);
  return c[0] & 1;
}

static void fe_to_bytes(uint8_t out[32], const fe a) {
  int32_t c[15];
  uint32_t acc = 0;
  int bits = 0, j = 0;
  fe_canon(c, a);
  for (int i = 0; i < 15; i++) {
    acc |= (uint32_t)c[i] << bits;
    bits += 17;
    while (bits >= 8) { out[j++] = (uint8_t)acc; acc >>= 8; bits -= 8; }
  }
  out[31] = (uint8_t)acc;
}

/* Low 255 bits of b[0..32) as limbs; 1 iff the value is < p. */
static int fe_from_bytes(fe o, const uint8_t *b) {
  uint32_t acc = 0;
  int bits = 0, j = 0, all = 1;
  for (int i = 0; i < 15; i++) {
    while (bits < 17) { acc |= (uint32_t)b[j++] << bits; bits += 8; }
    o[i] = (int32_t)(acc & 131071);
    acc >>= 17;
    bits -= 17;
  }
  for (int i = 1; i < 15; i++) if (o[i] != 131071) all = 0;
  return all && o[0] >= 131053 ? 0 : 1;
}

static fe fT0, fT1, fT2;

/* o = 1/z (ref10 addition chain). */
static void fe_invert(fe o, const fe z) {
  int32_t *t0 = fT0, *t1 = fT1, *t2 = fT2;
  fe_sqn(t0, z, 1); fe_sqn(t1, t0, 2); fe_mul(t1, z, t1); fe_mul(t0, t0, t1);
  fe_sqn(t2, t0, 1); fe_mul(t1, t1, t2); fe_sqn(t2, t1, 5); fe_mul(t1, t2, t1);
  fe_sqn(t2, t1, 10); fe_mul(t2, t2, t1); fe_sqn(o, t2, 20); fe_mul(t2, o, t2);
  fe_sqn(t2, t2, 10); fe_mul(t1, t2, t1); fe_sqn(t2, t1, 50); fe_mul(t2, t2, t1);
  fe_sqn(o, t2, 100); fe_mul(t2, o, t2); fe_sqn(t2, t2, 50); fe_mul(t1, t2, t1);
  fe_sqn(t1, t1, 5); fe_mul(o, t1, t0);
}

/* o = z^((p - 5) / 8); o must not alias z. */
static void fe_pow22523(fe o, const fe z) {
  int32_t *t0 = fT0, *t1 = fT1, *t2 = fT2;
  fe_sqn(t0, z, 1); fe_sqn(t1, t0, 2); fe_mul(t1, z, t1); fe_mul(t0, t0, t1);
  fe_sqn(t0, t0, 1); fe_mul(t0, t1, t0); fe_sqn(t1, t0, 5); fe_mul(t0, t1, t0);
  fe_sqn(t1, t0, 10); fe_mul(t1, t1, t0); fe_sqn(t2, t1, 20); fe_mul(t1, t2, t1);
  fe_sqn(t1, t1, 10); fe_mul(t0, t1, t0); fe_sqn(t1, t0, 50); fe_mul(t1, t1, t0);
  fe_sqn(t2, t1, 100); fe_mul(t1, t2, t1); fe_sqn(t1, t1, 50); fe_mul(t0, t1, t0);
  fe_sqn(t0, t0, 2); fe_mul(o, t0, z);
}

/* ---- points: extended coordinates, a = -1, complete formulas ---- */

typedef struct { fe x, y, z, t; } point;
typedef struct { fe ypx, ymx, t2d, z2; } cached; /* (Y+X, Y-X, 2d*T, 2Z) */

static fe gA, gB, gC, gD, gE, gF, gG, gH;

/* r = 2p (dbl-2008-hwcd, coordinates negated); T only when with_t. r may be p. */
static void pt_double(point *r, const point *p, int with_t) {
  fe_sqn(gA, p->x, 1);
  fe_sqn(gB, p->y, 1);
  fe_sqn(gC, p->z, 1);
  fe_add(gE, p->x, p->y);
  fe_sqn(gE, gE, 1);
  for (int i = 0; i < 15; i++) {
    int32_t a = gA[i], b = gB[i], h = a + b, g = b - a;
    gE[i] = gE[i] - h;
    gF[i] = 2 * gC[i] - g;
    gG[i] = g;
    gH[i] = h;
  }
  fe_mul(r->x, gE, gF);
  fe_mul(r->y, gG, gH);
  fe_mul(r->z, gF, gG);
  if (with_t) fe_mul(r->t, gE, gH);
}

/* E = B - A, H = B + A, D' = dm * D: F = D' - C, G = D' + C (neg 0) or swapped signs (neg 1). */
static void add_linear(const fe d, int dm, int neg) {
  int32_t sc = neg ? -1 : 1;
  for (int i = 0; i < 15; i++) {
    int32_t a = gA[i], b = gB[i], c = sc * gC[i], dd = dm * d[i];
    gE[i] = b - a;
    gH[i] = b + a;
    gF[i] = dd - c;
    gG[i] = dd + c;
  }
}

static void sum_diff(const point *p) {
  for (int i = 0; i < 15; i++) {
    gB[i] = p->y[i] + p->x[i];
    gA[i] = p->y[i] - p->x[i];
  }
}

static void add_finish(point *r, int with_t) {
  fe_mul(r->x, gE, gF);
  fe_mul(r->y, gG, gH);
  fe_mul(r->z, gF, gG);
  if (with_t) fe_mul(r->t, gE, gH);
}

/* r = p + q (neg 0) or p - q (neg 1), q cached (add-2008-hwcd-3). r may be p. */
static void pt_add_cached(point *r, const point *p, const cached *q, int neg, int with_t) {
  sum_diff(p);
  fe_mul(gA, gA, neg ? q->ypx : q->ymx);
  fe_mul(gB, gB, neg ? q->ymx : q->ypx);
  fe_mul(gC, p->t, q->t2d);
  fe_mul(gD, p->z, q->z2);
  add_linear(gD, 1, neg);
  add_finish(r, with_t);
}

/* r = p +- the j-th odd multiple of B, affine Niels form from BASE_TABLE. r may be p. */
static void pt_add_niels(point *r, const point *p, int j, int neg, int with_t) {
  const int32_t *ypx = BASE_TABLE + 45 * j, *ymx = ypx + 15, *xy2d = ypx + 30;
  sum_diff(p);
  fe_mul(gA, gA, neg ? ypx : ymx);
  fe_mul(gB, gB, neg ? ymx : ypx);
  fe_mul(gC, p->t, xy2d);
  add_linear(p->z, 2, neg);
  add_finish(r, with_t);
}

static void to_cached(cached *c, const point *p) {
  fe_add(c->ypx, p->y, p->x);
  fe_sub(c->ymx, p->y, p->x);
  fe_mul(c->t2d, p->t, FE_D2);
  fe_add(c->z2, p->z, p->z);
}

/* ---- scalars ---- */

static const uint8_t L_BYTES[32] = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};

static int scalar_is_canonical(const uint8_t *b) {
  for (int i = 31; i >= 0; i--) {
    if (b[i] < L_BYTES[i]) return 1;
    if (b[i] > L_BYTES[i]) return 0;
  }
  return 0;
}

/* r = h mod L for a 64-byte little-endian h (TweetNaCl's modL, as the core's). */
static void mod_l(uint8_t r[32], const uint8_t h[64]) {
  int32_t x[64], carry;
  int i, j, k;
  for (i = 0; i < 64; i++) x[i] = h[i];
  for (i = 63; i >= 32; --i) {
    carry = 0;
    int32_t xi = x[i];
    for (j = i - 32, k = i - 12; j < k; ++j) {
      x[j] += carry - 16 * xi * L_BYTES[j - (i - 32)];
      carry = (x[j] + 128) >> 8;
      x[j] -= carry * 256;
    }
    x[j] += carry;
    x[i] = 0;
  }
  carry = 0;
  for (j = 0; j < 32; j++) {
    x[j] += carry - (x[31] >> 4) * L_BYTES[j];
    carry = x[j] >> 8;
    x[j] &= 255;
  }
  for (j = 0; j < 32; j++) x[j] -= carry * L_BYTES[j];
  for (i = 0; i < 32; i++) {
    x[i + 1] += x[i] >> 8;
    r[i] = (uint8_t)(x[i] & 255);
  }
}

/* Width-w NAF of the scalar in sb[0..32) (sb[32] = 0); returns the top non-zero index or -1. */
static int wnaf(int8_t naf[257], const uint8_t sb[33], int w) {
  int carry = 0, bit = 0, top = -1;
  memset(naf, 0, 257);
  while (bit < 256) {
    int q = bit >> 3;
    if (((sb[q] >> (bit & 7)) & 1) == carry) { bit++; continue; }
    int now = w;
    if (now > 256 - bit) now = 256 - bit;
    int word = (((sb[q] | (sb[q + 1] << 8)) >> (bit & 7)) & ((1 << now) - 1)) + carry;
    carry = (word >> (w - 1)) & 1;
    word -= carry << w;
    naf[bit] = (int8_t)word;
    top = bit;
    bit += now;
  }
  if (carry != 0) { naf[256] = 1; top = 256; }
  return top;
}

/* ---- verification ---- */

#define A_COUNT 8 /* width-5 wNAF: odd multiples 1..15 of -A */
static point ptA, ptQ, ptR;
static cached tableA[A_COUNT], cached2A;
static fe dU, dV, dV3, dX, dY, dW;
static const fe FE_ZERO = {0}, FE_ONE = {1};

/* Decodes b per RFC 8032 §5.1.3 with SPEC §6.1's canonicity checks into p = -A. */
static int decode_negated(point *p, const uint8_t *b) {
  if (fe_from_bytes(dY, b) == 0) return 0;
  fe_sqn(dU, dY, 1);
  fe_mul(dV, dU, FE_D);
  fe_sub(dU, dU, FE_ONE);
  fe_add(dV, dV, FE_ONE);
  fe_sqn(dV3, dV, 1);
  fe_mul(dV3, dV3, dV);
  fe_sqn(dX, dV3, 1);
  fe_mul(dX, dX, dV);
  fe_mul(dX, dX, dU);
  fe_pow22523(dW, dX);
  fe_mul(dW, dW, dV3);
  fe_mul(dX, dW, dU);
  fe_sqn(dW, dX, 1);
  fe_mul(dW, dW, dV);
  fe_sub(dV, dW, dU);
  if (!fe_is_zero(dV)) {
    fe_add(dV, dW, dU);
    if (!fe_is_zero(dV)) return 0;
    fe_mul(dX, dX, FE_SQRTM1);
  }
  int sign = b[31] >> 7;
  if (fe_is_zero(dX) && sign == 1) return 0;
  if (fe_parity(dX) == sign) fe_sub(dX, FE_ZERO, dX);
  fe_copy(p->x, dX);
  fe_copy(p->y, dY);
  fe_copy(p->z, FE_ONE);
  fe_mul(p->t, dX, dY);
  return 1;
}

int ed25519_verify(const uint8_t pk[32], const uint8_t sig[64], const uint8_t *msg, size_t len) {
  static sha512_ctx sha;
  static uint8_t h[64], kb[33], sb[33], enc[32];
  static int8_t nafK[257], nafS[257];
  if (!scalar_is_canonical(sig + 32)) return 0;
  if (!decode_negated(&ptA, pk)) return 0;
  pt_double(&ptQ, &ptA, 1);
  to_cached(&cached2A, &ptQ);
  pt_double(&ptQ, &ptQ, 0);
  pt_double(&ptQ, &ptQ, 0);
  fe_sub(gA, ptQ.y, ptQ.z);
  if (fe_is_zero(ptQ.x) && fe_is_zero(gA)) return 0; /* [8]A is the identity */
  to_cached(&tableA[0], &ptA);
  ptR = ptA;
  for (int j = 1; j < A_COUNT; j++) {
    pt_add_cached(&ptR, &ptR, &cached2A, 0, 1);
    to_cached(&tableA[j], &ptR);
  }
  sha512_init(&sha);
  sha512_update(&sha, sig, 32);
  sha512_update(&sha, pk, 32);
  sha512_update(&sha, msg, len);
  sha512_final(&sha, h);
  mod_l(kb, h);
  kb[32] = 0;
  memcpy(sb, sig + 32, 32);
  sb[32] = 0;
  int topK = wnaf(nafK, kb, 5);
  int topS = wnaf(nafS, sb, ED_W_B);
  int i = topK > topS ? topK : topS;
  fe_small(ptR.x, 0); fe_small(ptR.y, 1); fe_small(ptR.z, 1); fe_small(ptR.t, 0);
  while (i >= 0) {
    int dk = nafK[i], ds = nafS[i];
    pt_double(&ptR, &ptR, dk != 0 || ds != 0);
    if (dk > 0) pt_add_cached(&ptR, &ptR, &tableA[dk >> 1], 0, ds != 0);
    else if (dk < 0) pt_add_cached(&ptR, &ptR, &tableA[(-dk) >> 1], 1, ds != 0);
    if (ds > 0) pt_add_niels(&ptR, &ptR, ds >> 1, 0, 0);
    else if (ds < 0) pt_add_niels(&ptR, &ptR, (-ds) >> 1, 1, 0);
    i--;
  }
  fe_invert(gB, ptR.z);
  fe_mul(gC, ptR.x, gB);
  fe_mul(gD, ptR.y, gB);
  fe_to_bytes(enc, gD);
  enc[31] |= (uint8_t)(fe_parity(gC) << 7);
  int diff = 0;
  for (int j = 0; j < 32; j++) diff |= enc[j] ^ sig[j];
  return diff == 0;
}
