#!/usr/bin/env bash
# Cross-compiles the fwseal MCU firmware (mps2-an385 / Cortex-M3, Duktape + the ES5 device
# core) from Debian packages only: gcc-arm-none-eabi, libnewlib-arm-none-eabi, duktape-dev.
# Output: build/mcu/fw.elf. Reproducible: fixed flags, no timestamps, no debug paths.
# Usage: bash hw-test/mcu/build.sh   (npm run build:mcu)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/build/mcu"
duk=/usr/share/duktape
mkdir -p "$out"
cd "$root"

for tool in arm-none-eabi-gcc arm-none-eabi-size node; do
  command -v "$tool" >/dev/null || { echo "build:mcu: missing $tool (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi duktape-dev)" >&2; exit 1; }
done
[ -f "$duk/duktape.c" ] || { echo "build:mcu: missing $duk/duktape.c (apt-get install duktape-dev)" >&2; exit 1; }

# The ES5 device core (scripts/build-core-es5.mjs), rebuilt so the firmware embeds the
# current sources.
core="$root/build/fwseal-core.js"
if [ -f "$root/scripts/build-core-es5.mjs" ]; then
  node "$root/scripts/build-core-es5.mjs" --quiet || { echo "build:mcu: building the ES5 core failed" >&2; exit 1; }
fi
if [ ! -f "$core" ]; then
  echo "build:mcu: warning: $core missing, firmware runs the console only" >&2
  core="-"
fi

CC=arm-none-eabi-gcc
ARCH=(-mcpu=cortex-m3 -mthumb)
CFLAGS=("${ARCH[@]}" -Os -g0 -std=gnu99 -ffunction-sections -fdata-sections -fno-common
  -ffile-prefix-map="$root"=. -I"$out" -I"$here" -I"$root/device-sim/native")

# Duktape with our overrides at duk_config.h's __OVERRIDE_DEFINES__ hook. duktape.h includes
# "duk_config.h" from its own directory, so both headers are copied next to each other.
sed 's|/\* __OVERRIDE_DEFINES__ \*/|#include "duk_custom.h"|' "$duk/duk_config.h" > "$out/duk_config.h.new"
cp "$duk/duktape.h" "$out/duktape.h"
cp "$here/duk_custom.h" "$out/duk_custom.h"
stamp="$(cat "$out/duk_config.h.new" "$here/duk_custom.h" "$duk/duktape.c" | sha256sum | cut -c1-16) ${CFLAGS[*]}"
if [ ! -f "$out/duktape.o" ] || [ "$(cat "$out/duktape.stamp" 2>/dev/null)" != "$stamp" ]; then
  mv "$out/duk_config.h.new" "$out/duk_config.h"
  echo "build:mcu: compiling Duktape 2.7 (once; about a minute)"
  cp "$duk/duktape.c" "$out/duktape.c"
  (cd "$out" && $CC "${CFLAGS[@]}" -w -c duktape.c -o duktape.o)
  echo "$stamp" > "$out/duktape.stamp"
else
  rm -f "$out/duk_config.h.new"
fi

node "$here/gen-js-sources.mjs" "$core" "$here/main.js" "$out/js_sources.c"
node "$here/gen-ed25519-consts.mjs" "$root" "$out/ed25519_consts.h"

objs=("$out/duktape.o")
for src in startup board heap flash main; do
  $CC "${CFLAGS[@]}" -Wall -Wextra -c "$here/$src.c" -o "$out/$src.o"
  objs+=("$out/$src.o")
done
# The native primitives are the hot code: -O2 for them alone (SHA-256 is shared with
# device-sim/duk-runner; Ed25519 and its SHA-512 are ports of the core's verifier)
$CC "${CFLAGS[@]}" -O2 -Wall -Wextra -c "$root/device-sim/native/sha256.c" -o "$out/sha256.o"
for src in ed25519 sha512; do
  $CC "${CFLAGS[@]}" -O2 -Wall -Wextra -c "$here/$src.c" -o "$out/$src.o"
  objs+=("$out/$src.o")
done
$CC "${CFLAGS[@]}" -c "$out/js_sources.c" -o "$out/js_sources.o"
objs+=("$out/sha256.o" "$out/js_sources.o")

$CC "${ARCH[@]}" -nostartfiles -T "$here/link.ld" -Wl,--gc-sections -Wl,--build-id=none \
  -Wl,-Map="$out/fw.map" "${objs[@]}" -lm -lc -lgcc -o "$out/fw.elf"

echo "build:mcu: firmware $out/fw.elf"
arm-none-eabi-size "$out/fw.elf"
printf 'build:mcu: sha256 %s  (core: %s)\n' "$(sha256sum "$out/fw.elf" | cut -c1-16)" \
  "$([ "$core" = - ] && echo none || echo "$(wc -c < "$core") bytes")"
