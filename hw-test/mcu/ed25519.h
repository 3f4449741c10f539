/* Ed25519 signature verification (RFC 8032, formats/SPEC.md §6.1) in C: the firmware's
   native ed25519Verify primitive, a port of the device core's device-sim/core/crypto/
   ed25519.ts (same checks in the same order, same arithmetic, same constants). */
#ifndef FWSEAL_ED25519_H
#define FWSEAL_ED25519_H
#include <stddef.h>
#include <stdint.h>

/** 1 iff sig (64 bytes) is pk's (32 bytes) signature of msg[0..len), per SPEC §6.1. */
int ed25519_verify(const uint8_t pk[32], const uint8_t sig[64], const uint8_t *msg, size_t len);

#endif
