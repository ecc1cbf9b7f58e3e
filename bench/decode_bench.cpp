// Decode throughput: first the memory bound of batch 1 (a streaming read of
// the served weights), then our KV-cached batched decode against a naive
// baseline that recomputes the full forward for every new token, in the
// same run; then prefill throughput (prompt tokens/s of cached forwards in
// the engine's chunks).
//
//   decode_bench [--shape 100m|small] [--quick] [--threads N]
//                [--new-tokens N] [--naive-tokens N] [--prefill N]
//                [--prefill-chunk N]
//                [--batches 1,8,32] [--weights fp32|bf16]
//                [--cache fp32|bf16] [--pages huge|normal]
//
// The naive baseline's cost per token grows with the sequence, so timing
// only its first --naive-tokens tokens flatters it: the speedup printed is a
// lower bound.

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "bench/bench_shapes.hpp"
#include "model/cpu_thread_team.hpp"
#include "model/gpt.hpp"
#include "model/huge_page_weights.hpp"
#include "model/kv_cache.hpp"

using namespace chat;
using clock_type = std::chrono::steady_clock;

namespace {

struct options {
  std::string shape = "100m";
  int threads = 0;  // 0: keep LibTorch's default (DESIGN.md: measure first)
  int64_t new_tokens = 128;
  int64_t naive_tokens = 32;
  int64_t prompt = 16;
  /// Prompt length of the prefill measurement; 0: half the context.
  int64_t prefill = 0;
  /// Tokens per cached forward of the prefill, as worker.prefill_chunk
  /// (128 by default) feeds them to the engine.
  int64_t prefill_chunk = 128;
  std::vector<int64_t> batches{1, 8, 32};
  /// The cached decode's matmul weights, "fp32" or "bf16"; the naive
  /// baseline stays fp32, so "same tokens" checks bf16 against fp32.
  std::string weights = "fp32";
  /// The KV cache's type, "fp32" or "bf16"; by default that of the weights,
  /// as worker.precision bf16 keeps both in bf16.
  std::string cache;
  /// "huge": the served weights in huge pages, as load_gpt places them;
  /// "normal": where LibTorch allocated them, for an A/B.
  std::string pages = "huge";
};

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

/// Greedy tokens/s of the cached decode: one prefill, then `steps` batched
/// one-token steps. Returns the generated tokens through `out`.
double cached_decode(model::gpt& m, const at::Tensor& prompt, int64_t steps,
                     c10::ScalarType cache_type, at::Tensor& out) {
  const auto B = prompt.size(0);
  model::kv_cache cache(m->config(), B, torch::kCPU, cache_type);
  std::vector<int64_t> slots;
  for (int64_t b = 0; b < B; ++b) slots.push_back(cache.acquire());
  auto next = m->forward_cached(prompt, cache, slots, model::logits_for::last)
                  .argmax(-1);  // (B, 1)
  std::vector<at::Tensor> tokens{next};
  const auto start = clock_type::now();
  for (int64_t s = 1; s < steps; ++s) {
    next = m->forward_cached(next, cache, slots).argmax(-1);  // (B, 1)
    tokens.push_back(next);
  }
  const double elapsed = seconds_since(start);
  out = torch::cat(tokens, 1);  // (B, steps)
  return static_cast<double>(B * (steps - 1)) / elapsed;
}

/// Greedy tokens/s when every token reruns the whole sequence (LM head on
/// the last position only, as nanoGPT's generate does).
double naive_decode(model::gpt& m, const at::Tensor& prompt, int64_t steps,
                    at::Tensor& out) {
  const auto B = prompt.size(0);
  auto seq = prompt;  // (B, P)
  auto next = m->forward(seq, model::logits_for::last).argmax(-1);  // (B, 1)
  std::vector<at::Tensor> tokens{next};
  const auto start = clock_type::now();
  for (int64_t s = 1; s < steps; ++s) {
    seq = torch::cat({seq, next}, 1);                         // (B, P+s)
    next = m->forward(seq, model::logits_for::last).argmax(-1);  // (B, 1)
    tokens.push_back(next);
  }
  const double elapsed = seconds_since(start);
  out = torch::cat(tokens, 1);  // (B, steps)
  return static_cast<double>(B * (steps - 1)) / elapsed;
}

/// Prompt tokens/s of cached forwards over `length` tokens in chunks of
/// `chunk`, at batch 1 (what admitting a new request costs), the mean of 3
/// after a warm-up. One cache serves them all, as a running worker's does:
/// its memory is committed on first write, which the warm-up pays.
double prefill_tokens_per_sec(model::gpt& m, int64_t length, int64_t chunk,
                              c10::ScalarType cache_type) {
  const auto& config = m->config();
  auto prompt = torch::randint(config.vocab_size, {1, length}, torch::kLong);
  model::kv_cache cache(config, 1, torch::kCPU, cache_type);
  auto once = [&] {
    std::vector<int64_t> slots{cache.acquire()};
    const auto start = clock_type::now();
    for (int64_t at = 0; at < length; at += chunk) {
      const auto n = std::min(chunk, length - at);
      m->forward_cached(prompt.narrow(1, at, n), cache, slots,
                        model::logits_for::last)
        .argmax(-1);  // (1, 1)
    }
    const auto spent = seconds_since(start);
    cache.release(slots[0]);
    return spent;
  };
  once();
  const int runs = 3;
  double total = 0;
  for (int i = 0; i < runs; ++i) total += once();
  return static_cast<double>(runs * length) / total;
}

/// GB/s of one streaming read of the served weights, split over the
/// kernels' team as decode splits them (each thread sums its share): what
/// batch-1 decode, which reads every weight once per token, can reach at
/// best. The mean of 5 reads after a warm-up.
double weight_read_gb_per_sec(model::gpt& m, int64_t& bytes) {
  constexpr int64_t piece = int64_t{1} << 18;  // elements per part
  std::vector<at::Tensor> parts;
  bytes = 0;
  for (const auto& p : m->parameters()) {
    auto flat = p.detach().reshape({-1});
    bytes += static_cast<int64_t>(p.nbytes());
    for (int64_t i = 0; i < flat.numel(); i += piece)
      parts.push_back(flat.narrow(0, i, std::min(piece, flat.numel() - i)));
  }
  std::vector<double> sums(parts.size());
  auto read_all = [&] {
    model::cpu_thread_team::shared().run(
        static_cast<int64_t>(parts.size()), [&](int64_t b, int64_t e) {
          c10::InferenceMode inference;
          for (auto i = b; i < e; ++i)
            sums[i] = parts[i].sum().item<double>();
        });
  };
  read_all();
  const int reads = 5;
  const auto start = clock_type::now();
  for (int r = 0; r < reads; ++r) read_all();
  return static_cast<double>(bytes) * reads / seconds_since(start) / 1e9;
}

std::vector<int64_t> parse_batches(const std::string& list) {
  std::vector<int64_t> batches;
  size_t begin = 0;
  while (begin <= list.size()) {
    const auto comma = std::min(list.find(',', begin), list.size());
    const auto batch = std::stoll(list.substr(begin, comma - begin));
    if (batch < 1) throw std::runtime_error("--batches: sizes must be >= 1");
    batches.push_back(batch);
    begin = comma + 1;
  }
  return batches;
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    auto arg = std::string(argv[i]);
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--shape") o.shape = value();
    else if (arg == "--threads") o.threads = std::stoi(value());
    else if (arg == "--new-tokens") o.new_tokens = std::stoll(value());
    else if (arg == "--naive-tokens") o.naive_tokens = std::stoll(value());
    else if (arg == "--prefill") o.prefill = std::stoll(value());
    else if (arg == "--prefill-chunk") o.prefill_chunk = std::stoll(value());
    else if (arg == "--batches") o.batches = parse_batches(value());
    else if (arg == "--weights") o.weights = value();
    else if (arg == "--cache") o.cache = value();
    else if (arg == "--pages") o.pages = value();
    else if (arg == "--quick") o.new_tokens = 16, o.naive_tokens = 8;
    else throw std::runtime_error("unknown argument " + arg);
  }
  // The first token is untimed (it is the prompt's forward).
  if (o.new_tokens < 2 || o.naive_tokens < 2)
    throw std::runtime_error("--new-tokens, --naive-tokens: at least 2");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto o = parse(argc, argv);
    if (o.threads > 0) {
      torch::set_num_threads(o.threads);
      model::set_cpu_kernel_threads(o.threads);
    }
    // As the worker runs (the naive baseline too, like the Python design's
    // best single-threaded figure).
    model::run_blas_on_calling_thread();
    c10::InferenceMode inference;
    if (o.weights != "fp32" && o.weights != "bf16")
      throw std::runtime_error("--weights must be fp32 or bf16");
    const auto cache_name = o.cache.empty() ? o.weights : o.cache;
    if (cache_name != "fp32" && cache_name != "bf16")
      throw std::runtime_error("--cache must be fp32 or bf16");
    const auto cache_type =
        cache_name == "bf16" ? torch::kBFloat16 : torch::kFloat;
    if (o.pages != "huge" && o.pages != "normal")
      throw std::runtime_error("--pages must be huge or normal");
    if (o.prefill_chunk < 1)
      throw std::runtime_error("--prefill-chunk must be >= 1");
    auto config = bench::shape_config(o.shape);
    auto make_model = [&] {
      torch::manual_seed(1337);
      model::gpt m(config);
      m->eval();
      return m;
    };
    auto m = make_model();  // fp32: the naive baseline
    auto served = o.weights == "bf16" ? make_model() : m;
    if (o.weights == "bf16")
      served->store_matmul_weights_as(torch::kBFloat16);
    if (o.pages == "huge")
      model::gather_weights_in_huge_pages(*served);
    // The small shape's context (128) cannot hold prompt + 128 new tokens.
    const auto new_tokens = std::min(o.new_tokens, config.context - o.prompt);
    const auto naive_steps = std::min(o.naive_tokens, new_tokens);
    std::printf("decode_bench: shape %s (%lld layers, d %lld, %lld heads, "
                "ctx %lld, vocab %lld), prompt %lld, greedy, %s weights in %s "
                "pages, %s KV cache, fp32 compute, CPU, torch threads %d, "
                "kernel threads %d\n",
                o.shape.c_str(), (long long)config.n_layer,
                (long long)config.d_model, (long long)config.n_head,
                (long long)config.context, (long long)config.vocab_size,
                (long long)o.prompt, o.weights.c_str(), o.pages.c_str(),
                cache_name.c_str(),
                torch::get_num_threads(),
                model::cpu_thread_team::shared().size());
    int64_t weight_bytes = 0;
    const double read = weight_read_gb_per_sec(served, weight_bytes);
    std::printf("weights: %.0f MB, streaming read %.1f GB/s: batch 1 can "
                "reach at most %.1f tok/s\n",
                weight_bytes / 1e6, read, read * 1e9 / weight_bytes);
    std::printf("%6s | %20s | %22s | %8s | %s\n", "batch",
                "cached tok/s", "naive tok/s", "speedup", "same tokens");
    for (auto B : o.batches) {
      auto prompt = torch::randint(config.vocab_size, {B, o.prompt},
                                   torch::kLong);
      at::Tensor cached_tokens, naive_tokens;
      const double cached = cached_decode(served, prompt, new_tokens,
                                          cache_type, cached_tokens);
      const double naive = naive_decode(m, prompt, naive_steps, naive_tokens);
      const bool same = torch::equal(
          cached_tokens.narrow(1, 0, naive_steps), naive_tokens);
      char cached_col[32], naive_col[32];
      std::snprintf(cached_col, sizeof cached_col, "%.1f (%lld new)", cached,
                    (long long)new_tokens);
      std::snprintf(naive_col, sizeof naive_col, "%.1f (first %lld)", naive,
                    (long long)naive_steps);
      std::printf("%6lld | %20s | %22s | %7.1fx | %s\n", (long long)B,
                  cached_col, naive_col, cached / naive, same ? "yes" : "NO");
      std::fflush(stdout);
    }
    const auto prefill = o.prefill > 0 ? std::min(o.prefill, config.context)
                                       : config.context / 2;
    std::printf("prefill: prompt %lld, batch 1: %.1f tok/s (chunks of "
                "%lld)\n",
                (long long)prefill,
                prefill_tokens_per_sec(served, prefill, o.prefill_chunk,
                                       cache_type),
                (long long)o.prefill_chunk);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "decode_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
