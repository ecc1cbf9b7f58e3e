#!/usr/bin/env bash
# Greedy accuracy of a model on the held-out two-digit additions (pairs the
# synthetic chat generator never puts in training data). The pipeline
# crosses the process split: chat-prep (SentencePiece) writes prompt ids,
# chat-generate (LibTorch) completes them, chat-prep decodes and scores.
#
#   scripts/eval_default_model.sh [MODEL_DIR (models/default)]
#
# Prints chat-prep eval-score's JSON line: {"correct","total","accuracy"}.
# CHAT_BUILD_DIR picks the build (default build/), CHAT_EVAL_SEED the
# phrasing of each question (default 1, as in make_default_model.sh),
# CHAT_EVAL_PRECISION the weights (default auto; bf16: bf16 weights on CPU).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model_dir=${1:-$root/models/default}
build=${CHAT_BUILD_DIR:-$root/build}
seed=${CHAT_EVAL_SEED:-1}

if [ ! -x "$build/tools/chat-prep" ] || [ ! -x "$build/tools/chat-generate" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C "$build" -j "${CHAT_BUILD_JOBS:-2}" chat-prep chat-generate
fi
prep=$build/tools/chat-prep

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# gen-chat writes the held-out questions to --eval-out; the training chats
# it writes alongside are not needed here.
"$prep" gen-chat --seed "$seed" --count 1 --out "$work/unused.jsonl" \
  --eval-out "$work/eval.jsonl" >/dev/null
"$prep" eval-prompts --tokenizer "$model_dir/tokenizer.model" \
  --input "$work/eval.jsonl" --out "$work/prompts.jsonl" >/dev/null
"$build/tools/chat-generate" --checkpoint "$model_dir" \
  --input "$work/prompts.jsonl" --output "$work/outputs.jsonl" \
  --max-tokens 16 --precision "${CHAT_EVAL_PRECISION:-auto}" >&2
"$prep" eval-score --tokenizer "$model_dir/tokenizer.model" \
  --input "$work/eval.jsonl" --outputs "$work/outputs.jsonl"
