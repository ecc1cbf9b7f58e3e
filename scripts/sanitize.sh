#!/usr/bin/env bash
# Builds unit test executables with AddressSanitizer and UBSan (gcc) into
# build-asan/ and runs their [unit] cases; the first error fails the run.
# Usage: scripts/sanitize.sh [test-target...]
# The default set is every LibTorch-free unit test: LibTorch's ~30 test and
# library files cost about 1 GiB and minutes each to compile, which this
# 2-core machine cannot spare twice over; Debian's libtorch itself is not
# instrumented either. Name unit_model_tests (etc.) to include them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(
  unit_config_tests unit_http_tests unit_tokenizer_tests unit_storage_tests
  unit_safety_tests unit_web_tests unit_chatctl_tests unit_actors_tests
  fuzz_replay_config fuzz_replay_http_request fuzz_replay_ws_frame
  fuzz_replay_chat_data)

build="$root/build-asan"
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
flags+=" -fno-omit-frame-pointer"
export CCACHE_BASEDIR="$root"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
ninja -C "$build" -j "${CHAT_BUILD_JOBS:-2}" "${targets[@]}"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
failed=()
for t in "${targets[@]}"; do
  bin=$(find "$build" -type f -name "$t" -perm -u+x | head -1)
  echo "== $t"
  if [[ $t == fuzz_replay_* ]]; then
    name=${t#fuzz_replay_}
    args=("$root/fuzz/corpus/$name" "$root/fuzz/regressions/$name")
  else
    args=("[unit]")
  fi
  # Tests find their data relative to the build tree, as under CTest.
  (cd "$(dirname "$bin")" && "$bin" "${args[@]}") || failed+=("$t")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "sanitize: failures in: ${failed[*]}"
  exit 1
fi
echo "sanitize: ${#targets[@]} executables clean under ASan and UBSan"
