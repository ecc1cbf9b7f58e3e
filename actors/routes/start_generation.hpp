#pragma once

#include "actors/api/generation_request.hpp"
#include "actors/gateway.hpp"
#include "actors/generation.hpp"
#include "actors/prompt_builder.hpp"

#include <caf/actor.hpp>

namespace chat {

/// Everything needed to start one reply.
struct reply_plan {
  built_prompt prompt;
  api::generation_options options;
  std::shared_ptr<const served_model> model;
  reply_writer_ptr writer;
  std::optional<storage::exchange> exchange;
  std::string session_id;
  /// Runs once when the generation is over (after the writer's last call).
  std::function<void()> on_finish;
};

/// Takes a stream slot for `who` (429 when all are in use), spawns the
/// generation actor and returns it, so the caller can wire cancellation
/// (client gone) to it.
caf::actor start_generation(const gateway_deps& deps, const principal& who,
                            reply_plan plan);

/// 400 `message_too_long` (naming `param` when given) when `text` exceeds
/// limits.max_message_bytes.
void check_message_size(const limits_config& limits, const std::string& text,
                        std::optional<std::string> param = std::nullopt);

/// Checks a request for a reply before anything is stored: 400
/// `message_too_long` when one of `texts` (what the client sent) is too
/// long, 429 when the key used its daily token quota, 400 `content_filter`
/// when an input rule matches one of `texts`.
void admit_reply(const gateway_deps& deps, store_context& db,
                 const principal& who, const std::vector<std::string>& texts);

/// The model a request names: the served one (its id or "default"), else
/// 404 model_not_found; 503 when none is loaded.
std::shared_ptr<const served_model>
resolve_model(const gateway_deps& deps, const std::optional<std::string>& name);

/// Tokens a user message takes in the chat template.
std::int64_t message_tokens(const served_model& model,
                            const std::string& content);

/// Seconds since the epoch.
std::int64_t unix_now();

} // namespace chat
