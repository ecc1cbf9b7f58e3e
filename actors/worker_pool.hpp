#pragma once

#include "actors/protocol/registrar.hpp"
#include "actors/service_state.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <map>
#include <memory>
#include <string>

namespace chat {

/// State of the pool of workers that joined `chatd`.
struct worker_pool_state {
  static inline constexpr const char* name = "worker_pool";

  struct member {
    worker_info info;
    caf::actor handle;
  };

  std::map<std::string, member> members;
  std::shared_ptr<service_state> status;
  int next_id = 0;

  /// Recounts ready members into `status`.
  void publish_readiness();
};

/// Accepts joining workers, monitors them and drops them when they go down.
pool_actor::behavior_type
worker_pool(pool_actor::stateful_pointer<worker_pool_state> self,
            std::shared_ptr<service_state> status);

} // namespace chat
