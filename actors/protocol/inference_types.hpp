#pragma once

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace chat {

/// How to pick each next token.
struct sampling_params {
  /// 0 is greedy.
  float temperature = 1.0f;
  /// Nucleus sampling mass; 1 keeps everything.
  float top_p = 1.0f;
  /// Keep only the k most likely tokens; 0 keeps all.
  std::int32_t top_k = 0;
  /// Seed of this sequence's generator; a fixed seed repeats the output.
  std::uint64_t seed = 0;
  /// At most this many new tokens.
  std::int32_t max_tokens = 256;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sampling_params& x) {
  return f(caf::meta::type_name("sampling_params"), x.temperature, x.top_p,
           x.top_k, x.seed, x.max_tokens);
}

/// One sequence to generate.
struct generate_request {
  /// Unique per chatd process; names the sequence in chunks and cancels.
  std::uint64_t id = 0;
  std::vector<std::int32_t> prompt;
  sampling_params sampling;
  /// Generation ends (finish_reason "stop") on any of these; the stop token
  /// itself is not sent.
  std::vector<std::int32_t> stop_tokens;
  /// The model whose tokenizer made the prompt; empty means the worker's
  /// active model.
  std::string model_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, generate_request& x) {
  return f(caf::meta::type_name("generate_request"), x.id, x.prompt,
           x.sampling, x.stop_tokens, x.model_id);
}

/// A model version to load: the registry's id and its checkpoint directory
/// (on the worker's host).
struct model_ref {
  std::string id;
  std::string path;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, model_ref& x) {
  return f(caf::meta::type_name("model_ref"), x.id, x.path);
}

/// New tokens of one sequence.
struct token_chunk {
  std::uint64_t id = 0;
  std::vector<std::int32_t> tokens;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, token_chunk& x) {
  return f(caf::meta::type_name("token_chunk"), x.id, x.tokens);
}

/// How a sequence ended.
struct generation_result {
  std::uint64_t id = 0;
  std::int32_t prompt_tokens = 0;
  std::int32_t completion_tokens = 0;
  /// "stop", "length" or "cancelled".
  std::string finish_reason;
  /// The model that produced it.
  std::string model_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, generation_result& x) {
  return f(caf::meta::type_name("generation_result"), x.id, x.prompt_tokens,
           x.completion_tokens, x.finish_reason, x.model_id);
}

/// Prefix reuse since a worker's engine started.
struct prefix_reuse_stats {
  /// Sequences that started from a kept prefix.
  std::int64_t hits = 0;
  /// Sequences that prefilled their whole prompt.
  std::int64_t misses = 0;
  /// Prompt tokens not prefilled thanks to kept prefixes.
  std::int64_t reused_tokens = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, prefix_reuse_stats& x) {
  return f(caf::meta::type_name("prefix_reuse_stats"), x.hits, x.misses,
           x.reused_tokens);
}

/// Speculative decoding since a worker's engine started.
struct draft_stats {
  /// Draft tokens checked.
  std::int64_t proposed = 0;
  /// Draft tokens the model sampled again, each a step saved.
  std::int64_t accepted = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, draft_stats& x) {
  return f(caf::meta::type_name("draft_stats"), x.proposed, x.accepted);
}

/// A worker's load and model, for routing, /admin/workers and /metrics.
struct worker_status {
  /// The active model: requests without a model id get it.
  std::string model_id;
  std::string device;
  std::int32_t running = 0;
  std::int32_t queued = 0;
  std::int32_t max_batch = 0;
  /// Largest batch seen in one decode step since start.
  std::int32_t peak_batch = 0;
  /// Tokens per second over the last few seconds.
  double tokens_per_sec = 0;
  std::int64_t tokens_generated = 0;
  /// KV-cache slots of every loaded model, and those holding a running
  /// sequence or a prefix kept for reuse.
  std::int64_t kv_slots_total = 0;
  std::int64_t kv_slots_used = 0;
  prefix_reuse_stats prefix;
  draft_stats drafts;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, worker_status& x) {
  return f(caf::meta::type_name("worker_status"), x.model_id, x.device,
           x.running, x.queued, x.max_batch, x.peak_batch, x.tokens_per_sec,
           x.tokens_generated, x.kv_slots_total, x.kv_slots_used, x.prefix,
           x.drafts);
}

} // namespace chat
