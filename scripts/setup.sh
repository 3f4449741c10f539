#!/usr/bin/env bash
# Installs everything fwseal's demo and tests need on a fresh Debian machine (run as root):
# the Debian packages (serial ptys, the Duktape engine, the Cortex-M emulator and
# cross-compiler, the SoftHSM2 PKCS#11 token, openssl for interop checks), then the npm
# packages (npm ci also builds dist/ and the ES5 device core through `prepare`).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(socat duktape duktape-dev qemu-system-arm gcc-arm-none-eabi
  libnewlib-arm-none-eabi softhsm2 openssl time g++ make python3)

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
