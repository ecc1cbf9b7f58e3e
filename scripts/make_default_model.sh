#!/usr/bin/env bash
# Rebuilds models/default from scratch, reproducibly (fixed seeds): a BPE
# tokenizer on Tiny Shakespeare and synthetic chats, pretraining on the
# Shakespeare text, fine-tuning on the chats (loss on assistant tokens
# only) and a second, lower-rate fine-tune pass, then the held-out addition
# eval. Writes models/default/README.md
# with the figures it measured. The result is committed, so the service
# never needs this.
#
#   scripts/make_default_model.sh
#
# CHAT_BUILD_DIR picks the build (default build/), CHAT_MODEL_WORK the
# scratch directory (default build/default-model, wiped first).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CHAT_BUILD_DIR:-$root/build}
work=${CHAT_MODEL_WORK:-$root/build/default-model}
text=$root/../shared/data/tinyshakespeare.txt
out=$root/models/default

seed=1
vocab_size=2000
chat_count=60000
addition_fraction=0.85
context=128
model="{\"vocab_size\": $vocab_size, \"context\": $context, \"n_layer\": 4, \"n_head\": 4, \"d_model\": 128}"
pretrain_steps=200
pretrain_batch=32
finetune_steps=1500
finetune_batch=24
refine_steps=600

[ -f "$build/build.ninja" ] ||
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$build" -j "${CHAT_BUILD_JOBS:-2}" chat-prep chat-train chat-generate
prep=$build/tools/chat-prep
train=$build/tools/chat-train

rm -rf "$work"
mkdir -p "$work"
started=$(date +%s)

"$prep" gen-chat --seed "$seed" --count "$chat_count" \
  --addition-fraction "$addition_fraction" --out "$work/chats.jsonl"
"$prep" train-tokenizer --input "$text" --chat-input "$work/chats.jsonl" \
  --vocab-size "$vocab_size" --out "$work/tokenizer.model"
"$prep" text --tokenizer "$work/tokenizer.model" --input "$text" \
  --out "$work/text" --val-fraction 0.05 --context "$context"
"$prep" chat --tokenizer "$work/tokenizer.model" --input "$work/chats.jsonl" \
  --out "$work/chat" --val-fraction 0.02 --context "$context"

cat >"$work/pretrain.json" <<EOF
{"type": "pretrain", "data_dir": "$work/text", "out_dir": "$work/pretrain",
 "extra_files": ["$work/tokenizer.model"],
 "model": $model,
 "hyper": {"max_steps": $pretrain_steps, "batch_size": $pretrain_batch,
           "lr": 2e-3, "min_lr": 2e-4, "warmup_steps": 50,
           "eval_interval": 100, "eval_steps": 10,
           "checkpoint_interval": $pretrain_steps, "seed": $seed,
           "device": "cpu"}}
EOF
cat >"$work/finetune.json" <<EOF
{"type": "finetune", "data_dir": "$work/chat", "out_dir": "$work/finetune",
 "base_checkpoint": "$work/pretrain/$(printf 'step-%08d' "$pretrain_steps")",
 "extra_files": ["$work/tokenizer.model"],
 "hyper": {"max_steps": $finetune_steps, "batch_size": $finetune_batch,
           "lr": 2e-3, "min_lr": 1e-4, "warmup_steps": 100,
           "eval_interval": 250, "eval_steps": 10,
           "checkpoint_interval": 250, "seed": $seed, "device": "cpu"}}
EOF
# The sums' last digits come late (6% exact at fine-tune step 1000, 52% at
# 1500, as the rate anneals); a second annealed pass on fresh batches
# finishes them.
cat >"$work/refine.json" <<EOF
{"type": "finetune", "data_dir": "$work/chat", "out_dir": "$work/refine",
 "base_checkpoint": "$work/finetune/$(printf 'step-%08d' "$finetune_steps")",
 "extra_files": ["$work/tokenizer.model"],
 "hyper": {"max_steps": $refine_steps, "batch_size": $finetune_batch,
           "lr": 1e-3, "min_lr": 5e-5, "warmup_steps": 50,
           "eval_interval": 300, "eval_steps": 10,
           "checkpoint_interval": 300, "seed": $((seed + 1)), "device": "cpu"}}
