#include "actors/worker_pool.hpp"

#include "log/log.hpp"

#include <caf/all.hpp>

namespace chat {

void worker_pool_state::publish_readiness() {
  int ready = 0;
  for (const auto& [id, m] : members)
    if (!m.info.model_id.empty())
      ++ready;
  status->ready_workers = ready;
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
      self->state.members[id] = {std::move(info), std::move(handle)};
      self->state.publish_readiness();
      return id;
    },
    [self](atom::get) {
      std::vector<worker_info> out;
      for (const auto& [id, m] : self->state.members)
        out.push_back(m.info);
      return out;
    },
  };
}

} // namespace chat
