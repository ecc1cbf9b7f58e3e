#pragma once

#include "actors/protocol/atoms.hpp"
#include "actors/protocol/inference_types.hpp"

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

/// The protocol between chatd (router, request actors) and a worker: token
/// ids in, token ids out. Text never crosses it (DESIGN.md: only chatd has
/// the tokenizer).
namespace chat {

/// Receives the tokens of one generation as they are sampled.
using token_sink_actor = caf::typed_actor<caf::reacts_to<token_chunk>>;

/// A worker: generates for many requests at once (continuous batching).
/// `generate` answers when the sequence ends (finish_reason "stop",
/// "length" or "cancelled") or fails with an `errc` (model_unavailable when
/// the request's model is not loaded). The worker monitors the sink: when
/// it goes down the sequence is cancelled before the next step.
///
/// Hot swap: `load` loads a model version in the background while the
/// worker keeps serving and answers with its id once it can serve it
/// (errc::model_load_failed for a bad checkpoint). `activate` makes a loaded
/// version the default between two decode steps and answers with the ids
/// the worker keeps loaded, active first (then the previous one, which
/// in-flight sequences and rollbacks use); others are unloaded once idle.
using inference_actor = caf::typed_actor<
  caf::replies_to<atom::generate, generate_request,
                  token_sink_actor>::with<generation_result>,
  caf::reacts_to<atom::cancel, std::uint64_t>,
  caf::replies_to<atom::get>::with<worker_status>,
  caf::replies_to<atom::load, model_ref>::with<std::string>,
  caf::replies_to<atom::activate,
                  std::string>::with<std::vector<std::string>>>;

} // namespace chat
