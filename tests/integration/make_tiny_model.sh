#!/usr/bin/env bash
# Builds a tiny but real model for the integration tests: a SentencePiece
# tokenizer, chat shards and a few chat-train steps (seconds on a CPU).
# Usage: make_tiny_model.sh TOOLS_DIR SHAKESPEARE OUT_DIR [VOCAB [SEED]]
set -euo pipefail
tools=$1 corpus=$2 out=$3 vocab=${4:-400} seed=${5:-1337}
work="$out.work"
rm -rf "$work" "$out"
mkdir -p "$work"
head -c 60000 "$corpus" > "$work/text.txt"
"$tools/chat-prep" gen-chat --seed 7 --count 400 --out "$work/chats.jsonl" >/dev/null
"$tools/chat-prep" train-tokenizer --input "$work/text.txt" \
  --chat-input "$work/chats.jsonl" --vocab-size "$vocab" \
  --out "$work/tokenizer.model" >/dev/null
"$tools/chat-prep" chat --tokenizer "$work/tokenizer.model" \
  --input "$work/chats.jsonl" --out "$work/data" --context 64 >/dev/null
cat > "$work/spec.json" <<JSON
{"type":"pretrain","data_dir":"$work/data","out_dir":"$work/ckpt",
 "extra_files":["$work/tokenizer.model"],
 "model":{"vocab_size":$vocab,"context":128,"n_layer":2,"n_head":2,"d_model":64,
          "dropout":0.0},
 "hyper":{"max_steps":30,"batch_size":8,"lr":0.003,"min_lr":0.0003,
          "warmup_steps":5,"eval_interval":30,"eval_steps":2,
          "checkpoint_interval":30,"seed":$seed,"device":"cpu"}}
JSON
"$tools/chat-train" --spec "$work/spec.json" > "$work/train.log"
final=$(ls -d "$work"/ckpt/*/ | sort | tail -n 1)
mv "${final%/}" "$out"
rm -rf "$work"
echo "tiny model in $out"