EOF
# The trainer prints a JSON line per step; keep the log, show the rest.
for job in pretrain finetune refine; do
  nice -n 10 "$train" --spec "$work/$job.json" | tee "$work/$job.log" |
    grep --line-buffered -v '"type":"step"'
done
finished=$(date +%s)

final=$work/refine/$(printf 'step-%08d' "$refine_steps")
rm -rf "$out.tmp"
mkdir -p "$out.tmp"
cp "$final/config.json" "$final/model.pt" "$final/meta.json" \
  "$final/tokenizer.model" "$out.tmp/"
rm -rf "$out"
mv "$out.tmp" "$out"

score=$(CHAT_BUILD_DIR=$build CHAT_EVAL_SEED=$seed \
  bash "$root/scripts/eval_default_model.sh" "$out")
echo "$score"

# The figures, from the logs this run wrote.
json_field() { grep -o "\"$1\":[^,}]*" | tail -1 | cut -d: -f2; }
params=$(grep '"type":"start"' "$work/pretrain.log" | json_field params)
pretrain_val=$(grep '"type":"eval"' "$work/pretrain.log" | json_field val_loss)
finetune_val=$(grep '"type":"eval"' "$work/refine.log" | json_field val_loss)
correct=$(json_field correct <<<"$score")
total=$(json_field total <<<"$score")
accuracy=$(json_field accuracy <<<"$score")
cat >"$out/README.md" <<EOF
# The default model

What \`chatd\` serves out of the box. Built by \`scripts/make_default_model.sh\`
(fixed seeds; about $(( (finished - started + 59) / 60 )) minutes of training here)
and evaluated by \`scripts/eval_default_model.sh\`.

## How it was built
1. \`chat-prep gen-chat --seed $seed --count $chat_count --addition-fraction $addition_fraction\`:
   synthetic chats (greetings, fixed-answer questions, two-digit additions
   "What is 37+45?" → "37+45 = 82."); the held-out addition pairs (about a
   tenth of all pairs, symmetric) never appear in them.
2. A SentencePiece BPE tokenizer (vocab $vocab_size, byte fallback, digits split,
   chat pieces) trained on \`../shared/data/tinyshakespeare.txt\` and the chats.
3. Pretraining from scratch on the Shakespeare text: $pretrain_steps steps of
   $pretrain_batch × $context tokens, AdamW, lr 2e-3 → 2e-4.
4. Fine-tuning on the chats, loss on assistant tokens only: $finetune_steps steps of
   $finetune_batch × $context tokens, lr 2e-3 → 1e-4; then a second pass from that
   checkpoint on other batches: $refine_steps steps, lr 1e-3 → 5e-5.

Model (config.json): \`$model\`, $params parameters, fp32.

## Figures (measured by the run that wrote this directory)
| what | value |
| --- | --- |
| held-out two-digit additions, greedy, exact reply | $correct / $total = $accuracy |
| training wall time (data prep + the three jobs, $(nproc) cores, shared) | $((finished - started)) s |
| parameters | $params |
| pretrain validation loss (Shakespeare) | $pretrain_val |
| fine-tune validation loss (assistant tokens) | $finetune_val |
| model.pt | $(stat -c %s "$out/model.pt") bytes |
| tokenizer.model | $(stat -c %s "$out/tokenizer.model") bytes |
| built on | $(date -u +%Y-%m-%d) |

## Limits
- Raw text prompts: after the chat fine-tune the model mostly ends a plain
  Shakespeare prompt with <|end|> or chat phrases (the eval script prints
  these figures for information); the pretrained checkpoint
  (build/default-model/pretrain/) continues it in Shakespeare's style
  (validation loss above). A fine-tune that must keep the text style can mix
  plain text into its batches (\`text_mix\` in chat-train's job spec); no mix
  tried for this model kept raw continuations free of chat phrases while
  keeping held-out additions at 95% or more, so this recipe uses none.
- Greetings and questions outside the synthetic set get a canned answer.

Reproduce: \`scripts/make_default_model.sh\` (rebuilds this directory);
evaluate: \`scripts/eval_default_model.sh [MODEL_DIR]\`.
EOF
