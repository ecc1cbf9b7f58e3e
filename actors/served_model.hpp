#pragma once

#include "model/tokenizer/sentencepiece_tokenizer.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace chat {

/// What chatd needs of the model its workers serve: its id, context size and
/// tokenizer (workers see only token ids).
struct served_model {
  std::string id;
  std::string path;
  std::int64_t context = 0;
  std::int64_t vocab_size = 0;
  std::int64_t created_at = 0;
  /// Parameters of the GPT that config.json describes (tied LM head).
  std::int64_t n_params = 0;
  /// config.json and meta.json's metrics, as JSON text.
  std::string config_json = "{}";
  std::string metrics_json = "{}";
  std::shared_ptr<const tokenizer::sentencepiece_tokenizer> tokenizer;
};

/// Reads a checkpoint directory's config.json, meta.json and tokenizer.model.
/// The id is meta.json's "id", else the directory's name (symbolic links
/// resolved).
/// @throws std::runtime_error naming the file and the problem.
std::shared_ptr<const served_model> load_served_model(const std::string& dir);

} // namespace chat
