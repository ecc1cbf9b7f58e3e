#!/usr/bin/env bash
# Every benchmark figure in one table: serves a random-weight model of the
# 100M shape (12 layers, d 768, 12 heads, ctx 512, vocab 32000, fp32) with
# chatd + one chat-worker, loads it with `chatctl bench` at 1 and 16
# concurrent streams, reads both processes' peak RSS from /proc, then runs
# decode_bench (the weights' streaming read, batch 1/8/32, cached vs naive
# recompute, prefill; fp32 and bf16 weights) and train_bench. The HTTP runs
# are greedy but for one 16-stream run that samples (temperature 0.8,
# top_p 0.95) as chat clients do; the random weights give nearly flat
# distributions there, the sampler's hardest case (top_p keeps most of the
# vocabulary). A second service drafts (speculative decoding, off by
# default) for one more 1-stream run. Compare rows of one run: the machine
# may be shared.
#
#   bench/run_all.sh [--quick]     # --quick: fewer requests and tokens
#
# Builds what it needs into build/ first (scripts/build.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build"
quick=0
[ "${1:-}" = "--quick" ] && quick=1

bash "$root/scripts/build.sh" chatd chat-worker chatctl make_bench_model \
  decode_bench train_bench >/dev/null

work=$(mktemp -d /tmp/chat-bench.XXXXXX)
chatd_pid=""
cleanup() {
  if [ -n "$chatd_pid" ] && kill -0 "$chatd_pid" 2>/dev/null; then
    kill -TERM "$chatd_pid"
    wait "$chatd_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ $quick = 1 ]; then
  output=32 requests1=2 requests16=16 naive=8 train_steps=1
else
  output=128 requests1=4 requests16=32 naive=16 train_steps=3
fi

# -- the model: random weights, the default model's tokenizer --
tokenizer="$root/models/default/tokenizer.model"
# Whole text pieces only: the ids after the last byte piece, up to the
# tokenizer's size.
pieces=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["vocab_size"])' \
  "$root/models/default/config.json")
first_text=$(spm_export_vocab --model "$tokenizer" | grep -n '^<0xFF>' | cut -d: -f1)
"$build/bench/make_bench_model" --shape 100m --out "$work/model" \
  --text-ids "$first_text:$pieces" >/dev/null
cp "$tokenizer" "$work/model/tokenizer.model"

# -- the service --
start_chatd() {  # [chatd flags]: a fresh data dir; sets url and worker_pid
  rm -rf "$work/data"
  "$build/tools/chatd" --data-dir "$work/data" --listen 127.0.0.1:0 \
    --model.path "$work/model" "$@" 2>"$work/chatd.log" &
  chatd_pid=$!
  url=""
  for _ in $(seq 600); do
    address=$(sed -n 's/.*chatd: listening.*address=\([^ ]*\).*/\1/p' \
      "$work/chatd.log" | tail -1)
    if [ -n "$address" ] && curl -sf "http://$address/readyz" >/dev/null; then
      url="http://$address"
      break
    fi
    kill -0 "$chatd_pid" 2>/dev/null || break
    sleep 0.5
  done
  if [ -z "$url" ]; then
    echo "run_all: chatd did not become ready; its log:" >&2
    cat "$work/chatd.log" >&2
    exit 1
  fi
  worker_pid=$(pgrep -P "$chatd_pid" -f chat-worker | head -1)
  export CHATCTL_URL="$url" CHATCTL_KEY=$(cat "$work/data/admin.key")
  # Warm-up: first-request allocations are not part of the figures.
  "$build/tools/chatctl" bench --requests 1 --output-tokens 8 >/dev/null \
    || true
}
stop_chatd() {
  kill -TERM "$chatd_pid"
  wait "$chatd_pid" 2>/dev/null || true
  chatd_pid=""
}
start_chatd

