#!/usr/bin/env bash
# Proves the repository is self-contained: copies exactly the tracked files into a new,
# empty temporary folder (nothing beside them: no sibling checkout, no node_modules, no
# build output), installs the locked dependencies there with `npm ci` and runs the unit
# tier. Any file the project needs but does not track, or any path that reaches outside
# the repository, fails here. The copy is deleted afterwards, pass or fail.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
copy="$(mktemp -d "${TMPDIR:-/tmp}/fwseal-bare-copy.XXXXXX")"
trap 'rm -rf "$copy"' EXIT

cd "$root"
git ls-files -z | tar --null --files-from=- -cf - | tar -xf - -C "$copy"
echo "bare-copy: $(git ls-files | wc -l) tracked files copied to $copy"

cd "$copy"
npm ci --no-audit --no-fund
npm run test:unit
echo "bare-copy: unit tier passed in a bare copy of the tracked files"
