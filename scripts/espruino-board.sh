#!/usr/bin/env bash
# Starts (or power-cycles) an Espruino "board" for the serial suites: ESPRUINO_BIN (the Linux
# build, scripts/build-espruino.sh) on a pseudo-terminal <dir>/tty, its flash <dir>/espruino.flash.
# Running it again kills that board (SIGKILL: a power cut) and starts it on the same flash, so
#   HW_POWER_CYCLE_CMD="scripts/espruino-board.sh <dir>"
# gives hw-test/protocol.test.ts its power-loss test. `scripts/espruino-board.sh <dir> stop` stops it.
set -euo pipefail
dir="${1:?usage: scripts/espruino-board.sh <dir> [stop]}"
bin="${ESPRUINO_BIN:?set ESPRUINO_BIN to the Espruino Linux binary}"
mkdir -p "$dir"
if [ -f "$dir/pids" ]; then
  for p in $(cat "$dir/pids"); do kill -9 "$p" 2>/dev/null || true; done
  rm -f "$dir/pids"
  sleep 0.2
fi
[ "${2:-}" = stop ] && exit 0
rm -f "$dir/tty"
# Detached from the caller's stdio, so a test runner that started it is not kept waiting.
(cd "$dir" && exec socat -d -d "PTY,link=$dir/tty,raw,echo=0" "EXEC:$bin,pty,raw,echo=0" </dev/null >/dev/null 2>"$dir/socat.log") &
echo $! >"$dir/pids"
for _ in $(seq 100); do
  grep -q "starting data transfer loop" "$dir/socat.log" 2>/dev/null && break
  sleep 0.05
done
child=$(sed -n 's/.*forked off child process \([0-9]*\).*/\1/p' "$dir/socat.log" | head -1)
[ -n "$child" ] && echo "$child" >>"$dir/pids"
echo "$dir/tty"
