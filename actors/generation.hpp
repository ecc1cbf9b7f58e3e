#pragma once

#include "actors/metrics.hpp"
#include "actors/protocol/registrar.hpp"
#include "actors/reply_writer.hpp"
#include "actors/safety/safety_guard.hpp"
#include "actors/served_model.hpp"
#include "storage/sessions.hpp"

#include <caf/event_based_actor.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace chat {

/// One reply to generate: what to ask a worker and where the text goes.
struct generation_job {
  std::vector<std::int32_t> prompt;
  sampling_params sampling;
  std::vector<std::string> stop_strings;
  /// The model's end-of-turn token does not end the reply (benchmarks).
  bool ignore_eos = false;
  std::shared_ptr<const served_model> model;
  reply_writer_ptr writer;
  /// When set, the user turn (filled in) and the reply are stored in this
  /// session before the writer's `end` (so an acknowledged reply is never
  /// lost); a reply cut short by the client is stored as "cancelled".
  std::optional<storage::exchange> exchange;
  /// Whose request it is: the session's owner, the key the filter hits and
  /// the tokens count against.
  principal who;
  std::string session_id;
  /// Runs once when the generation is over, however it ended.
  std::function<void()> on_finish;
  /// Where tokens, time to first token and inter-token latency are counted.
  std::shared_ptr<service_metrics> metrics;
  /// Screens the reply (output rules) and counts the key's tokens.
  std::shared_ptr<safety_guard> safety;
};

/// A new request id, unique in this process.
std::uint64_t next_request_id();

/// The request actor of one generation: asks the pool for tokens, turns
/// them into text (whole UTF-8, stop strings and output filter applied),
/// feeds the writer and stores the exchange; a filtered reply ends with
/// finish_reason "content_filter" and keeps only what was sent. `atom::cancel` (client gone) cancels the sequence.
caf::behavior generation(caf::event_based_actor* self, generation_job job,
                         pool_actor pool, caf::actor store);

} // namespace chat
