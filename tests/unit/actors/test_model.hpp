#pragma once

#include "actors/served_model.hpp"
#include "test_tokenizer.hpp"

#include <cstdint>
#include <memory>

namespace chat::test {

/// A served_model filled by hand around the shared test tokenizer (trained
/// once per process); no checkpoint on disk.
inline std::shared_ptr<const served_model> tiny_served_model(
  std::int64_t context = 64) {
  const auto& tok = tokenizer::test::shakespeare_tokenizer();
  auto model = std::make_shared<served_model>();
  model->id = "tiny";
  model->context = context;
  model->vocab_size = tok.vocab_size();
  // The tokenizer is a function-local static: share it without owning it.
  model->tokenizer = std::shared_ptr<const tokenizer::sentencepiece_tokenizer>(
    &tok, [](const tokenizer::sentencepiece_tokenizer*) {});
  return model;
}

} // namespace chat::test
