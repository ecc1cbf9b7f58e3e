#pragma once

#include "actors/auth.hpp"
#include "actors/metrics.hpp"
#include "actors/protocol/registrar.hpp"
#include "actors/safety/safety_guard.hpp"
#include "actors/served_model.hpp"
#include "actors/service_state.hpp"
#include "actors/store.hpp"
#include "config/config.hpp"
#include "http/router.hpp"
#include "http/server.hpp"

#include <caf/actor_system.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

namespace chat {

/// The model chatd serves now; swapped whole on activation. One activation
/// at a time holds the right to swap (begin_swap/end_swap).
class model_slot {
public:
  explicit model_slot(std::shared_ptr<const served_model> model)
    : model_(std::move(model)) {
  }
  std::shared_ptr<const served_model> get() const {
    std::lock_guard<std::mutex> guard(mutex_);
    return model_;
  }
  void set(std::shared_ptr<const served_model> model) {
    std::lock_guard<std::mutex> guard(mutex_);
    model_ = std::move(model);
  }
  /// Claims the right to swap; false while another activation holds it.
  bool begin_swap() {
    return !swapping_.exchange(true);
  }
  /// Gives the right to swap back.
  void end_swap() {
    swapping_ = false;
  }

private:
  mutable std::mutex mutex_;
  std::shared_ptr<const served_model> model_;
  std::atomic<bool> swapping_{false};
};

/// What the gateway's handlers work with.
struct gateway_deps {
  caf::actor_system* system = nullptr;
  caf::actor store;
  pool_actor pool;
  std::shared_ptr<const service_state> status;
  std::shared_ptr<model_slot> model;
  std::shared_ptr<rate_limiter> limiter;
  std::shared_ptr<service_metrics> metrics;
  std::shared_ptr<safety_guard> safety;
  /// What one request may ask for.
  limits_config limits;
};

/// One authenticated API call.
struct api_call {
  http::request& req;
  const principal& who;
  http::responder_ptr done;
};

/// A handler of an authenticated route; runs on the store's thread with the
/// database at hand, so it must not block on anything else.
using api_handler = std::function<void(api_call&, store_context&)>;

/// Registers routes on a router, wrapping authenticated ones: an address
/// with too many failed keys → 429, key → 401 (suspended: 403), scope →
/// 403, rate limit → 429, then the handler; api_error thrown by a
/// handler becomes its error response, anything else a 500 without details.
class route_table {
public:
  route_table(std::shared_ptr<http::router> routes, gateway_deps deps)
    : routes_(std::move(routes)), deps_(std::move(deps)) {
  }

  /// A route anyone may call (health, readiness).
  void add_public(std::string method, std::string pattern, http::handler h);

  /// A route that needs a key with the scope `needs` implies.
  void add(std::string method, std::string pattern, http::access needs,
           api_handler h);

  const gateway_deps& deps() const {
    return deps_;
  }

private:
  std::shared_ptr<http::router> routes_;
  gateway_deps deps_;
};

/// The whole route table of chatd.
std::shared_ptr<http::router> make_gateway_routes(const gateway_deps& deps);

/// The WebSocket endpoints (/v1/ws, /ws).
http::websocket_routes make_websocket_routes(const gateway_deps& deps);

} // namespace chat
