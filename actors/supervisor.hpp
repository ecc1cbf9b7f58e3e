#pragma once

#include "actors/jobs/job_runner.hpp"
#include "actors/local_workers.hpp"
#include "actors/protocol/registrar.hpp"
#include "actors/service_state.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <memory>

namespace chat {

/// The root of `chatd`'s actors.
struct supervisor_state {
  static inline constexpr const char* name = "supervisor";
  pool_actor pool;
  caf::actor workers;
  local_workers_spec workers_spec;
  caf::actor jobs;
  job_runner_spec jobs_spec;
};

/// Owns the pool, the local workers and the job runner. A crashed
/// local-workers actor or job runner is restarted (the runner then resumes
/// its job); a crashed pool ends the supervisor (workers hold its published
/// handle, so it cannot be replaced in place) and with it the process, whose
/// exit status then tells the operator. On exit it stops its children.
caf::behavior supervisor(caf::stateful_actor<supervisor_state>* self,
                         pool_actor pool, local_workers_spec workers_spec,
                         job_runner_spec jobs_spec);

} // namespace chat