bench() {  # concurrency requests [chatctl bench flags]
  "$build/tools/chatctl" --json bench --concurrency "$1" --requests "$2" \
    --output-tokens "$output" --prompt-words 32 "${@:3}" || true
}
single=$(bench 1 "$requests1")
multi=$(bench 16 "$requests16")
sampled=$(bench 16 "$requests16" --temperature 0.8 --top-p 0.95)
peak_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
chatd_kib=$(peak_kib "$chatd_pid")
worker_kib=$(peak_kib "$worker_pid")
stop_chatd
# Speculative decoding (off by default): one stream again, drafting.
start_chatd --worker.draft_tokens 4
drafting=$(bench 1 "$requests1")
drafts=$(curl -sf "$url/metrics" | awk '
  /^chatd_draft_tokens_total\{/ {d += $2}
  /^chatd_draft_tokens_accepted_total\{/ {a += $2}
  END {printf "%d / %d", a, d}')
stop_chatd

# -- the model alone --
decode=$("$build/bench/decode_bench" --shape 100m --new-tokens "$output" \
  --naive-tokens "$naive")
decode_bf16=$("$build/bench/decode_bench" --shape 100m --new-tokens "$output" \
  --naive-tokens "$naive" --weights bf16)
train=$("$build/bench/train_bench" --shape 100m --steps "$train_steps")

# -- one table --
python3 - "$single" "$multi" "$chatd_kib" "$worker_kib" "$decode" "$train" \
  "$decode_bf16" "$sampled" "$drafting" "$drafts" <<'PY'
import json, re, sys
single, multi = json.loads(sys.argv[1]), json.loads(sys.argv[2])
chatd_kib, worker_kib = int(sys.argv[3]), int(sys.argv[4])
decode, train, decode_bf16 = sys.argv[5], sys.argv[6], sys.argv[7]
sampled, drafting = json.loads(sys.argv[8]), json.loads(sys.argv[9])
drafts = sys.argv[10]
rows = []
def row(what, value, target=""):
    rows.append((what, value, target))
def serving(name, r, target="", ttft_target="", latencies=True):
    row(f"HTTP {name}: output tok/s", f"{r['output_tokens_per_s']:.1f}", target)
    row(f"HTTP {name}: errors / requests", f"{r['errors']} / {r['requests']}",
        "0 errors" if target else "")
    if not latencies:
        return
    row(f"HTTP {name}: TTFT p50 / p99 ms",
        f"{r['ttft_ms']['p50']:.0f} / {r['ttft_ms']['p99']:.0f}", ttft_target)
    row(f"HTTP {name}: ITL p50 / p99 ms",
        f"{r['inter_token_ms']['p50']:.1f} / {r['inter_token_ms']['p99']:.1f}")
serving("1 stream", single, ">= 110")
serving("16 streams", multi, ">= 300", "p99 <= 1500")
# Sampling also draws ids the tokenizer lacks (make_bench_model), which
# stream no text: the first text chunk and the gaps between chunks time no
# token.
serving("16 streams sampled", sampled, latencies=False)
# The random model's greedy replies fall into loops, which the drafts
# continue: a favourable text for speculative decoding.
row("HTTP 1 stream, drafts of 4: output tok/s",
    f"{drafting['output_tokens_per_s']:.1f}")
row("HTTP 1 stream, drafts of 4: accepted / drafted tokens", drafts)
for m in re.finditer(r"^\s*(\d+) \|\s*([\d.]+) \(\d+ new\) \|\s*([\d.]+)",
                     decode, re.M):
    b, cached, naive = m.groups()
    row(f"decode batch {b}: cached / naive tok/s", f"{cached} / {naive}",
        ">= 110 (batch 1)" if b == "1" else "")
# bf16 weights; "same" compares its greedy tokens with fp32's naive ones.
for m in re.finditer(r"^\s*(\d+) \|\s*([\d.]+) \(\d+ new\) \|.*\| (\w+)$",
                     decode_bf16, re.M):
    b, cached, same = m.groups()
    row(f"decode batch {b}, bf16 weights: tok/s (same tokens as fp32)",
        f"{cached} ({same.lower()})")
for name, out in (("fp32", decode), ("bf16", decode_bf16)):
    m = re.search(r"streaming read ([\d.]+) GB/s: batch 1 can reach at most "
                  r"([\d.]+)", out)
    if m:
        row(f"decode batch 1 bound, {name} weights: read GB/s, tok/s",
            f"{m.group(1)}, {m.group(2)}")
m = re.search(r"prefill: prompt (\d+), batch 1: ([\d.]+) tok/s \(chunks of "
              r"(\d+)\)", decode)
if m:
    row(f"prefill, prompt {m.group(1)} in chunks of {m.group(3)}: tok/s",
        m.group(2))
m = re.search(r"^\s*100m \|[^|]*\|\s*([\d.]+)", train, re.M)
if m:
    row("training 4 x 512: tok/s", m.group(1), ">= 184")
row("peak RSS chatd + worker MiB",
    f"{chatd_kib / 1024:.0f} + {worker_kib / 1024:.0f} = "
    f"{(chatd_kib + worker_kib) / 1024:.0f}", "<= 1126 (1.1 GiB)")
widths = [max(len(r[i]) for r in rows + [("figure", "value", "target")])
          for i in range(3)]
def line(r):
    print(" | ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
line(("figure", "value", "target"))
line(tuple("-" * w for w in widths))
for r in rows:
    line(r)
PY
echo
echo "decode_bench:"; echo "$decode"
echo "decode_bench --weights bf16:"; echo "$decode_bf16"
echo "train_bench:"; echo "$train"
