#!/usr/bin/env bash
# Builds Espruino's Linux interpreter from a git checkout of espruino/Espruino, OUTSIDE this
# repository, with a board-sized variable pool, for the Espruino suite
# (test/system/espruino.test.ts) and `npm run demo`:
#
#   git clone https://github.com/espruino/Espruino <espruino-checkout>
#   scripts/build-espruino.sh <espruino-checkout> 12000      # a Bangle.js 2's pool (default)
#   ESPRUINO_BIN=<espruino-checkout>/bin/espruino npx vitest run test/system/espruino.test.ts
#
# VARIABLES: 12000 (Bangle.js 2), 5100 (Pico), 2600 (Puck.js). The build takes about two
# minutes; the binary is <source>/bin/espruino (its flash is ./espruino.flash wherever it runs).
#
# Before building, scripts/espruino-linux-queue-lock.py gives the Linux build's input event
# queue the exclusion a board's receive interrupt has (the Linux build's stdin thread races the
# main loop and mangles or replays console input on a busy host; see that script). Set
# ESPRUINO_UPSTREAM=1 to build the checkout as it is.
set -euo pipefail
src="${1:?usage: scripts/build-espruino.sh <espruino-source-dir> [VARIABLES]}"
vars="${2:-12000}"
[ -f "$src/Makefile" ] || { echo "build-espruino: $src is not an Espruino source checkout" >&2; exit 2; }
[ -d "$src/.git" ] || echo "build-espruino: warning: $src is not a git checkout (Espruino's build reads its version from git)" >&2
here="$(cd "$(dirname "$0")/.." && pwd)"
case "$(cd "$src" && pwd)/" in "$here"/*) echo "build-espruino: build outside this repository" >&2; exit 2;; esac
[ "${ESPRUINO_UPSTREAM:-}" = 1 ] || python3 "$here/scripts/espruino-linux-queue-lock.py" "$src"
make -C "$src" clean >/dev/null 2>&1 || true
make -C "$src" -j"$(nproc)" BOARD=LINUX RELEASE=1 VARIABLES="$vars"
echo "build-espruino: $src/bin/espruino (VARIABLES=$vars)"
echo "  ESPRUINO_BIN=$src/bin/espruino npx vitest run test/system/espruino.test.ts"
