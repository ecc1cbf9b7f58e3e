#!/usr/bin/env bash
# Runs browser tests (node's test runner) with playwright-core from the npm
# registry, pinned in package-lock.json, and Debian's /usr/bin/chromium: no
# browser download. `run.sh install` only installs; else the arguments are
# test files. ctest sets CHAT_TOOLS_DIR, CHAT_TINY_MODEL_DIR and WEB_ARTIFACTS.
set -euo pipefail
cd "$(dirname "$0")"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ "${1:-}" = install ]; then
  # npm ci starts from scratch each time; skip it while the lock is unchanged.
  if ! cmp -s package-lock.json node_modules/.chat-installed-lock 2>/dev/null; then
    npm ci --no-audit --no-fund
    cp package-lock.json node_modules/.chat-installed-lock
  fi
  exit 0
fi
exec node --test --test-concurrency=1 "$@"
