#!/usr/bin/env bash
# Fails when any executable in DIR loads both libtorch and libsentencepiece.
set -euo pipefail
dir=$1
found=0
for exe in "$dir"/*; do
  [ -f "$exe" ] && [ -x "$exe" ] || continue
  head -c4 "$exe" | grep -q ELF || continue
  found=$((found + 1))
  libs=$(ldd "$exe")
  if grep -q 'libtorch' <<<"$libs" && grep -q 'libsentencepiece' <<<"$libs"; then
    echo "FAIL: $exe loads both libtorch and libsentencepiece" >&2
    exit 1
  fi
  echo "ok: $(basename "$exe")"
done
[ "$found" -gt 0 ] || { echo "FAIL: no executables in $dir" >&2; exit 1; }
