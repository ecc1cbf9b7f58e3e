#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

namespace chat::model {

/// Architecture of the decoder-only GPT (nanoGPT's GPTConfig).
struct gpt_config {
  int64_t vocab_size = 2048;  ///< token ids are in [0, vocab_size)
  int64_t context = 128;      ///< longest sequence: size of the position table
  int64_t n_layer = 4;        ///< transformer blocks
  int64_t n_head = 8;         ///< attention heads; must divide d_model
  int64_t d_model = 256;      ///< embedding width
  double dropout = 0.0;       ///< dropout probability while training

  /// Width of one attention head.
  int64_t head_dim() const { return d_model / n_head; }

  /// Throws std::runtime_error naming the first bad field and its value.
  void validate() const;

  /// True when both describe the same weights (dropout may differ).
  bool same_architecture(const gpt_config& other) const;
};

/// All fields as a JSON object.
nlohmann::json gpt_config_to_json(const gpt_config& config);

/// Reads and validates a config; unknown keys are errors naming the key,
/// missing keys keep their defaults. `where` prefixes error messages.
gpt_config gpt_config_from_json(const nlohmann::json& j,
                                const std::string& where = "gpt config");

}  // namespace chat::model
