/* SHA-512 (FIPS 180-4), incremental, no allocation: the hash inside the native Ed25519
   verifier (ed25519.c), k = SHA-512(R || A || M). */
#ifndef FWSEAL_SHA512_H
#define FWSEAL_SHA512_H
#include <stddef.h>
#include <stdint.h>

/** Hash state: chaining value, partial block, total length in bytes. */
typedef struct {
  uint64_t h[8];
  uint8_t buf[128];
  size_t fill;
  uint64_t total;
} sha512_ctx;

void sha512_init(sha512_ctx *c);
void sha512_update(sha512_ctx *c, const uint8_t *p, size_t n);
void sha512_final(sha512_ctx *c, uint8_t out[64]);

#endif
