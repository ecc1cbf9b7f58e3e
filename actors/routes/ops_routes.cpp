#include "actors/routes/routes.hpp"

#include "http/api_error.hpp"

#include <nlohmann/json.hpp>

namespace chat {

void add_ops_routes(route_table& table) {
  table.add_public("GET", "/healthz",
                   [](http::request&, http::responder_ptr done) {
                     done->send(http::json_response(200, R"({"status":"ok"})"));
                   });
  auto status = table.deps().status;
  table.add_public(
    "GET", "/readyz", [status](http::request&, http::responder_ptr done) {
      int ready = status->ready_workers.load();
      if (ready == 0) {
        auto r = http::error_response(503, "no_worker_ready",
                                      "no worker serves a model yet");
        r.headers.emplace_back("Retry-After", "1");
        return done->send(std::move(r));
      }
      done->send(http::json_response(
        200,
        nlohmann::json{{"status", "ready"}, {"ready_workers", ready}}.dump()));
    });
}

} // namespace chat
