#include "actors/gateway_routes.hpp"

#include "http/api_error.hpp"

#include <nlohmann/json.hpp>

namespace chat {

std::shared_ptr<http::router>
make_gateway_routes(std::shared_ptr<const service_state> status) {
  auto routes = std::make_shared<http::router>();
  routes->add({"GET", "/healthz", http::access::public_,
               [](http::request&, http::responder_ptr done) {
                 done->send(http::json_response(200, R"({"status":"ok"})"));
               }});
  routes->add({"GET", "/readyz", http::access::public_,
               [status](http::request&, http::responder_ptr done) {
                 int ready = status->ready_workers.load();
                 if (ready == 0) {
                   auto r = http::error_response(503, "no_worker_ready",
                                                 "no worker serves a model yet");
                   r.headers.emplace_back("Retry-After", "1");
                   done->send(std::move(r));
                   return;
                 }
                 done->send(http::json_response(
                   200, nlohmann::json{{"status", "ready"},
                                       {"ready_workers", ready}}
                          .dump()));
               }});
  return routes;
}

} // namespace chat
