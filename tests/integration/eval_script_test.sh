#!/usr/bin/env bash
# scripts/eval_default_model.sh on the tiny model: the pipeline runs across
# the process split, prints both figures, and its exit status follows the
# addition accuracy alone (the tiny model need not pass; the raw-prompt
# figures are informational and carry no verdict).
# Usage: eval_script_test.sh SOURCE_DIR BUILD_DIR MODEL_DIR
set -euo pipefail
root=$1 build=$2 model=$3
status=0
out=$(CHAT_BUILD_DIR=$build bash "$root/scripts/eval_default_model.sh" \
  "$model" 2>/dev/null) || status=$?
echo "$out"
echo "exit status $status"
[ "$(wc -l <<<"$out")" -eq 2 ]
head -1 <<<"$out" | grep -q '"total":[1-9]'
tail -1 <<<"$out" | grep -q '"chat_fraction":'
tail -1 <<<"$out" | grep -q '"known_fraction":'
if grep -q '"pass"' <<<"$out"; then exit 1; fi
accuracy=$(head -1 <<<"$out" | grep -o '"accuracy":[^,}]*' | cut -d: -f2)
if awk -v a="$accuracy" 'BEGIN { exit !(a >= 0.90) }'; then
  [ "$status" -eq 0 ]
else
  [ "$status" -eq 1 ]
fi
