#pragma once

#include "actors/protocol/inference.hpp"
#include "actors/protocol/atoms.hpp"
#include "actors/protocol/worker_info.hpp"

#include <caf/actor.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <string>
#include <vector>

namespace chat {

/// The face of the worker pool that `chatd` publishes for workers: a worker
/// sends its info and handle and gets its pool id back. `chatd` monitors the
/// handle, so a worker that dies or disconnects leaves the pool.
using registrar_actor = caf::typed_actor<
  caf::replies_to<atom::join, worker_info, caf::actor>::with<std::string>>;

/// The pool as seen inside `chatd`: registration, a snapshot of members, and
/// the router: `generate` goes to the least loaded worker that has the
/// request's model loaded (errc::no_model when no worker serves any model,
/// errc::model_unavailable when none has that one), `cancel` follows it
/// there; `status` asks every worker for its load.
///
/// `activate` hot-swaps every worker to a model version: all load it, then
/// all make it their default; it answers with the id once every worker
/// serves it, or with the first failure (when a load fails no worker
/// switches). The pool remembers it and brings workers that join later
/// with another model up to date.
using pool_actor = registrar_actor::extend<
  caf::replies_to<atom::get>::with<std::vector<worker_info>>,
  caf::replies_to<atom::generate, generate_request,
                  token_sink_actor>::with<generation_result>,
  caf::reacts_to<atom::cancel, std::uint64_t>,
  caf::replies_to<atom::status>::with<std::vector<worker_row>>,
  caf::replies_to<atom::activate, model_ref>::with<std::string>>;

} // namespace chat
