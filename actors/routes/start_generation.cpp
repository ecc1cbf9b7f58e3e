#include "actors/routes/start_generation.hpp"

#include "storage/database.hpp"

#include <caf/actor_system.hpp>

#include <random>

namespace chat {

std::int64_t unix_now() {
  return storage::now_seconds();
}

std::int64_t message_tokens(const served_model& model,
                            const std::string& content) {
  return static_cast<std::int64_t>(
    tokenizer::encode_message(*model.tokenizer,
                              {tokenizer::chat_role::user, content})
      .size());
}

void check_message_size(const limits_config& limits, const std::string& text,
                        std::optional<std::string> param) {
  if (text.size() > limits.max_message_bytes)
    throw api::api_error(400, "message_too_long",
                         "a message of " + std::to_string(text.size())
                           + " bytes is longer than the "
                           + std::to_string(limits.max_message_bytes)
                           + " bytes this server accepts",
                         std::move(param));
}

void admit_reply(const gateway_deps& deps, store_context& db,
                 const principal& who, const std::vector<std::string>& texts) {
  for (const auto& text : texts)
    check_message_size(deps.limits, text);
  deps.safety->check_quota(db, who);
  deps.safety->screen_input(db, who, texts);
}

std::shared_ptr<const served_model>
resolve_model(const gateway_deps& deps, const std::optional<std::string>& name) {
  auto model = deps.model->get();
  if (!model) {
    api::api_error e(503, "no_model", "no model is loaded");
    e.retry_after = 5;
    throw e;
  }
  if (name && *name != model->id && *name != "default")
    throw api::api_error(404, "model_not_found",
                         "the model '" + *name + "' does not exist",
                         std::string("model"));
  return model;
}

caf::actor start_generation(const gateway_deps& deps, const principal& who,
                            reply_plan plan) {
  if (!deps.limiter->open_stream(who)) {
    api::api_error e(429, "too_many_streams",
                     "this API key already runs its maximum of concurrent "
                     "streams");
    e.retry_after = 1;
    throw e;
  }
  generation_job job;
  job.prompt = std::move(plan.prompt.tokens);
  job.sampling.max_tokens = plan.prompt.max_tokens;
  job.sampling.temperature = plan.options.temperature;
  job.sampling.top_p = plan.options.top_p;
  job.sampling.top_k = plan.options.top_k;
  if (plan.options.seed) {
    job.sampling.seed = *plan.options.seed;
  } else {
    std::random_device rd;
    job.sampling.seed = (static_cast<std::uint64_t>(rd()) << 32) | rd();
  }
  job.stop_strings = std::move(plan.options.stop);
  job.ignore_eos = plan.options.ignore_eos;
  job.model = std::move(plan.model);
  job.writer = std::move(plan.writer);
  job.exchange = std::move(plan.exchange);
  job.metrics = deps.metrics;
  job.safety = deps.safety;
  job.who = who;
  job.session_id = std::move(plan.session_id);
  job.on_finish = [limiter = deps.limiter, key = who.key_id,
                   then = std::move(plan.on_finish)] {
    limiter->close_stream(key);
    if (then)
      then();
  };
  return deps.system->spawn(generation, std::move(job), deps.pool, deps.store);
}

} // namespace chat
