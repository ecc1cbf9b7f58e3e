#pragma once

#include "actors/protocol/inference_types.hpp"
#include "model/tokenizer/chat_template.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace chat::api {

/// The sampling and streaming fields shared by every generating endpoint.
struct generation_options {
  bool stream = false;
  bool include_usage = false;
  /// Unset: as many as fit the context.
  std::optional<std::int32_t> max_tokens;
  float temperature = 1.0f;
  float top_p = 1.0f;
  std::int32_t top_k = 0;
  std::optional<std::uint64_t> seed;
  std::vector<std::string> stop;
  /// Extension (as vLLM's): keep generating past the model's end-of-turn
  /// token, so a benchmark gets exactly max_tokens; stop strings still apply.
  bool ignore_eos = false;
};

/// POST /v1/chat/completions, validated.
struct chat_completion_request {
  std::optional<std::string> model;
  std::vector<tokenizer::chat_message> messages;
  std::optional<std::string> session_id;
  generation_options options;
};

/// POST /v1/completions, validated.
struct completion_request {
  std::optional<std::string> model;
  std::string prompt;
  generation_options options;
};

/// POST /api/sessions/{id}/messages and WebSocket chat frames.
struct session_message_request {
  std::string content;
  generation_options options;
};

/// Parses a JSON body, or throws api_error (400 invalid_json).
nlohmann::json parse_body(const std::string& body);

/// @throws api_error naming the parameter that is wrong.
chat_completion_request parse_chat_completion(const nlohmann::json& body);
completion_request parse_completion(const nlohmann::json& body);
session_message_request parse_session_message(const nlohmann::json& body);

/// Reads the sampling fields (max_tokens, temperature, top_p, top_k, seed,
/// stop, ignore_eos) of `obj`; `prefix` is prepended to parameter names in errors.
void parse_sampling(const nlohmann::json& obj, generation_options& out,
                    const std::string& prefix = "");

} // namespace chat::api
