#pragma once

#include "actors/protocol/inference.hpp"

#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <cstdint>
#include <unordered_map>

namespace chat::worker {

class engine;

/// The worker actor's full interface: inference_actor for chatd, plus the
/// messages the engine thread sends when a sequence ends (with its result
/// or, with its id, an error). Hand out only the inference_actor part.
using worker_actor = inference_actor::extend<
  caf::reacts_to<atom::step, generation_result>,
  caf::reacts_to<atom::step, std::uint64_t, caf::error>>;

/// Sequences in flight and the sinks watched for them.
struct worker_state {
  static inline constexpr const char* name = "inference_worker";

  struct in_flight {
    caf::typed_response_promise<generation_result> promise;
    caf::actor_addr sink;
  };

  std::unordered_map<std::uint64_t, in_flight> sequences;
  /// How many sequences in flight stream to each monitored sink.
  std::unordered_map<caf::actor_addr, int> sinks;
};

/// Bridges inference_actor to `eng`, which must outlive the actor (and the
/// actor system: loads run in detached actors): submits generate requests,
/// answers them when the engine reports their end, cancels by id or when a
/// sink goes down, loads and activates model versions. Tokens go from the engine thread
/// straight to the sinks; the engine never touches this actor's state.
worker_actor::behavior_type
serve_inference(worker_actor::stateful_pointer<worker_state> self,
                engine* eng);

} // namespace chat::worker
