// Writes a random-weight checkpoint of a benchmark shape, for serving it
// with chatd and chat-worker (bench/run_all.sh adds a tokenizer).
//
//   make_bench_model --shape 100m|small --out DIR --printable-vocab N
//
// The tokenizer beside the weights usually has fewer pieces than the
// shape's vocabulary (e.g. the default model's 2000 of 32000), and chatd
// drops ids it cannot decode, so a random model would stream almost no
// text. Zeroing the embedding rows of ids >= N (the LM head is tied to
// them) makes their logits 0, below the random best one, so greedy
// decoding only picks printable ids; the compute is that of the full shape.

#include "bench/bench_shapes.hpp"
#include "model/checkpoint.hpp"
#include "model/gpt.hpp"

#include <torch/torch.h>

#include <cstdio>
#include <string>

using namespace chat;

int main(int argc, char** argv) {
  std::string shape = "100m";
  std::string out;
  std::int64_t printable = 0;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      if (i + 1 >= argc)
        throw std::runtime_error(arg + " needs a value");
      const std::string value = argv[++i];
      if (arg == "--shape")
        shape = value;
      else if (arg == "--out")
        out = value;
      else if (arg == "--printable-vocab")
        printable = std::stoll(value);
      else
        throw std::runtime_error("unknown argument " + arg);
    }
    const auto config = bench::shape_config(shape);
    if (out.empty() || printable < 1 || printable > config.vocab_size)
      throw std::runtime_error(
        "use --out DIR and --printable-vocab N with 1 <= N <= "
        + std::to_string(config.vocab_size));
    torch::manual_seed(1337);
    model::gpt gpt(config);
    {
      torch::NoGradGuard no_grad;
      gpt->wte->weight.narrow(0, printable, config.vocab_size - printable)
        .zero_();  // (V - N, C)
    }
    model::write_checkpoint(out, gpt, {{"id", "bench-" + shape}});
    std::printf("make_bench_model: %s written to %s\n", shape.c_str(),
                out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_bench_model: %s\n", e.what());
    return 1;
  }
  return 0;
}
