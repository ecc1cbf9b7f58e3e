#!/usr/bin/env bash
# Installs the packages (scripts/setup.sh), configures and builds everything
# into build/ (Release, Ninja, ccache). Extra arguments go to ninja.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
# Paths relative to the checkout in ccache's keys: another clone (CI's) reuses
# what this one compiled.
export CCACHE_BASEDIR="$root"
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
# Two cores here: more jobs only thrash (each LibTorch file needs ~1 GiB).
ninja -C "$root/build" -j "${CHAT_BUILD_JOBS:-2}" "$@"
