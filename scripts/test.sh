#!/usr/bin/env bash
# Sets up, builds and runs every test (unit and integration). Extra arguments
# go to ctest, e.g. `-L unit`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/build.sh"
cd "$root/build"
ctest --output-on-failure --no-tests=error "$@"
