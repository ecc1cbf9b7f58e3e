#!/usr/bin/env bash
# Sets up, builds and starts chatd on its defaults (127.0.0.1:8080, data in
# ./data). Extra arguments go to chatd (see `build/tools/chatd --help`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/build.sh"
exec "$root/build/tools/chatd" "$@"
