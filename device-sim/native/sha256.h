/* SHA-256 (FIPS 180-4), one-shot, no allocation: the native primitive behind the device
   core's sha256(buf, off, len, out), shared by the MCU firmware (hw-test/mcu) and the
   memory-capped Duktape runner (device-sim/duk-runner). */
#ifndef FWSEAL_SHA256_H
#define FWSEAL_SHA256_H
#include <stddef.h>
#include <stdint.h>

void sha256(const uint8_t *data, size_t len, uint8_t out[32]);

#endif
