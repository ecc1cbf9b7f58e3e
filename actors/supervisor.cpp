#include "actors/supervisor.hpp"

#include "log/log.hpp"

#include <caf/all.hpp>

namespace chat {

caf::behavior supervisor(caf::stateful_actor<supervisor_state>* self,
                         pool_actor pool, local_workers_spec workers_spec,
                         job_runner_spec jobs_spec) {
  auto& st = self->state;
  st.pool = std::move(pool);
  st.workers_spec = std::move(workers_spec);
  st.jobs_spec = std::move(jobs_spec);
  self->monitor(st.pool);
  st.workers = self->spawn(local_workers, st.workers_spec);
  self->monitor(st.workers);
  st.jobs = self->spawn(job_runner, st.jobs_spec);
  self->monitor(st.jobs);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (msg.source == st.workers.address()) {
      if (msg.reason == caf::exit_reason::user_shutdown)
        return;
      log::error("supervisor", "local workers actor died; restarting")
        .kv("reason", caf::to_string(msg.reason));
      st.workers = self->spawn(local_workers, st.workers_spec);
      self->monitor(st.workers);
    } else if (msg.source == st.jobs.address()) {
      if (msg.reason == caf::exit_reason::user_shutdown)
        return;
      log::error("supervisor", "job runner died; restarting")
        .kv("reason", caf::to_string(msg.reason));
      st.jobs = self->spawn(job_runner, st.jobs_spec);
      self->monitor(st.jobs);
    } else if (msg.source == st.pool.address()) {
      log::error("supervisor", "worker pool died")
        .kv("reason", caf::to_string(msg.reason));
      self->quit(msg.reason);
    }
  });
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    self->send_exit(st.workers, caf::exit_reason::user_shutdown);
    self->send_exit(st.jobs, caf::exit_reason::user_shutdown);
    self->send_exit(st.pool, caf::exit_reason::user_shutdown);
    self->quit(msg.reason);
  });
  return {
    [self](atom::get) { return self->state.pool; },
  };
}

} // namespace chat
