// Training throughput (tokens/s): forward, backward and AdamW step on random
// tokens, fp32 CPU.
//
//   train_bench [--shape 100m|small|all] [--steps N] [--threads N]

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "bench/bench_shapes.hpp"
#include "model/gpt.hpp"

using namespace chat;

namespace {

struct run_shape {
  std::string name;
  int64_t batch;
  int64_t steps;
};

double tokens_per_sec(const run_shape& r) {
  auto config = bench::shape_config(r.name);
  torch::manual_seed(1337);
  model::gpt m(config);
  m->train();
  torch::optim::AdamW opt(m->parameters(),
                          torch::optim::AdamWOptions(3e-4).weight_decay(0.1));
  const auto T = config.context;
  auto step = [&] {
    auto x = torch::randint(config.vocab_size, {r.batch, T}, torch::kLong);
    auto y = torch::randint(config.vocab_size, {r.batch, T}, torch::kLong);
    opt.zero_grad();
    auto logits = m->forward(x);  // (B, T, V)
    torch::nn::functional::cross_entropy(logits.view({-1, config.vocab_size}),
                                         y.view({-1}))
        .backward();
    opt.step();
  };
  step();  // warm-up: allocations, optimizer state
  const auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < r.steps; ++i) step();
  const double s = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(r.steps * r.batch * T) / s;
}

}  // namespace

int main(int argc, char** argv) {
  std::string shape = "all";
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
      else throw std::runtime_error("unknown argument " + arg);
    }
    if (threads > 0) torch::set_num_threads(threads);
    std::vector<run_shape> runs;
    if (shape == "all" || shape == "small")
      runs.push_back({"small", 16, steps > 0 ? steps : 10});
    if (shape == "all" || shape == "100m")
      runs.push_back({"100m", 4, steps > 0 ? steps : 3});
    if (runs.empty()) throw std::runtime_error("unknown shape " + shape);
    std::printf("train_bench: fp32 CPU, AdamW, torch threads %d\n",
                torch::get_num_threads());
    std::printf("%6s | %10s | %12s\n", "shape", "batch x T", "tokens/s");
    for (const auto& r : runs) {
      const double tps = tokens_per_sec(r);
      std::printf("%6s | %4lld x %3lld | %12.1f\n", r.name.c_str(),
                  (long long)r.batch,
                  (long long)bench::shape_config(r.name).context, tps);
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
