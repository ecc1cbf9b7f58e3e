#include "actors/gateway.hpp"

#include "actors/api/api_error.hpp"
#include "actors/routes/routes.hpp"
#include "log/log.hpp"
#include "storage/database.hpp"

namespace chat {

void route_table::add_public(std::string method, std::string pattern,
                             http::handler h) {
  routes_->add({std::move(method), std::move(pattern), http::access::public_,
                std::move(h)});
}

void route_table::add(std::string method, std::string pattern,
                      http::access needs, api_handler h) {
  auto deps = deps_;
  auto handle = [deps, needs, h = std::move(h)](http::request& req,
                                                http::responder_ptr done) {
    auto key = presented_key(req);
    run_in_store(deps.store, [deps, needs, h, key, req = std::move(req),
                              done](store_context& db) mutable {
      try {
        auto auth = authenticate(db.keys, key, storage::now_seconds());
        if (!auth.who) {
          auto [code, message] = describe(auth.failure);
          auto r = http::error_response(401, code, message);
          r.headers.emplace_back("WWW-Authenticate", "Bearer");
          return done->send(std::move(r));
        }
        const char* scope = needs == http::access::admin ? "admin" : "chat";
        if (!auth.who->has_scope(scope))
          return done->send(http::error_response(
            403, "insufficient_scope",
            std::string("this API key lacks the '") + scope + "' scope"));
        if (auto wait = deps.limiter->admit_request(*auth.who)) {
          api::api_error e(429, "rate_limited",
                           "rate limit exceeded for this API key");
          e.retry_after = *wait;
          return done->send(e.to_response());
        }
        api_call call{req, *auth.who, done};
        h(call, db);
      } catch (const api::api_error& e) {
        done->send(e.to_response());
      } catch (const std::exception& e) {
        log::error("gateway", "request failed")
          .kv("path", req.path)
          .kv("what", e.what());
        done->send(http::error_response(500, "internal_error",
                                        "internal error"));
      }
    });
  };
  routes_->add({std::move(method), std::move(pattern), needs,
                std::move(handle)});
}

std::shared_ptr<http::router> make_gateway_routes(const gateway_deps& deps) {
  auto routes = std::make_shared<http::router>();
  route_table table(routes, deps);
  add_ops_routes(table);
  add_openai_routes(table);
  add_session_routes(table);
  return routes;
}

} // namespace chat
