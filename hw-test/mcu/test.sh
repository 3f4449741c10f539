#!/usr/bin/env bash
# npm run test:mcu: builds the firmware, runs its platform tests on QEMU, then runs the
# serial protocol suite (hw-test/protocol.test.ts) against the emulated MCU over a pty:
# install, tampered/rollback/wrong-class rejections, revert, resume, and a power cut
# (QEMU killed with SIGKILL mid-install, restarted on the same flash file).
# Needs: qemu-system-arm, gcc-arm-none-eabi, libnewlib-arm-none-eabi, duktape-dev, and
# dist/ (npm run build) for provisioning and the host side.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

command -v qemu-system-arm >/dev/null || { echo "test:mcu: qemu-system-arm missing (apt-get install qemu-system-arm)" >&2; exit 1; }
bash "$here/build.sh"
[ -f dist/host/keys/keys.js ] || npx tsc -p tsconfig.json

work="$(mktemp -d "${TMPDIR:-/tmp}/fwseal-mcu-test.XXXXXX")"
cleanup() {
  node "$here/qemu.mjs" stop "$work/q" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "test:mcu: platform tests (boot, UART, SHA-256 native vs JS, Ed25519, flash power cut)"
npx vitest run --config hw-test/mcu/vitest.config.ts

echo "test:mcu: protocol suite against the emulated MCU"
words="$(node "$here/provision.mjs" "$work/keys" acme.example sensor-v3)"
# shellcheck disable=SC2086 # words are key=value tokens without spaces
port="$(node "$here/qemu.mjs" start "$work/q" $words)"
status=0
HW_PORT="$port" HW_KEYS_DIR="$work/keys" HW_VENDOR=acme.example HW_CLASS=sensor-v3 \
  HW_POWER_CYCLE_CMD="node $here/qemu.mjs power-cycle $work/q" \
  npx vitest run --config hw-test/vitest.config.ts hw-test/protocol.test.ts || status=$?

# Every boot, reset and new heap peak logs a stats line; the log spans all power cycles.
awk '/fwseal-mcu: stats/ { for (i = 1; i <= NF; i++) { split($i, kv, "=");
    if (kv[1] == "heap_peak" && kv[2] > h) h = kv[2]; if (kv[1] == "stack_peak" && kv[2] > s) s = kv[2];
    if (kv[1] == "heap_arena") a = kv[2]; if (kv[1] == "stack_size") z = kv[2] } }
  END { if (h) printf "test:mcu: firmware high-water during the protocol suite: heap %d of %d bytes, stack %d of %d bytes\n", h, a, s, z }' \
  "$work/q/qemu.log"
if grep -E "fwseal-mcu: (ERROR|FATAL|HARDFAULT)" "$work/q/qemu.log"; then status=1; fi
exit "$status"
