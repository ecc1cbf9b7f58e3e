#pragma once

#include "http/router.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <string>

namespace chat {

/// Streams a job's events to `out` as Server-Sent Events (API.md, Jobs):
/// every recorded event from the first, then new ones as the job runner
/// records them (read from the store every few hundred ms, so nothing is
/// missed between replay and live); ends after the job's final status.
/// The stream must already be started.
void start_job_event_feed(caf::actor_system& system, caf::actor store,
                          std::string job_id, http::responder_ptr out);

} // namespace chat
