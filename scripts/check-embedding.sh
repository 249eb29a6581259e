#!/usr/bin/env bash
# Builds examples/embedding against the package as a user gets it (the `npm pack` tarball, in a
# clean directory, with the latest effect 3.x rather than the one we develop with, skipLibCheck
# false), runs it and its tests (written against openclaw-gateway-effect/testing), and checks that
# the app holds one copy of effect. Needs a built dist/ (npm run build).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tarball="$(cd "$root" && npm pack --ignore-scripts --silent --pack-destination "$work")"
# An embedder's install: the tarball and effect only, at most 15 MB beyond effect itself.
mkdir "$work/bare" && (cd "$work/bare" && npm init -y >/dev/null && npm install --no-audit --no-fund --silent "$work/$tarball" "effect@3")
# effect's own dependencies (fast-check, pure-rand, ...) come with effect, not with us.
effect_kb=0
for dir in effect $(cd "$work/bare" && node -p 'Object.keys(require("effect/package.json").dependencies ?? {}).join(" ")'); do
  effect_kb=$((effect_kb + $(du -sk "$work/bare/node_modules/$dir" | cut -f1)))
done
beyond_kb=$(($(du -sk "$work/bare/node_modules" | cut -f1) - effect_kb))
echo "an embedder's install: ${beyond_kb} KB beyond effect (${effect_kb} KB with its own dependencies)"
if [ "$beyond_kb" -gt 15360 ]; then
  echo "the package installs ${beyond_kb} KB beyond effect; the budget is 15 MB (15360 KB)" >&2
  exit 1
fi
cp -r "$root/examples/embedding" "$work/app"
rm -rf "$work/app/node_modules" "$work/app/dist" "$work/app/package-lock.json"
cd "$work/app"
npm install --no-audit --no-fund --silent "$work/$tarball" "effect@3"
echo "effect $(node -p 'require("effect/package.json").version')"
copies="$(find node_modules -path '*/effect/package.json' -not -path '*/effect/*/effect/package.json' | wc -l)"
if [ "$copies" -ne 1 ]; then
  echo "expected one copy of effect in the app, found $copies:" >&2
  find node_modules -path '*/effect/package.json' >&2
  exit 1
fi
out="$(npm start --silent)"
echo "$out"
grep -q "^Gateway .* ok=true" <<<"$out"
npm test --silent
