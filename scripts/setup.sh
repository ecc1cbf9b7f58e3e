#!/usr/bin/env bash
# Installs every Debian 12 package the project needs. Idempotent: apt skips what is
# already there. Run as root (or with sudo available).
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git curl
  libcaf-dev
  libboost-dev
  libtorch-dev
  libopenblas0-pthread
  libsentencepiece-dev sentencepiece
  libsqlitecpp-dev libsqlite3-dev
  libssl-dev openssl
  catch2
  nlohmann-json3-dev
  libre2-dev libicu-dev
  python3
  chromium
  # scripts/fuzz.sh: libFuzzer and the sanitizer runtimes come with clang;
  # llvm-symbolizer (llvm) names the frames of a finding.
  clang libclang-rt-14-dev llvm
)
# The browser tests (tests/web) run on Node.js with npm; a machine that has
# them from elsewhere (its own nodejs build) keeps them.
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all packages present"
  exit 0
fi

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update
"${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
