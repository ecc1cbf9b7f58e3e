#include "tests/unit/worker/tiny_model.hpp"

#include "model/checkpoint.hpp"

#include <torch/torch.h>

namespace chat::test {

namespace {

std::filesystem::path write_random_gpt(const std::filesystem::path& path,
                                       const std::string& id,
                                       std::int64_t vocab,
                                       std::int64_t context,
                                       std::uint64_t seed) {
  model::gpt_config config;
  config.vocab_size = vocab;
  config.context = context;
  config.n_layer = 2;
  config.n_head = 4;
  config.d_model = 64;
  torch::manual_seed(seed);
  model::gpt gpt(config);
  model::write_checkpoint(path, gpt, {{"id", id}});
  return path;
}

} // namespace

std::filesystem::path write_tiny_checkpoint(const std::filesystem::path& dir,
                                            std::int64_t context) {
  return write_random_gpt(dir / "tiny", "tiny-test", tiny_vocab, context,
                          1337);
}

std::filesystem::path write_other_checkpoint(const std::filesystem::path& dir) {
  return write_random_gpt(dir / "other", "other-test", other_vocab, 128,
                          4242);
}

std::vector<std::int32_t>
greedy_reference(const std::filesystem::path& checkpoint,
                 const std::vector<std::int32_t>& prompt, int count) {
  c10::InferenceMode inference;
  auto gpt = model::load_gpt(checkpoint, {});
  std::vector<std::int64_t> sequence(prompt.begin(), prompt.end());
  std::vector<std::int32_t> out;
  for (int i = 0; i < count; ++i) {
    auto idx = torch::tensor(sequence).view({1, -1});            // (1, T)
    auto next = gpt->forward(idx).select(1, -1).argmax(-1);      // (1)
    out.push_back(static_cast<std::int32_t>(next.item<std::int64_t>()));
    sequence.push_back(out.back());
  }
  return out;
}

} // namespace chat::test
