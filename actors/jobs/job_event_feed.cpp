#include "actors/jobs/job_event_feed.hpp"

#include "actors/protocol/atoms.hpp"
#include "actors/store.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include <chrono>

namespace chat {

namespace {

using json = nlohmann::json;

constexpr auto poll_interval = std::chrono::milliseconds(250);
/// Polls without news before a `: ping` comment keeps proxies from closing.
constexpr int polls_per_ping = 60;

struct feed_state {
  static inline constexpr const char* name = "job_event_feed";
  std::string job_id;
  std::int64_t last_seq = 0;
  int quiet_polls = 0;
};

std::string sse_event(const storage::job_event& e) {
  auto j = json::parse(e.payload, nullptr, false);
  if (!j.is_object())
    j = json::object();
  j["seq"] = e.seq;
  j["type"] = e.type;
  j["created_at"] = e.created_at;
  return "data: " + j.dump(-1, ' ', false, json::error_handler_t::replace)
         + "\n\n";
}

caf::behavior job_event_feed(caf::stateful_actor<feed_state>* self,
                             caf::actor store, std::string job_id,
                             http::responder_ptr out) {
  self->state.job_id = std::move(job_id);
  out->on_close([feed = caf::actor_cast<caf::actor>(self)] {
    caf::anon_send_exit(feed, caf::exit_reason::user_shutdown);
  });
  self->send(self, atom::poll::value);
  return {
    [self, store, out](atom::poll) {
      run_in_store(store, [feed = caf::actor_cast<caf::actor>(self),
                           id = self->state.job_id,
                           after = self->state.last_seq,
                           out](store_context& db) {
        // The status first: events recorded with a final status are then
        // among those read below.
        auto job = db.jobs.find(id);
        bool ended = !job || storage::is_final_status(job->status);
        auto events = db.jobs.events_after(id, after);
        for (const auto& e : events)
          out->write(sse_event(e));
        caf::anon_send(feed, atom::fed::value,
                       events.empty() ? after : events.back().seq, ended);
      });
    },
    [self, out](atom::fed, std::int64_t last_seq, bool ended) {
      auto& st = self->state;
      if (ended) {
        out->finish();
        return self->quit();
      }
      st.quiet_polls = last_seq == st.last_seq ? st.quiet_polls + 1 : 0;
      st.last_seq = last_seq;
      if (st.quiet_polls >= polls_per_ping) {
        out->write(": ping\n\n");
        st.quiet_polls = 0;
      }
      self->delayed_send(self, poll_interval, atom::poll::value);
    },
  };
}

} // namespace

void start_job_event_feed(caf::actor_system& system, caf::actor store,
                          std::string job_id, http::responder_ptr out) {
  system.spawn(job_event_feed, std::move(store), std::move(job_id),
               std::move(out));
}

} // namespace chat
