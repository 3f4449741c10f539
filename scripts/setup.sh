#!/usr/bin/env bash
# Installs everything fwseal's demo and tests need on a fresh Debian machine (run as root):
# the Debian packages (serial ptys, the Duktape engine, the Cortex-M emulator and
# cross-compiler, the SoftHSM2 PKCS#11 token, openssl for interop checks), then the npm
# packages (npm ci also builds dist/ and the ES5 device core through `prepare`), then the
# Python package hsslms (an independent HSS/LMS implementation for the interop tests) in a
# project-local virtual environment, build/hsslms-venv.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(socat duktape duktape-dev qemu-system-arm gcc-arm-none-eabi
  libnewlib-arm-none-eabi softhsm2 openssl time g++ make python3 python3-venv nginx bsdiff xdelta3)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "setup: installing npm packages (npm ci)"
npm ci --no-audit --no-fund

# hsslms (pure Python, "Leighton-Micali Hash-Based Signatures"): test/system/hss-lms-interop
# checks fwseal's HSS/LMS signatures against it in both directions. Without it that suite is
# skipped with the reason, so a machine that cannot reach the package index still sets up.
HSSLMS_VENV=build/hsslms-venv
if "$HSSLMS_VENV/bin/python" -c "import hsslms" 2>/dev/null; then
  echo "setup: hsslms already installed in $HSSLMS_VENV"
else
  echo "setup: installing the Python package hsslms into $HSSLMS_VENV"
  rm -rf "$HSSLMS_VENV"
  python3 -m venv "$HSSLMS_VENV"
  if ! "$HSSLMS_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --retries 1 --timeout 30 "hsslms==0.1.3"; then
    echo "setup: WARNING: could not install hsslms; test/system/hss-lms-interop.test.ts will be skipped" >&2
  fi
fi
