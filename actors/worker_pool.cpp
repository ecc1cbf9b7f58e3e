#include "actors/worker_pool.hpp"

#include "actors/protocol/errc.hpp"
#include "log/log.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <functional>

namespace chat {

namespace {

/// How long /admin/workers waits for each worker's status.
constexpr auto status_timeout = std::chrono::seconds(2);
/// How long a worker may take to load a model version (a large one onto a
/// GPU takes minutes).
constexpr auto load_timeout = std::chrono::minutes(10);
/// How long a worker may take to switch to a loaded version.
constexpr auto activate_timeout = std::chrono::seconds(10);

using pool_pointer = pool_actor::stateful_pointer<worker_pool_state>;

std::vector<std::string> member_ids(const worker_pool_state& st) {
  std::vector<std::string> ids;
  for (const auto& [id, m] : st.members)
    ids.push_back(id);
  return ids;
}

/// Asks each member of `ids` still in the pool with `ask(handle)` (a
/// request), hands every answer to `on_reply(id, answer)` and finally calls
/// `done` with the first failure of a member that is still in the pool
/// (one that left has nothing to serve), or an empty error.
template <class Reply, class Ask, class OnReply>
void fan_out(pool_pointer self, const std::vector<std::string>& ids, Ask ask,
             OnReply on_reply, std::function<void(caf::error)> done) {
  if (ids.empty())
    return done({});
  auto pending = std::make_shared<size_t>(ids.size());
  auto failure = std::make_shared<caf::error>();
  auto settle = [pending, failure, done] {
    if (--*pending == 0)
      done(std::move(*failure));
  };
  for (const auto& id : ids) {
    auto it = self->state.members.find(id);
    if (it == self->state.members.end()) {
      settle();
      continue;
    }
    ask(it->second.handle)
      .then(
        [id, on_reply, settle](Reply& reply) mutable {
          on_reply(id, reply);
          settle();
        },
        [self, id, failure, settle](caf::error& err) mutable {
          if (!*failure && self->state.members.count(id) != 0)
            *failure = std::move(err);
          settle();
        });
  }
}

/// Loads `ref` on the members `ids`, then makes it their active model;
/// `done` gets the first failure. No member switches when a load fails.
void swap_members(pool_pointer self, const std::vector<std::string>& ids,
                  const model_ref& ref, std::function<void(caf::error)> done) {
  auto load = [self, ref](const inference_actor& worker) {
    return self->request(worker, load_timeout, atom::load::value, ref);
  };
  auto activate = [self, id = ref.id](const inference_actor& worker) {
    return self->request(worker, activate_timeout, atom::activate::value, id);
  };
  auto switched = [self](const std::string& id,
                         std::vector<std::string>& kept) {
    auto it = self->state.members.find(id);
    if (it == self->state.members.end() || kept.empty())
      return;
    it->second.models = kept;
    it->second.info.model_id = kept.front();
  };
  fan_out<std::string>(
    self, ids, load, [](const std::string&, std::string&) {},
    [self, ids, activate, switched, done](caf::error err) {
      if (err)
        return done(std::move(err));
      fan_out<std::vector<std::string>>(self, ids, activate, switched,
                                        done);
    });
}

bool serves_active(const worker_pool_state& st,
                   const worker_pool_state::member& m) {
  return !st.active
         || (!m.models.empty() && m.models.front() == st.active->id);
}

/// Switches member `id` to the active model if it serves another one (it
/// joined with the model on its command line); it serves what it has until
/// then, and goes on doing so when the switch fails.
void bring_up_to_date(pool_pointer self, const std::string& id) {
  auto& st = self->state;
  auto it = st.members.find(id);
  if (it == st.members.end() || serves_active(st, it->second))
    return;
  auto ref = *st.active;
  log::info("pool", "switching worker to the active model")
    .kv("worker", id)
    .kv("model", ref.id);
  swap_members(self, {id}, ref, [self, id, ref](caf::error err) {
    if (err)
      log::warn("pool", "worker cannot switch to the active model")
        .kv("worker", id)
        .kv("model", ref.id)
        .kv("reason", to_string(err));
    // An activation that ran meanwhile may have left it behind again.
    else if (self->state.active && self->state.active->id != ref.id)
      bring_up_to_date(self, id);
  });
}

} // namespace

void worker_pool_state::publish_readiness() {
  int ready = 0;
  for (const auto& [id, m] : members)
    if (!m.info.model_id.empty())
      ++ready;
  status->ready_workers = ready;
}

worker_pool_state::member*
worker_pool_state::least_loaded(const std::string& model_id, std::string& id) {
  member* best = nullptr;
  for (auto& [mid, m] : members) {
    if (m.models.empty()
        || (!model_id.empty()
            && std::find(m.models.begin(), m.models.end(), model_id)
                 == m.models.end()))
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
      // Its sequences will never be answered: end them now.
      auto& routes = self->state.routes;
      for (auto r = routes.begin(); r != routes.end();) {
        if (r->second.worker_id != it->first) {
          ++r;
          continue;
        }
        r->second.promise.deliver(
          make_error(errc::engine_failure, "the worker went away"));
        r = routes.erase(r);
      }
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
      std::vector<std::string> models;
      if (!info.model_id.empty())
        models.push_back(info.model_id);
      self->state.members[id] = {std::move(info),
                                 caf::actor_cast<inference_actor>(handle), 0,
                                 std::move(models)};
      self->state.publish_readiness();
      bring_up_to_date(self, id);
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
      auto* target = st.least_loaded(req.model_id, worker_id);
      if (!target && st.least_loaded({}, worker_id))
        return make_error(errc::model_unavailable,
                          "no worker has model '" + req.model_id
                            + "' loaded");
      if (!target)
        return make_error(errc::no_model, "no worker serves a model");
      ++target->in_flight;
      auto request_id = req.id;
      auto rp = self->make_response_promise<generation_result>();
      st.routes[request_id] = {worker_id, rp};
      // Answers the caller unless the worker's exit already did.
      auto settle = [self, worker_id, request_id](auto&& outcome) {
        auto& st = self->state;
        auto route = st.routes.find(request_id);
        if (route == st.routes.end())
          return;
        auto promise = route->second.promise;
        st.routes.erase(route);
        auto it = st.members.find(worker_id);
        if (it != st.members.end())
          --it->second.in_flight;
        promise.deliver(std::move(outcome));
      };
      self
        ->request(target->handle, caf::infinite, atom::generate::value,
                  std::move(req), std::move(sink))
        .then([settle](generation_result& r) mutable { settle(std::move(r)); },
              [settle](caf::error& err) mutable { settle(std::move(err)); });
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
    [self](atom::activate, model_ref& ref) -> caf::result<std::string> {
      auto rp = self->make_response_promise<std::string>();
      const auto ids = member_ids(self->state);
      log::info("pool", "activating model")
        .kv("model", ref.id)
        .kv("workers", ids.size());
      swap_members(self, ids, ref, [self, ref, rp](caf::error err) mutable {
        if (err) {
          log::warn("pool", "activation failed")
            .kv("model", ref.id)
            .kv("reason", to_string(err));
          rp.deliver(std::move(err));
          return;
        }
        auto& st = self->state;
        st.active = ref;
        log::info("pool", "model active").kv("model", ref.id);
        // Workers that joined during the swap.
        for (const auto& id : member_ids(st))
          bring_up_to_date(self, id);
        rp.deliver(ref.id);
      });
      return rp;
    },
    [self](atom::cancel, std::uint64_t request_id) {
      auto& st = self->state;
      auto route = st.routes.find(request_id);
      if (route == st.routes.end())
        return;
      auto it = st.members.find(route->second.worker_id);
      if (it != st.members.end())
        self->send(it->second.handle, atom::cancel::value, request_id);
    },
  };
}

} // namespace chat
