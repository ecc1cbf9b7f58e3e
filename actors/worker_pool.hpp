#pragma once

#include "actors/protocol/registrar.hpp"
#include "actors/service_state.hpp"

#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace chat {

/// State of the pool of workers that joined `chatd`.
struct worker_pool_state {
  static inline constexpr const char* name = "worker_pool";

  struct member {
    worker_info info;
    inference_actor handle;
    /// Sequences routed to it and not yet answered.
    int in_flight = 0;
    /// Ids of the models it has loaded, its active one (info.model_id)
    /// first.
    std::vector<std::string> models;
  };

  /// A sequence routed to a worker and not yet answered.
  struct route {
    std::string worker_id;
    caf::typed_response_promise<generation_result> promise;
  };

  std::map<std::string, member> members;
  /// Request id -> where it runs: for cancels, and to fail it at once when
  /// its worker goes away.
  std::map<std::uint64_t, route> routes;
  std::shared_ptr<service_state> status;
  int next_id = 0;
  /// The model every worker is to serve, once one was activated.
  std::optional<model_ref> active;

  /// Recounts ready members into `status`.
  void publish_readiness();

  /// The member with the fewest sequences in flight among those that have
  /// model `model_id` loaded (any model when it is empty), or nullptr.
  member* least_loaded(const std::string& model_id, std::string& id);
};

/// Accepts joining workers, monitors them and drops them when they go down;
/// routes requests and hot-swaps models (pool_actor).
pool_actor::behavior_type
worker_pool(pool_actor::stateful_pointer<worker_pool_state> self,
            std::shared_ptr<service_state> status);

} // namespace chat
