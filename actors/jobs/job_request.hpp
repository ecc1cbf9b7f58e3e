#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace chat {

/// A validated `POST /admin/jobs` body (API.md, Jobs). Stored with the job
/// as to_json() and read back with parse_job_request.
struct job_request {
  /// "pretrain" or "finetune".
  std::string type;
  /// At least one, no repeats.
  std::vector<std::string> dataset_ids;
  /// Finetune only; absent: the active model at submission.
  std::optional<std::string> base_model_id;
  /// Pretrain only: the architecture (n_layer, n_head, d_model, context,
  /// vocab_size), as given.
  nlohmann::json model = nullptr;
  /// chat-train's hyperparameters, as given (an object).
  nlohmann::json hyper = nlohmann::json::object();
  bool auto_activate = false;

  nlohmann::json to_json() const;
};

/// The smallest vocabulary a pretrain job may ask for: the tokenizer holds
/// 256 byte pieces, <unk> and the four chat pieces before any merge.
inline constexpr std::int64_t min_pretrain_vocab = 300;

/// Checks a request body. Unknown fields and bad values throw a 422
/// api_error whose message and param name the field; the limits of `model`
/// and `hyper` are chat-train's own (training/job_spec).
job_request parse_job_request(const nlohmann::json& body);

} // namespace chat
