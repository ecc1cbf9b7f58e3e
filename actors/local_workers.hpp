#pragma once

#include "actors/child_process.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/event_based_actor.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace chat {

/// How `chatd` starts its local workers.
struct local_workers_spec {
  /// Path of the chat-worker binary.
  std::string binary;
  /// Devices, one worker each.
  std::vector<std::string> devices;
  /// HOST:PORT where the workers register.
  std::string connect;
  /// Extra arguments for every worker (log level, model, ...).
  std::vector<std::string> extra_args;
  std::chrono::milliseconds backoff{200};
  std::chrono::milliseconds backoff_max{10000};
};

/// State of the actor that keeps one `chat-worker` child per device alive.
struct local_workers_state {
  static inline constexpr const char* name = "local_workers";

  /// One supervised child.
  struct slot {
    std::string device;
    std::optional<child_process> process;
    std::chrono::steady_clock::time_point started;
    std::chrono::steady_clock::time_point restart_at;
    std::chrono::milliseconds backoff{0};
    int restarts = 0;
  };

  local_workers_spec spec;
  std::vector<slot> slots;

  void start(size_t index);
  /// Reaps dead children and starts those whose backoff has passed.
  void poll();
};

/// Starts the children, restarts each one that exits (the delay doubles on
/// every quick failure and resets after a minute of uptime) and stops them
/// all when the actor exits.
caf::behavior local_workers(caf::stateful_actor<local_workers_state>* self,
                            local_workers_spec spec);

} // namespace chat
