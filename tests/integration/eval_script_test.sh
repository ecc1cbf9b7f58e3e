#!/usr/bin/env bash
# scripts/eval_default_model.sh on the tiny model: the pipeline runs across
# the process split and prints both figures (the tiny model need not pass).
# Usage: eval_script_test.sh SOURCE_DIR BUILD_DIR MODEL_DIR
set -euo pipefail
root=$1 build=$2 model=$3
out=$(CHAT_BUILD_DIR=$build bash "$root/scripts/eval_default_model.sh" \
  "$model" 2>/dev/null)
echo "$out"
[ "$(wc -l <<<"$out")" -eq 2 ]
head -1 <<<"$out" | grep -q '"total":[1-9]'
tail -1 <<<"$out" | grep -q '"chat_fraction":'
tail -1 <<<"$out" | grep -q '"known_fraction":'
tail -1 <<<"$out" | grep -q '"pass":'
