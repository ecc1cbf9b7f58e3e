// The worker engine under load: aggregate tokens/s at 1, 4, 8 and 16
// concurrent sequences (continuous batching against the same engine with
// max_batch 1, i.e. one sequence at a time, in the same run), the time
// to first token of a sequence that joins a busy batch, and the time to
// first token of each turn of a 10-turn conversation with prefix reuse off
// and on, and speculative decoding (drafts from the context) off and on at
// 1, 2, 4 and 8 sequences.
//
//   worker_bench [--shape small|100m|both] [--new-tokens N] [--prompt N]
//                [--quick] [--prefix-only] [--drafts-only]
//
// Random weights (seed 1337), greedy, fp32 on the CPU; each shape is
// written to a temporary checkpoint and loaded the way chat-worker loads it.

#include "actors/worker/engine.hpp"
#include "bench/bench_shapes.hpp"
#include "model/checkpoint.hpp"
#include "model/kv_cache.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

using namespace chat;
namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

namespace {

struct options {
  std::vector<std::string> shapes{"small", "100m"};
  int new_tokens = 128;
  int prompt = 16;
  std::vector<int> concurrency{1, 4, 8, 16};
  /// Only the conversation table (prefix reuse).
  bool prefix_only = false;
  /// Only the speculative decoding table.
  bool drafts_only = false;
};

double ms_between(clock_type::time_point a, clock_type::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

/// One sequence as the bench watches it; callbacks run on the engine
/// thread, the bench reads after `end` is ready.
struct stream {
  std::vector<std::int32_t> tokens;
  std::vector<clock_type::time_point> token_times;
  std::function<void(const stream&)> on_token;
  std::promise<caf::expected<generation_result>> ended;
  std::future<caf::expected<generation_result>> end = ended.get_future();

  worker::sequence_observer observer() {
    return {[this](std::vector<std::int32_t> new_tokens) {
              token_times.insert(token_times.end(), new_tokens.size(),
                                 clock_type::now());
              tokens.insert(tokens.end(), new_tokens.begin(),
                            new_tokens.end());
              if (on_token)
                on_token(*this);
            },
            [this](caf::expected<generation_result> e) {
              ended.set_value(std::move(e));
            }};
  }

  generation_result wait() {
    auto e = end.get();
    if (!e)
      throw std::runtime_error("a sequence failed: " + to_string(e.error()));
    return *e;
  }
};

/// Random prompts from one seeded generator, so every run asks the same.
class prompt_source {
public:
  explicit prompt_source(std::int64_t vocab) : vocab_(vocab) {
  }

  std::vector<std::int32_t> next(int length) {
    std::uniform_int_distribution<std::int32_t> id(
      0, static_cast<std::int32_t>(vocab_ - 1));
    std::vector<std::int32_t> p(length);
    for (auto& t : p)
      t = id(rng_);
    return p;
  }

private:
  std::int64_t vocab_;
  std::mt19937 rng_{1337};
};

generate_request greedy(std::uint64_t id, std::vector<std::int32_t> prompt,
                        int max_tokens) {
  generate_request r;
  r.id = id;
  r.prompt = std::move(prompt);
  r.sampling.temperature = 0.0f;
  r.sampling.max_tokens = max_tokens;
  return r;
}

void submit(worker::engine& eng, generate_request r, stream& s) {
  if (auto err = eng.submit(std::move(r), s.observer()))
    throw std::runtime_error("submit refused: " + to_string(err));
}

std::unique_ptr<worker::engine> make_engine(const fs::path& checkpoint,
                                            int max_batch,
                                            int prefill_chunk = 128,
                                            int prefix_cache_slots = 4,
                                            int draft_tokens = 0) {
  worker::engine_options o;
  o.model_dir = checkpoint.string();
  o.max_batch = max_batch;
  o.prefill_chunk = prefill_chunk;
  o.prefix_cache_slots = prefix_cache_slots;
  o.draft_tokens = draft_tokens;
  o.draft_max_batch = max_batch;
  return std::make_unique<worker::engine>(o);
}

struct batch_run {
  double tokens_per_sec;
  std::int64_t tokens;
  std::vector<std::vector<std::int32_t>> replies;
};

/// `n` sequences submitted at once; tokens/s counts all tokens over the
/// time from submitting to the last token.
batch_run run_batch(worker::engine& eng, prompt_source& prompts, int n,
                    const options& o) {
  std::vector<stream> streams(n);
  const auto start = clock_type::now();
  for (int i = 0; i < n; ++i)
    submit(eng, greedy(i, prompts.next(o.prompt), o.new_tokens), streams[i]);
  batch_run run{0, 0, {}};
  auto last = start;
  for (auto& s : streams) {
    run.tokens += s.wait().completion_tokens;
    last = std::max(last, s.token_times.back());
    run.replies.push_back(s.tokens);
  }
  run.tokens_per_sec = run.tokens / (ms_between(start, last) / 1000.0);
  return run;
}

double aggregate_tokens_per_sec(worker::engine& eng, prompt_source& prompts,
                                int n, const options& o) {
  return run_batch(eng, prompts, n, o).tokens_per_sec;
}

/// Greedy tokens/s of the model alone, batch 1, no engine: the ceiling of a
/// single stream.
double model_alone_tokens_per_sec(const fs::path& checkpoint,
                                  prompt_source& prompts, const options& o) {
  c10::InferenceMode inference;
  auto gpt = model::load_gpt(checkpoint, {});
  model::kv_cache cache(gpt->config(), 1, torch::kCPU, torch::kFloat);
  const auto slot = cache.acquire();
  auto prompt = prompts.next(o.prompt);
  auto idx = torch::tensor(std::vector<std::int64_t>(prompt.begin(),
                                                     prompt.end()))
               .view({1, -1});  // (1, P)
  auto next = gpt->forward_cached(idx, cache, {slot}, model::logits_for::last)
                .argmax(-1);  // (1, 1)
  const auto start = clock_type::now();
  for (int i = 1; i < o.new_tokens; ++i) {
    next = gpt->forward_cached(next, cache, {slot}).argmax(-1);  // (1, 1)
    (void)next.item<std::int64_t>();
  }
  return (o.new_tokens - 1) / (ms_between(start, clock_type::now()) / 1000.0);
}

struct join_timing {
  double ttft_ms;
  /// Longest pause between two tokens of a running stream while the new
  /// sequence was admitted.
  double longest_gap_ms;
};

/// Starts `busy` long sequences, waits until each has 4 tokens, then times
/// a new sequence with a `prompt_length` prompt from submit to first token.
join_timing join_busy_batch(worker::engine& eng, prompt_source& prompts,
                            int busy, int prompt_length, const options& o) {
  std::vector<stream> running(busy);
  std::atomic<int> warm{0};
  std::promise<void> all_warm;
  const auto long_run = static_cast<int>(eng.context()) - o.prompt - 1;
  for (int i = 0; i < busy; ++i) {
    running[i].on_token = [&, busy](const stream& s) {
      if (s.token_times.size() == 4 && ++warm == busy)
        all_warm.set_value();
    };
    submit(eng, greedy(100 + i, prompts.next(o.prompt), long_run),
           running[i]);
  }
  if (busy > 0)
    all_warm.get_future().wait();
  stream joining;
  const auto submitted = clock_type::now();
  submit(eng, greedy(99, prompts.next(prompt_length), 1), joining);
  joining.wait();
  const auto first = joining.token_times.front();
  for (int i = 0; i < busy; ++i)
    eng.cancel(100 + i);
  double gap = 0;
  for (auto& s : running) {
    s.wait();
    const auto& t = s.token_times;
    for (size_t k = 1; k < t.size(); ++k)
      if (t[k] >= submitted && t[k - 1] <= first)
        gap = std::max(gap, ms_between(t[k - 1], t[k]));
  }
  return {ms_between(submitted, first), gap};
}

struct turn_timing {
  int prompt_tokens;
  double ttft_ms;
  std::vector<std::int32_t> reply;
};

/// One conversation on an idle engine, turn after turn: the first prompt is
/// a `system`-token preamble and `user` tokens, each next one adds the
/// reply (`reply` tokens, greedy) and `user` new tokens.
std::vector<turn_timing> converse(worker::engine& eng, int turns, int system,
                                  int user, int reply) {
  // Warms the engine up with a prompt the conversation never starts with.
  stream warm_up;
  submit(eng,
         greedy(999,
                std::vector<std::int32_t>(
                  user, static_cast<std::int32_t>(eng.vocab_size() - 1)),
                2),
         warm_up);
  warm_up.wait();
  prompt_source source(eng.vocab_size());
  auto prompt = source.next(system + user);
  std::vector<turn_timing> out;
  for (int t = 0; t < turns; ++t) {
    stream s;
    const auto submitted = clock_type::now();
    submit(eng, greedy(1000 + t, prompt, reply), s);
    s.wait();
    out.push_back({static_cast<int>(prompt.size()),
                   ms_between(submitted, s.token_times.front()), s.tokens});
    prompt.insert(prompt.end(), s.tokens.begin(), s.tokens.end());
    const auto more = source.next(user);
    prompt.insert(prompt.end(), more.begin(), more.end());
  }
  return out;
}

/// Time to first token per turn of a 10-turn conversation, prefix reuse
/// off and on, on otherwise equal engines.
void bench_prefix_reuse(const model::gpt_config& config, const fs::path& dir) {
  const int turns = 10;
  const int user = static_cast<int>(config.context) / 32;
  const int system = static_cast<int>(config.context) / 4;
  auto off = make_engine(dir, 16, 128, 0);
  const auto without = converse(*off, turns, system, user, user);
  off.reset();
  auto on = make_engine(dir, 16, 128, 4);
  const auto with = converse(*on, turns, system, user, user);
  const auto reuse = on->prefix_stats();
  on.reset();
  std::printf("10-turn conversation, idle engine: preamble %d, %d user and "
              "%d reply tokens a turn\n",
              system, user, user);
  std::printf("%4s | %13s | %16s | %15s | %s\n", "turn", "prompt tokens",
              "TTFT ms reuse off", "TTFT ms reuse on", "same reply");
  bool same = true;
  for (int t = 0; t < turns; ++t) {
    const bool equal = without[t].reply == with[t].reply;
    same = same && equal;
    std::printf("%4d | %13d | %16.1f | %15.1f | %s\n", t + 1,
                with[t].prompt_tokens, without[t].ttft_ms, with[t].ttft_ms,
                equal ? "yes" : "NO");
  }
  std::printf("turn 10 / turn 1 TTFT: reuse off %.2fx, reuse on %.2fx; "
              "prefix hits %lld, reused tokens %lld%s\n",
              without.back().ttft_ms / without.front().ttft_ms,
              with.back().ttft_ms / with.front().ttft_ms,
              (long long)reuse.hits,
              (long long)reuse.reused_tokens,
              same ? "" : "; REPLIES DIFFER");
  std::fflush(stdout);
}

/// Speculative decoding off and on (drafts of up to 4 tokens, at every
/// batch size here), the same prompts, interleaved: tokens/s, how many
/// drafted tokens held, and the time per step (a confirmed draft token
/// saves one), which says what checking a draft costs.
void bench_drafts(const fs::path& dir, const options& o) {
  auto off = make_engine(dir, 16, 128, 4, 0);
  auto on = make_engine(dir, 16, 128, 4, 4);
  std::printf("speculative decoding, drafts of up to 4 tokens from the "
              "context; the random model's greedy replies repeat "
              "themselves, so most drafts hold\n");
  std::printf("%11s | %12s | %11s | %16s | %12s | %11s | %s\n",
              "concurrency", "off tok/s", "on tok/s", "accepted/drafted",
              "off ms/step", "on ms/step", "same tokens");
  for (int n : {1, 2, 4, 8}) {
    prompt_source for_off(on->vocab_size()), for_on(on->vocab_size());
    const auto before = on->status().drafts;
    const auto plain = run_batch(*off, for_off, n, o);
    const auto drafted = run_batch(*on, for_on, n, o);
    const auto after = on->status().drafts;
    const auto accepted = after.accepted - before.accepted;
    const auto proposed = after.proposed - before.proposed;
    // Steps of n rows: tokens / n without drafts, fewer by the confirmed
    // draft tokens / n with them.
    const double off_ms = plain.tokens / plain.tokens_per_sec * 1000.0
                          / (static_cast<double>(plain.tokens) / n);
    const double on_ms = drafted.tokens / drafted.tokens_per_sec * 1000.0
                         / (static_cast<double>(drafted.tokens - accepted)
                            / n);
    std::printf("%11d | %12.1f | %11.1f | %7lld / %6lld | %12.1f | %11.1f "
                "| %s\n",
                n, plain.tokens_per_sec, drafted.tokens_per_sec,
                (long long)accepted, (long long)proposed, off_ms, on_ms,
                plain.replies == drafted.replies ? "yes" : "NO");
    std::fflush(stdout);
  }
}

void bench_with_checkpoint(const std::string& shape,
                           const model::gpt_config& config,
                           const fs::path& dir, const options& o) {
  std::printf("\nshape %s: %lld layers, d %lld, %lld heads, ctx %lld, vocab "
              "%lld; prompt %d, %d new tokens, greedy, fp32 cpu, torch "
              "threads %d\n",
              shape.c_str(), (long long)config.n_layer,
              (long long)config.d_model, (long long)config.n_head,
              (long long)config.context, (long long)config.vocab_size,
              o.prompt, o.new_tokens, torch::get_num_threads());
  if (o.prefix_only) {
    bench_prefix_reuse(config, dir);
    return;
  }
  if (o.drafts_only) {
    bench_drafts(dir, o);
    return;
  }
  prompt_source prompts(config.vocab_size);
  std::printf("model alone, batch 1, no engine: %.1f tok/s\n",
              model_alone_tokens_per_sec(dir, prompts, o));
  std::printf("%11s | %18s | %12s | %18s | %7s\n", "concurrency",
              "batched tok/s", "peak batch", "one-at-a-time tok/s",
              "speedup");
  auto batched = make_engine(dir, 16);
  auto serial = make_engine(dir, 1);
  for (int n : o.concurrency) {
    const double b = aggregate_tokens_per_sec(*batched, prompts, n, o);
    const int peak = batched->status().peak_batch;
    const double s = aggregate_tokens_per_sec(*serial, prompts, n, o);
    std::printf("%11d | %18.1f | %12d | %19.1f | %6.2fx\n", n, b, peak, s,
                b / s);
    std::fflush(stdout);
  }
  serial.reset();

  const int busy = 15;
  const int long_prompt = static_cast<int>(config.context) * 3 / 4;
  std::printf("%-44s | %9s | %24s\n", "new sequence", "TTFT ms",
              "longest running gap ms");
  auto row = [](const std::string& what, const join_timing& t) {
    std::printf("%-44s | %9.1f | %24.1f\n", what.c_str(), t.ttft_ms,
                t.longest_gap_ms);
    std::fflush(stdout);
  };
  const auto p = std::to_string(o.prompt);
  const auto lp = std::to_string(long_prompt);
  row("idle engine, prompt " + p,
      join_busy_batch(*batched, prompts, 0, o.prompt, o));
  row("15 running, prompt " + p,
      join_busy_batch(*batched, prompts, busy, o.prompt, o));
  row("15 running, prompt " + lp + ", chunks of 128",
      join_busy_batch(*batched, prompts, busy, long_prompt, o));
  batched.reset();
  auto unchunked = make_engine(dir, 16, 1 << 20);
  row("15 running, prompt " + lp + ", unchunked",
      join_busy_batch(*unchunked, prompts, busy, long_prompt, o));
  unchunked.reset();
  bench_prefix_reuse(config, dir);
  bench_drafts(dir, o);
}

/// Writes the shape's random checkpoint, benches it, removes it.
void bench_shape(const std::string& shape, const options& o) {
  const auto config = bench::shape_config(shape);
  const auto dir = fs::temp_directory_path()
                   / ("worker_bench-" + std::to_string(::getpid()) + "-"
                      + shape);
  {
    torch::manual_seed(1337);
    model::gpt gpt(config);
    model::write_checkpoint(dir, gpt, {{"id", "bench-" + shape}});
  }
  struct remove_dir {
    fs::path dir;
    ~remove_dir() {
      std::error_code ignored;
      fs::remove_all(dir, ignored);
    }
  } cleanup{dir};

  // Every token, generated ones included, must fit the context.
  options shaped = o;
  shaped.new_tokens = std::min<int>(o.new_tokens, config.context - o.prompt);
  bench_with_checkpoint(shape, config, dir, shaped);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        throw std::runtime_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--shape") {
      const auto v = value();
      o.shapes = v == "both" ? std::vector<std::string>{"small", "100m"}
                             : std::vector<std::string>{v};
    } else if (arg == "--new-tokens") {
      o.new_tokens = std::stoi(value());
    } else if (arg == "--prompt") {
      o.prompt = std::stoi(value());
    } else if (arg == "--quick") {
      o.new_tokens = 32;
    } else if (arg == "--prefix-only") {
      o.prefix_only = true;
    } else if (arg == "--drafts-only") {
      o.drafts_only = true;
    } else {
      throw std::runtime_error("unknown argument " + arg
                               + "; use --shape, --new-tokens, --prompt, "
                                 "--quick, --prefix-only or --drafts-only");
    }
  }
  return o;
}

} // namespace

int main(int argc, char** argv) {
  try {
    const auto o = parse(argc, argv);
    std::printf("worker_bench: engine tokens/s by concurrency, batched "
                "(max_batch 16) vs one sequence at a time (max_batch 1)\n");
    for (const auto& shape : o.shapes)
      bench_shape(shape, o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "worker_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
