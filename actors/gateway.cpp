#include "actors/gateway.hpp"

#include "actors/api/api_error.hpp"
#include "actors/routes/routes.hpp"
#include "log/log.hpp"
#include "storage/audit_log.hpp"
#include "storage/database.hpp"

#include <atomic>

namespace chat {

namespace {

/// Forwards to the real responder and reports the status it answers with
/// (once) to `on_status`: for the request metrics and the audit log.
class observed_responder : public http::responder {
public:
  observed_responder(http::responder_ptr inner,
                     std::function<void(int)> on_status)
    : inner_(std::move(inner)), on_status_(std::move(on_status)) {
  }

  void send(http::response r) override {
    report(r.status);
    inner_->send(std::move(r));
  }

  void start_stream(std::string content_type,
                    http::header_list headers) override {
    report(200);
    inner_->start_stream(std::move(content_type), std::move(headers));
  }

  void write(std::string data) override {
    inner_->write(std::move(data));
  }

  void finish() override {
    inner_->finish();
  }

  void on_close(std::function<void()> callback) override {
    inner_->on_close(std::move(callback));
  }

private:
  void report(int status) {
    if (!reported_.exchange(true))
      on_status_(status);
  }

  http::responder_ptr inner_;
  std::function<void(int)> on_status_;
  std::atomic<bool> reported_{false};
};

/// Counts the request under its route in the metrics.
http::responder_ptr counted(http::responder_ptr done,
                            std::shared_ptr<service_metrics> metrics,
                            std::string route) {
  return std::make_shared<observed_responder>(
    std::move(done), [metrics = std::move(metrics),
                      route = std::move(route)](int status) {
      metrics->count_request(route, status);
    });
}

} // namespace

void route_table::add_public(std::string method, std::string pattern,
                             http::handler h) {
  auto route = method + " " + pattern;
  auto metrics = deps_.metrics;
  routes_->add({std::move(method), std::move(pattern), http::access::public_,
                [h = std::move(h), metrics, route](http::request& req,
                                                   http::responder_ptr done) {
                  h(req, counted(std::move(done), metrics, route));
                }});
}

void route_table::add(std::string method, std::string pattern,
                      http::access needs, api_handler h) {
  auto deps = deps_;
  auto action = method + " " + pattern;
  auto handle = [deps, needs, action, h = std::move(h)](
                  http::request& req, http::responder_ptr done) {
    done = counted(std::move(done), deps.metrics, action);
    if (auto wait = deps.safety->auth_throttled(req.remote_address)) {
      api::api_error e(429, "too_many_auth_failures",
                       "too many failed authentications from this address; "
                       "retry later");
      e.retry_after = *wait;
      return done->send(e.to_response());
    }
    auto key = presented_key(req);
    run_in_store(deps.store, [deps, needs, action, h, key,
                              req = std::move(req),
                              done](store_context& db) mutable {
      try {
        auto auth = authenticate(db.keys, key, storage::now_seconds());
        if (!auth.who) {
          if (auth.failure != auth_failure::missing)
            deps.safety->auth_failed(req.remote_address);
          auto [code, message] = describe(auth.failure);
          auto status = status_of(auth.failure);
          auto r = http::error_response(status, code, message);
          if (status == 401)
            r.headers.emplace_back("WWW-Authenticate", "Bearer");
          return done->send(std::move(r));
        }
        done = std::make_shared<observed_responder>(
          done, [deps, who = *auth.who](int status) {
            deps.safety->answered(deps.store, who, status);
          });
        const char* scope = needs == http::access::admin ? "admin" : "chat";
        if (!auth.who->has_scope(scope))
          return done->send(http::error_response(
            403, "insufficient_scope",
            std::string("this API key lacks the '") + scope + "' scope"));
        if (auto wait = deps.limiter->admit_request(*auth.who)) {
          deps.safety->rate_limited(db, *auth.who);
          api::api_error e(429, "rate_limited",
                           "rate limit exceeded for this API key");
          e.retry_after = *wait;
          return done->send(e.to_response());
        }
        if (needs == http::access::admin) {
          std::string target;
          if (auto it = req.params.find("id"); it != req.params.end())
            target = it->second;
          storage::audit_entry entry{0, auth.who->user_id, auth.who->key_id,
                                     action, target, 0, 0};
          done = std::make_shared<observed_responder>(
            done, [store = deps.store, entry](int status) mutable {
              entry.status = status;
              run_in_store(store, [entry](store_context& db) {
                db.audit.record(entry);
              });
            });
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
  add_metrics_route(table);
  add_openai_routes(table);
  add_session_routes(table);
  add_admin_routes(table);
  add_dataset_routes(table);
  add_model_routes(table);
  add_job_routes(table);
  add_web_routes(table);
  add_safety_routes(table);
  return routes;
}

} // namespace chat
