#include "actors/routes/routes.hpp"

#include "actors/model_activation.hpp"
#include "actors/routes/request_fields.hpp"

#include <nlohmann/json.hpp>

namespace chat {

namespace {

using json = nlohmann::json;

json model_json(const storage::model_record& m) {
  auto parse = [](const std::string& text) {
    auto j = json::parse(text, nullptr, false);
    return j.is_discarded() ? json::object() : j;
  };
  auto opt = [](const std::optional<std::string>& v) {
    return v ? json(*v) : json(nullptr);
  };
  return {{"id", m.id},
          {"object", "model"},
          {"name", m.name},
          {"created_at", m.created_at},
          {"parent_id", opt(m.parent_id)},
          {"job_id", opt(m.job_id)},
          {"n_params", m.n_params},
          {"config", parse(m.config)},
          {"metrics", parse(m.metrics)},
          {"status", m.status}};
}

void list_models(api_call& call, store_context& db) {
  json data = json::array();
  for (const auto& m : db.models.list())
    data.push_back(model_json(m));
  call.done->send(http::json_response(
    200, json{{"object", "list"}, {"data", data}}.dump()));
}

/// Answers once every worker serves the model (or the swap failed); the
/// route table's audit log records the call with its status.
void activate(const gateway_deps& deps, api_call& call, store_context&) {
  object_body(call.req.body);
  activate_model(deps, call.req.params.at("id"),
                 [done = call.done](activation_outcome outcome) {
                   if (outcome.error)
                     return done->send(outcome.error->to_response());
                   done->send(http::json_response(
                     200, model_json(*outcome.model).dump()));
                 });
}

} // namespace

void add_model_routes(route_table& table) {
  table.add("GET", "/admin/models", http::access::admin, list_models);
  table.add("POST", "/admin/models/{id}/activate", http::access::admin,
            [deps = table.deps()](api_call& call, store_context& db) {
              activate(deps, call, db);
            });
}

} // namespace chat
