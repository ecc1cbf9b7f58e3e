#pragma once

#include "actors/served_model.hpp"
#include "config/config.hpp"
#include "model/tokenizer/chat_template.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace chat {

/// A prompt ready for a worker.
struct built_prompt {
  std::vector<std::int32_t> tokens;
  /// New tokens allowed: the request's max_tokens, or what fits.
  std::int32_t max_tokens = 0;
  /// Messages dropped from the front of the history to fit.
  std::size_t dropped_messages = 0;
};

/// Renders `messages` with the chat template and a generation prompt, fitted
/// to `context - max_tokens` (and to limits.max_prompt_tokens) by dropping
/// the oldest turns. A leading system message and the newest message are
/// always kept; when they alone do not fit, api::api_error 400
/// (`prompt_too_long`) names the limit. Without max_tokens, a quarter of the
/// context (at most 256) is kept free and the reply may use all that is
/// left, up to limits.max_tokens; a larger max_tokens is a 400.
built_prompt build_chat_prompt(const served_model& model,
                               const std::vector<tokenizer::chat_message>& messages,
                               std::optional<std::int32_t> max_tokens,
                               const limits_config& limits = {});

/// A raw text prompt (POST /v1/completions), never truncated.
built_prompt build_text_prompt(const served_model& model,
                               const std::string& prompt,
                               std::optional<std::int32_t> max_tokens,
                               const limits_config& limits = {});

} // namespace chat
