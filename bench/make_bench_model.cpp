// Writes a random-weight checkpoint of a benchmark shape, for serving it
// with chatd and chat-worker (bench/run_all.sh adds a tokenizer).
//
//   make_bench_model --shape 100m|small --out DIR --text-ids FIRST:END
//
// The tokenizer beside the weights usually has fewer pieces than the
// shape's vocabulary (e.g. the default model's 2000 of 32000); chatd drops
// ids it cannot decode, and holds back byte pieces until they form whole
// UTF-8, so a random model would stream little text, in bursts. Zeroing
// the embedding rows of ids outside [FIRST, END) (the LM head is tied to
// them) makes their logits 0, below the random best one, so greedy
// decoding only picks whole text pieces, one streamed chunk per token; the
// compute is that of the full shape.

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
  std::int64_t first_text = -1;
  std::int64_t end_text = -1;
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
      else if (arg == "--text-ids") {
        const auto colon = value.find(':');
        if (colon == std::string::npos)
          throw std::runtime_error("--text-ids takes FIRST:END");
        first_text = std::stoll(value.substr(0, colon));
        end_text = std::stoll(value.substr(colon + 1));
      }
      else
        throw std::runtime_error("unknown argument " + arg);
    }
    const auto config = bench::shape_config(shape);
    if (out.empty() || first_text < 0 || end_text <= first_text
        || end_text > config.vocab_size)
      throw std::runtime_error(
        "use --out DIR and --text-ids FIRST:END with 0 <= FIRST < END <= "
        + std::to_string(config.vocab_size));
    torch::manual_seed(1337);
    model::gpt gpt(config);
    {
      torch::NoGradGuard no_grad;
      auto& wte = gpt->wte->weight;  // (V, C)
      wte.narrow(0, 0, first_text).zero_();
      wte.narrow(0, end_text, config.vocab_size - end_text).zero_();
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
