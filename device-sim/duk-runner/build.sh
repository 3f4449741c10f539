#!/usr/bin/env bash
# Builds build/duk-capped: the memory-capped Duktape host of device-sim/duk-runner/duk-capped.c,
# compiled with the host gcc from Debian duktape-dev's single-file source
# (/usr/share/duktape/duktape.c + duk_config.h) and the native SHA-256 it shares with the MCU
# firmware (device-sim/native/sha256.c). Rebuilds only when a source is newer than
# the binary (pass --force to rebuild anyway). Usage: bash device-sim/duk-runner/build.sh [--force]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
duk_src="${DUKTAPE_SRC:-/usr/share/duktape}"
out="$repo/build/duk-capped"
src="$here/duk-capped.c"
native="$repo/device-sim/native"

if ! command -v "${CC:-gcc}" >/dev/null 2>&1; then
  echo "duk-runner/build.sh: ${CC:-gcc} not found (apt-get install -y gcc)" >&2
  exit 1
fi
for f in duktape.c duktape.h duk_config.h; do
  if [ ! -f "$duk_src/$f" ]; then
    echo "duk-runner/build.sh: $duk_src/$f not found (apt-get install -y duktape-dev)" >&2
    exit 1
  fi
done

if [ "${1:-}" != "--force" ] && [ -x "$out" ] && [ "$out" -nt "$src" ] && [ "$out" -nt "$native/sha256.c" ] && [ "$out" -nt "$native/sha256.h" ] && [ "$out" -nt "$duk_src/duktape.c" ] && [ "$out" -nt "$0" ]; then
  echo "build/duk-capped: up to date"
  exit 0
fi

mkdir -p "$repo/build"
tmp="$out.$$.tmp"
trap 'rm -f "$tmp"' EXIT
"${CC:-gcc}" -std=c99 -O2 -Wall -Wno-unused-function -I"$duk_src" -I"$native" -o "$tmp" "$src" "$native/sha256.c" "$duk_src/duktape.c" -lm
mv -f "$tmp" "$out"
echo "build/duk-capped: built ($(stat -c %s "$out") bytes)"
