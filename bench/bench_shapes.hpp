#pragma once
// The model shapes the benchmarks measure.

#include <stdexcept>
#include <string>

#include "model/gpt_config.hpp"

namespace chat::bench {

/// "100m": the original design's shape (12 layers, d 768, 12 heads,
/// context 512, vocab 32000); "small": 4 layers, d 256, 8 heads, context
/// 128, vocab 2048.
inline model::gpt_config shape_config(const std::string& name) {
  model::gpt_config c;
  if (name == "100m") {
    c.vocab_size = 32000;
    c.context = 512;
    c.n_layer = 12;
    c.n_head = 12;
    c.d_model = 768;
  } else if (name == "small") {
    c.vocab_size = 2048;
    c.context = 128;
    c.n_layer = 4;
    c.n_head = 8;
    c.d_model = 256;
  } else {
    throw std::runtime_error("unknown shape '" + name +
                             "'; use 100m or small");
  }
  return c;
}

}  // namespace chat::bench
