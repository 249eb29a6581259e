#!/usr/bin/env bash
# Builds examples/embedding against the package as a user gets it (the `npm pack` tarball, in a
# clean directory, skipLibCheck false) and runs it. Needs a built dist/ (npm run build).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tarball="$(cd "$root" && npm pack --ignore-scripts --silent --pack-destination "$work")"
cp -r "$root/examples/embedding" "$work/app"
rm -rf "$work/app/node_modules" "$work/app/dist"
cd "$work/app"
npm install --no-audit --no-fund --silent "$work/$tarball"
out="$(npm start --silent)"
echo "$out"
grep -q "^Gateway .* ok=true" <<<"$out"
