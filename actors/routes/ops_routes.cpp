#include "actors/routes/routes.hpp"

#include "actors/worker_metrics.hpp"
#include "http/api_error.hpp"

#include <caf/all.hpp>

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

namespace {

/// Jobs per status, every status listed.
std::string job_gauges(store_context& db) {
  auto counts = db.jobs.count_by_status();
  std::string out = "# TYPE chatd_jobs gauge\n";
  for (const char* status : {"queued", "preparing", "running", "succeeded",
                             "failed", "cancelled"})
    out += std::string("chatd_jobs{status=\"") + status + "\"} "
           + std::to_string(counts[status]) + "\n";
  return out;
}

} // namespace

void add_metrics_route(route_table& table) {
  const auto deps = table.deps();
  table.add_public(
    "GET", "/metrics", [deps](http::request&, http::responder_ptr done) {
      deps.system->spawn([deps, done](caf::event_based_actor* self) {
        auto answer = [deps, done](const std::string& workers) {
          auto body = deps.metrics->render() + deps.safety->render_metrics()
                      + workers
                      + "# TYPE chatd_workers_ready gauge\nchatd_workers_ready "
                      + std::to_string(deps.status->ready_workers.load())
                      + "\n";
          run_in_store(deps.store, [done, body](store_context& db) {
            http::response r;
            r.content_type = "text/plain; version=0.0.4";
            r.body = body;
            try {
              r.body += job_gauges(db);
            } catch (const std::exception&) {
              // The other metrics still answer while the database fails.
            }
            done->send(std::move(r));
          });
        };
        self->request(deps.pool, std::chrono::seconds(3), atom::status::value)
          .then(
            [answer](std::vector<worker_row>& rows) {
              answer(render_worker_metrics(rows));
            },
            [answer](caf::error&) { answer(""); });
      });
    });
}

} // namespace chat
