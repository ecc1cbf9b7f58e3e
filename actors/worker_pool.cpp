#include "actors/worker_pool.hpp"

#include "actors/protocol/errc.hpp"
#include "log/log.hpp"

#include <caf/all.hpp>

namespace chat {

namespace {

/// How long /admin/workers waits for each worker's status.
constexpr auto status_timeout = std::chrono::seconds(2);

} // namespace

void worker_pool_state::publish_readiness() {
  int ready = 0;
  for (const auto& [id, m] : members)
    if (!m.info.model_id.empty())
      ++ready;
  status->ready_workers = ready;
}

worker_pool_state::member* worker_pool_state::least_loaded(std::string& id) {
  member* best = nullptr;
  for (auto& [mid, m] : members) {
    if (m.info.model_id.empty())
      continue;
    if (!best || m.in_flight < best->in_flight) {
      best = &m;
      id = mid;
    }
  }
  return best;
}

pool_actor::behavior_type
worker_pool(pool_actor::stateful_pointer<worker_pool_state> self,
            std::shared_ptr<service_state> status) {
  self->state.status = std::move(status);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& members = self->state.members;
    for (auto it = members.begin(); it != members.end(); ++it) {
      if (it->second.handle.address() != msg.source)
        continue;
      log::warn("pool", "worker left")
        .kv("worker", it->first)
        .kv("name", it->second.info.name)
        .kv("reason", caf::to_string(msg.reason));
      members.erase(it);
      break;
    }
    self->state.publish_readiness();
  });
  return {
    [self](atom::join, worker_info& info, caf::actor& handle) -> std::string {
      auto id = "worker-" + std::to_string(self->state.next_id++);
      log::info("pool", "worker joined")
        .kv("worker", id)
        .kv("name", info.name)
        .kv("device", info.device)
        .kv("model", info.model_id.empty() ? "none" : info.model_id)
        .kv("pid", info.pid);
      self->monitor(handle);
      self->state.members[id] = {std::move(info),
                                 caf::actor_cast<inference_actor>(handle), 0};
      self->state.publish_readiness();
      return id;
    },
    [self](atom::get) {
      std::vector<worker_info> out;
      for (const auto& [id, m] : self->state.members)
        out.push_back(m.info);
      return out;
    },
    [self](atom::generate, generate_request& req,
           token_sink_actor& sink) -> caf::result<generation_result> {
      auto& st = self->state;
      std::string worker_id;
      auto* target = st.least_loaded(worker_id);
      if (!target)
        return make_error(errc::no_model, "no worker serves a model");
      ++target->in_flight;
      auto request_id = req.id;
      st.routes[request_id] = worker_id;
      auto rp = self->make_response_promise<generation_result>();
      auto settle = [self, worker_id, request_id] {
        auto& st = self->state;
        st.routes.erase(request_id);
        auto it = st.members.find(worker_id);
        if (it != st.members.end())
          --it->second.in_flight;
      };
      self
        ->request(target->handle, caf::infinite, atom::generate::value,
                  std::move(req), std::move(sink))
        .then(
          [rp, settle](generation_result& r) mutable {
            settle();
            rp.deliver(std::move(r));
          },
          [rp, settle](caf::error& err) mutable {
            settle();
            rp.deliver(std::move(err));
          });
      return rp;
    },
    [self](atom::status) -> caf::result<std::vector<worker_row>> {
      auto& members = self->state.members;
      auto rp = self->make_response_promise<std::vector<worker_row>>();
      if (members.empty()) {
        rp.deliver(std::vector<worker_row>{});
        return rp;
      }
      // Fan out, collect each answer (or its timeout) into one reply.
      auto rows = std::make_shared<std::vector<worker_row>>();
      auto pending = std::make_shared<size_t>(members.size());
      for (auto& [id, m] : members) {
        auto done = [rp, rows, pending](worker_row row) mutable {
          rows->push_back(std::move(row));
          if (--*pending == 0)
            rp.deliver(std::move(*rows));
        };
        worker_row row{id, m.info, {}, "ready"};
        self->request(m.handle, status_timeout, atom::get::value)
          .then(
            [done, row](worker_status& s) mutable {
              row.status = std::move(s);
              done(std::move(row));
            },
            [done, row](caf::error&) mutable {
              row.state = "unresponsive";
              done(std::move(row));
            });
      }
      return rp;
    },
    [self](atom::cancel, std::uint64_t request_id) {
      auto& st = self->state;
      auto route = st.routes.find(request_id);
      if (route == st.routes.end())
        return;
      auto it = st.members.find(route->second);
      if (it != st.members.end())
        self->send(it->second.handle, atom::cancel::value, request_id);
    },
  };
}

} // namespace chat
