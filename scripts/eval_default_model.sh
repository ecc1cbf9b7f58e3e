#!/usr/bin/env bash
# Greedy evaluation of a model. Pass or fail: accuracy on the held-out
# two-digit additions (pairs the synthetic chat generator never puts in
# training data), at least 0.90 (the acceptance figure).
# Informational only: how raw Shakespeare prompts ("ROMEO:") are continued,
# i.e. how many continuations end with <|end|>, how many of the generated
# words occur in the corpus and how many word trigrams occur only in the
# chats' replies ("how can i help"); a model fine-tuned on chats alone ends
# them in chat phrases (text_mix keeps the text style). The pipeline
# crosses the process split: chat-prep (SentencePiece) writes prompt ids,
# chat-generate (LibTorch) completes them, chat-prep decodes and scores.
#
#   scripts/eval_default_model.sh [MODEL_DIR (models/default)]
#
# Prints two JSON lines: chat-prep eval-score's {"correct","total",
# "accuracy"} and text-score's {"words","known","known_fraction",
# "trigrams","chat_trigrams","chat_fraction","stopped"} (the continuations
# go to stderr). Exits 1 when the accuracy is below 0.90.
# CHAT_BUILD_DIR picks the build (default build/), CHAT_EVAL_SEED the
# phrasing of each question (default 1, as in make_default_model.sh),
# CHAT_EVAL_PRECISION the weights (default auto; bf16: bf16 weights on CPU).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model_dir=${1:-$root/models/default}
corpus=$root/../shared/data/tinyshakespeare.txt
build=${CHAT_BUILD_DIR:-$root/build}
seed=${CHAT_EVAL_SEED:-1}
min_accuracy=0.90

if [ ! -x "$build/tools/chat-prep" ] || [ ! -x "$build/tools/chat-generate" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C "$build" -j "${CHAT_BUILD_JOBS:-2}" chat-prep chat-generate
fi
prep=$build/tools/chat-prep

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# gen-chat writes the held-out questions to --eval-out; the training chats
# it writes alongside hold every reply phrase the text check looks for.
"$prep" gen-chat --seed "$seed" --count 5000 --out "$work/chats.jsonl" \
  --eval-out "$work/eval.jsonl" >/dev/null
"$prep" eval-prompts --tokenizer "$model_dir/tokenizer.model" \
  --input "$work/eval.jsonl" --out "$work/prompts.jsonl" >/dev/null
"$build/tools/chat-generate" --checkpoint "$model_dir" \
  --input "$work/prompts.jsonl" --output "$work/outputs.jsonl" \
  --max-tokens 16 --precision "${CHAT_EVAL_PRECISION:-auto}" >&2
score=$("$prep" eval-score --tokenizer "$model_dir/tokenizer.model" \
  --input "$work/eval.jsonl" --outputs "$work/outputs.jsonl")
echo "$score"

"$prep" text-prompts --tokenizer "$model_dir/tokenizer.model" \
  --prompt "ROMEO:" --prompt "JULIET:" --prompt "First Citizen:" \
  --prompt "KING RICHARD III:" --out "$work/text-prompts.jsonl" >/dev/null
"$build/tools/chat-generate" --checkpoint "$model_dir" \
  --input "$work/text-prompts.jsonl" --output "$work/text-outputs.jsonl" \
  --max-tokens 48 --precision "${CHAT_EVAL_PRECISION:-auto}" >&2
"$prep" text-score --tokenizer "$model_dir/tokenizer.model" \
  --corpus "$corpus" --chat-input "$work/chats.jsonl" \
  --outputs "$work/text-outputs.jsonl"

accuracy=$(grep -o '"accuracy":[^,}]*' <<<"$score" | cut -d: -f2)
if ! awk -v a="$accuracy" -v m="$min_accuracy" 'BEGIN { exit !(a >= m) }'; then
  echo "eval: held-out addition accuracy $accuracy is below $min_accuracy" >&2
  exit 1
fi
