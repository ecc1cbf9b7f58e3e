// Training throughput (tokens/s): chat-train's step (features, fused LM head
// loss, backward, AdamW) on random tokens, fp32 CPU, with the seconds per
// step each phase took. The loss phase holds the LM head's matmuls and, as
// the loss is fused, their gradients too.
//
//   train_bench [--shape 100m|small|all] [--steps N] [--threads N]
//               [--heap reuse|default]
//
// --heap reuse (the default) keeps freed memory as chat-train does
// (training/heap_reuse.hpp); default leaves glibc's malloc as it is.

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "bench/bench_shapes.hpp"
#include "model/gpt.hpp"
#include "training/heap_reuse.hpp"
#include "training/lm_head_loss.hpp"

using namespace chat;

namespace {

struct run_shape {
  std::string name;
  int64_t batch;
  int64_t steps;
};

/// Seconds a step spent in each phase, summed over the timed steps.
struct phase_seconds {
  double forward = 0, loss = 0, backward = 0, optimizer = 0;
  double total() const { return forward + loss + backward + optimizer; }
};

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point& start) {
  const auto now = clock_type::now();
  const double s = std::chrono::duration<double>(now - start).count();
  start = now;
  return s;
}

phase_seconds time_steps(const run_shape& r) {
  auto config = bench::shape_config(r.name);
  torch::manual_seed(1337);
  model::gpt m(config);
  m->train();
  torch::optim::AdamW opt(m->parameters(),
                          torch::optim::AdamWOptions(3e-4).weight_decay(0.1));
  const auto T = config.context;
  auto step = [&](phase_seconds& spent) {
    auto x = torch::randint(config.vocab_size, {r.batch, T}, torch::kLong);
    auto y = torch::randint(config.vocab_size, {r.batch, T}, torch::kLong);
    auto start = clock_type::now();
    opt.zero_grad();
    auto features = m->features(x);  // (B, T, C)
    spent.forward += seconds_since(start);
    auto loss = training::lm_head_loss(features, m->wte->weight, y, {});
    spent.loss += seconds_since(start);
    loss.backward();
    spent.backward += seconds_since(start);
    opt.step();
    spent.optimizer += seconds_since(start);
  };
  phase_seconds warm_up;  // allocations, optimizer state
  step(warm_up);
  phase_seconds spent;
  for (int64_t i = 0; i < r.steps; ++i) step(spent);
  return spent;
}

}  // namespace

int main(int argc, char** argv) {
  std::string shape = "all";
  std::string heap = "reuse";
  int64_t steps = 0;
  int threads = 0;  // 0: LibTorch's default (DESIGN.md: measure first)
  try {
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (i + 1 >= argc) throw std::runtime_error(arg + " needs a value");
      std::string value = argv[++i];
      if (arg == "--shape") shape = value;
      else if (arg == "--steps") steps = std::stoll(value);
      else if (arg == "--threads") threads = std::stoi(value);
      else if (arg == "--heap") heap = value;
      else throw std::runtime_error("unknown argument " + arg);
    }
    if (heap != "reuse" && heap != "default")
      throw std::runtime_error("unknown heap " + heap + "; use reuse or default");
    const bool reused = heap == "reuse" && training::reuse_freed_heap_memory();
    if (threads > 0) torch::set_num_threads(threads);
    std::vector<run_shape> runs;
    if (shape == "all" || shape == "small")
      runs.push_back({"small", 16, steps > 0 ? steps : 10});
    if (shape == "all" || shape == "100m")
      runs.push_back({"100m", 4, steps > 0 ? steps : 3});
    if (runs.empty()) throw std::runtime_error("unknown shape " + shape);
    std::printf("train_bench: fp32 CPU, AdamW, torch threads %d, heap %s\n",
                torch::get_num_threads(), reused ? "reuse" : "default");
    std::printf("%6s | %10s | %12s | %s\n", "shape", "batch x T", "tokens/s",
                "s/step: forward loss backward optimizer");
    for (const auto& r : runs) {
      const auto spent = time_steps(r);
      const auto T = bench::shape_config(r.name).context;
      const double n = static_cast<double>(r.steps);
      std::printf("%6s | %4lld x %3lld | %12.1f | %.2f %.2f %.2f %.2f\n",
                  r.name.c_str(), (long long)r.batch, (long long)T,
                  n * r.batch * T / spent.total(), spent.forward / n,
                  spent.loss / n, spent.backward / n, spent.optimizer / n);
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
