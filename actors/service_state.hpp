#pragma once

#include <atomic>

namespace chat {

/// Facts the gateway reads without asking an actor (it must never block on
/// one): written by the actors that own them.
struct service_state {
  /// Workers in the pool that serve a model.
  std::atomic<int> ready_workers{0};
};

} // namespace chat
