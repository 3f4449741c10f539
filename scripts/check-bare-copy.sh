#!/usr/bin/env bash
# Proves the repository is self-contained: copies exactly the tracked files into a new,
# empty temporary folder (nothing beside them: no sibling checkout, no node_modules, no
# build output), installs the locked dependencies there with `npm ci` and runs the unit
# tier. Any file the project needs but does not track, or any path that reaches outside
# the repository, fails here. The copy is deleted afterwards, pass or fail.
# Outside a git checkout (a source archive, or a copy made by this very script) the files
# present are the tracked set, less what installs and builds create.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
copy="$(mktemp -d "${TMPDIR:-/tmp}/fwseal-bare-copy.XXXXXX")"
trap 'rm -rf "$copy"' EXIT

cd "$root"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z | tar --null --files-from=- -cf - | tar -xf - -C "$copy"
  echo "bare-copy: $(git ls-files | wc -l) tracked files copied to $copy"
else
  tar --exclude=./node_modules --exclude=./dist --exclude=./build --exclude=./.fwseal-demo -cf - . | tar -xf - -C "$copy"
  echo "bare-copy: not a git checkout; $(find "$copy" -type f | wc -l) files (without node_modules, dist, build) copied to $copy"
fi

cd "$copy"
npm ci --no-audit --no-fund
npm run test:unit
echo "bare-copy: unit tier passed in a bare copy of the tracked files"
