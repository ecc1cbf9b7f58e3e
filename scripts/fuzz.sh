#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang, ASan and UBSan into
# build-fuzz/ and runs each for a bounded time, one after the other on one
# core, then prints a table. A finding (crash input) is kept under
# build-fuzz/fuzz-runs/<target>/ and makes the script fail; fix it and copy
# the input to fuzz/regressions/<target>/ (the unit tests replay those).
# Usage: scripts/fuzz.sh [seconds-per-target] [target...]
#        (default 60 seconds, every target; FUZZ_ARGS adds libFuzzer flags;
#        FUZZ_NO_BUILD=1 runs what build-fuzz/ holds, e.g. while it builds
#        the next target)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(http_request ws_frame chat_data config checkpoint)

build="$root/build-fuzz"
if [ -z "${FUZZ_NO_BUILD:-}" ]; then
  export CCACHE_BASEDIR="$root"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=clang++ -DCHAT_FUZZ=ON -DCHAT_BUILD_TESTS=OFF \
    >/dev/null
  ninja -C "$build" -j "${CHAT_BUILD_JOBS:-2}" "${targets[@]/#/fuzz_}"
fi

# A finding must stop the run and be reported, not only logged.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
rows=()
failed=0
for t in "${targets[@]}"; do
  run="$build/fuzz-runs/$t"
  mkdir -p "$run/corpus" "$run/artifacts"
  inputs=("$run/corpus" "$root/fuzz/corpus/$t")
  [ -d "$root/fuzz/regressions/$t" ] && inputs+=("$root/fuzz/regressions/$t")
  echo "fuzz: $t for ${seconds}s (log: $run/fuzz.log)"
  rc=0
  # Every input takes milliseconds; the generous timeout still catches a
  # hang but not a run descheduled for seconds on a loaded machine (a
  # 10-second limit reported inputs that replay in 0.4 s).
  # shellcheck disable=SC2086
  "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=60 \
    -print_final_stats=1 -artifact_prefix="$run/artifacts/" \
    ${FUZZ_ARGS:-} "${inputs[@]}" >"$run/fuzz.log" 2>&1 || rc=$?
  stat() { sed -n "s/^stat::$1: *//p" "$run/fuzz.log" | tail -1; }
  last=$(grep -E '^#[0-9]+' "$run/fuzz.log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
  result=ok
  if [ "$rc" -ne 0 ]; then
    result="FINDING (exit $rc): $(ls -t "$run/artifacts" | head -1)"
    failed=1
  fi
  rows+=("$(printf '%-13s %7s %12s %8s %7s %6s %7s  %s' "$t" "$seconds" \
    "$(stat number_of_executed_units)" "$(stat average_exec_per_sec)" \
    "${corp:-?}" "${cov:-?}" "${ft:-?}" "$result")")
done

printf '%-13s %7s %12s %8s %7s %6s %7s  %s\n' target seconds executions \
  exec/s corpus cov ft result
printf '%s\n' "${rows[@]}"
exit "$failed"
