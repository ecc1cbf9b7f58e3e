#pragma once

#include "actors/protocol/inference_types.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>

namespace chat {

/// What a worker tells `chatd` about itself when it joins the pool.
struct worker_info {
  /// Human-readable name ("local-0", or given with --name).
  std::string name;
  /// Host the worker runs on.
  std::string host;
  /// Device it serves on ("cpu", "cuda:0").
  std::string device;
  /// Id of the model it serves; empty while none is loaded.
  std::string model_id;
  /// Process id on its host.
  std::int32_t pid = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, worker_info& x) {
  return f(caf::meta::type_name("worker_info"), x.name, x.host, x.device,
           x.model_id, x.pid);
}

/// A pool member as /admin/workers shows it.
struct worker_row {
  /// Pool id ("worker-N").
  std::string id;
  worker_info info;
  worker_status status;
  /// "ready", or "unresponsive" when it did not answer in time.
  std::string state;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, worker_row& x) {
  return f(caf::meta::type_name("worker_row"), x.id, x.info, x.status,
           x.state);
}

} // namespace chat
