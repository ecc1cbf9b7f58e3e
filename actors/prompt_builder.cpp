#include "actors/prompt_builder.hpp"

#include "actors/api/api_error.hpp"

#include <algorithm>

namespace chat {

namespace {

std::int64_t reserved_for_reply(const served_model& model,
                                std::optional<std::int32_t> max_tokens) {
  if (max_tokens)
    return *max_tokens;
  return std::min<std::int64_t>(256, std::max<std::int64_t>(1, model.context / 4));
}

/// Prompt tokens allowed: what the context leaves after the reply, within
/// the server's cap.
std::int64_t prompt_limit(const served_model& model,
                          std::optional<std::int32_t> max_tokens,
                          const limits_config& limits) {
  return std::min<std::int64_t>(model.context
                                  - reserved_for_reply(model, max_tokens),
                                limits.max_prompt_tokens);
}

/// The reply's token budget: max_tokens, else what the context leaves, never
/// more than the server allows.
std::int32_t reply_budget(const served_model& model, std::size_t prompt_size,
                          std::optional<std::int32_t> max_tokens,
                          const limits_config& limits) {
  if (max_tokens)
    return *max_tokens;
  return static_cast<std::int32_t>(std::min<std::int64_t>(
    model.context - static_cast<std::int64_t>(prompt_size),
    limits.max_tokens));
}

api::api_error too_long(std::int64_t tokens, std::int64_t limit,
                        const char* param) {
  return api::api_error(400, "prompt_too_long",
                        "the prompt needs " + std::to_string(tokens)
                          + " tokens but at most " + std::to_string(limit)
                          + " fit (context minus max_tokens, within the "
                            "server's prompt limit)",
                        std::string(param));
}

void check_max_tokens(const served_model& model,
                      std::optional<std::int32_t> max_tokens,
                      const limits_config& limits) {
  if (max_tokens && *max_tokens > limits.max_tokens)
    throw api::bad_param("max_tokens",
                         "'max_tokens' may be at most "
                           + std::to_string(limits.max_tokens)
                           + " on this server");
  if (max_tokens && *max_tokens >= model.context)
    throw api::bad_param("max_tokens",
                         "'max_tokens' must be below the model's context of "
                           + std::to_string(model.context) + " tokens");
}

} // namespace

built_prompt build_chat_prompt(const served_model& model,
                               const std::vector<tokenizer::chat_message>& messages,
                               std::optional<std::int32_t> max_tokens,
                               const limits_config& limits) {
  check_max_tokens(model, max_tokens, limits);
  const auto limit = prompt_limit(model, max_tokens, limits);
  auto encoded = tokenizer::encode_conversation(*model.tokenizer, messages,
                                                true);
  const auto& lengths = encoded.message_lengths;
  const bool has_system
    = !messages.empty() && messages.front().role == tokenizer::chat_role::system;
  const std::size_t first_droppable = has_system ? 1 : 0;
  std::size_t total = encoded.tokens.size();
  std::size_t drop = 0;
  // Drop whole turns from the oldest on, never the system message or the
  // newest message.
  while (static_cast<std::int64_t>(total) > limit
         && first_droppable + drop + 1 < messages.size()) {
    total -= lengths[first_droppable + drop];
    ++drop;
  }
  if (static_cast<std::int64_t>(total) > limit)
    throw too_long(static_cast<std::int64_t>(total), limit, "messages");
  built_prompt out;
  out.dropped_messages = drop;
  if (drop == 0) {
    out.tokens = std::move(encoded.tokens);
  } else {
    std::size_t system_len = has_system ? lengths[0] : 0;
    std::size_t skip = 0;
    for (std::size_t i = first_droppable; i < first_droppable + drop; ++i)
      skip += lengths[i];
    out.tokens.assign(encoded.tokens.begin(),
                      encoded.tokens.begin() + system_len);
    out.tokens.insert(out.tokens.end(),
                      encoded.tokens.begin() + system_len + skip,
                      encoded.tokens.end());
  }
  out.max_tokens = reply_budget(model, out.tokens.size(), max_tokens, limits);
  return out;
}

built_prompt build_text_prompt(const served_model& model,
                               const std::string& prompt,
                               std::optional<std::int32_t> max_tokens,
                               const limits_config& limits) {
  check_max_tokens(model, max_tokens, limits);
  built_prompt out;
  out.tokens = model.tokenizer->encode(prompt);
  if (out.tokens.empty())
    throw api::bad_param("prompt", "'prompt' must not be empty");
  const auto limit = prompt_limit(model, max_tokens, limits);
  if (static_cast<std::int64_t>(out.tokens.size()) > limit)
    throw too_long(static_cast<std::int64_t>(out.tokens.size()), limit,
                   "prompt");
  out.max_tokens = reply_budget(model, out.tokens.size(), max_tokens, limits);
  return out;
}

} // namespace chat
