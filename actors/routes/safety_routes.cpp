#include "actors/routes/routes.hpp"

#include "actors/api/api_error.hpp"
#include "actors/routes/request_fields.hpp"

#include <nlohmann/json.hpp>

namespace chat {

namespace {

using json = nlohmann::json;

constexpr int max_alerts = 1000;

json rule_json(const storage::filter_rule& r) {
  return {{"id", r.id},
          {"object", "filter_rule"},
          {"kind", r.kind},
          {"pattern", r.pattern},
          {"applies_to", r.applies_to},
          {"created_at", r.created_at}};
}

json alert_json(const storage::abuse_alert& a) {
  return {{"id", a.id},
          {"object", "abuse_alert"},
          {"key_id", a.key_id},
          {"user_id", a.user_id},
          {"signal", a.signal},
          {"detail", a.detail},
          {"created_at", a.created_at},
          {"lifted_at", a.lifted_at ? json(*a.lifted_at) : json(nullptr)}};
}

void list_filters(api_call& call, store_context& db) {
  json data = json::array();
  for (const auto& r : db.safety.rules())
    data.push_back(rule_json(r));
  call.done->send(http::json_response(
    200, json{{"object", "list"}, {"data", data}}.dump()));
}

void add_filter(const gateway_deps& deps, api_call& call, store_context& db) {
  auto body = object_body(call.req.body);
  auto kind = optional_string(body, "kind").value_or("phrase");
  auto pattern = optional_string(body, "pattern");
  if (!pattern)
    throw api::bad_param("pattern", "'pattern' is required");
  auto applies_to = optional_string(body, "applies_to").value_or("both");
  if (auto problem = safety::rule_problem(kind, *pattern, applies_to))
    throw api::bad_param(problem->field, problem->message);
  auto rule = db.safety.add_rule(kind, *pattern, applies_to);
  deps.safety->load_rules(db);
  call.done->send(http::json_response(201, rule_json(rule).dump()));
}

void remove_filter(const gateway_deps& deps, api_call& call,
                   store_context& db) {
  const auto& id = call.req.params.at("id");
  if (!db.safety.remove_rule(id))
    throw api::api_error(404, "filter_not_found",
                         "no filter rule with id '" + id + "'");
  deps.safety->load_rules(db);
  call.done->send(http::json_response(
    200,
    json{{"id", id}, {"object", "filter_rule.deleted"}, {"deleted", true}}
      .dump()));
}

void list_alerts(api_call& call, store_context& db) {
  auto all = query_param(call.req, "all");
  if (all && *all != "true" && *all != "false")
    throw api::bad_param("all", "'all' must be true or false");
  json data = json::array();
  for (const auto& a : db.safety.alerts(all && *all == "true", max_alerts))
    data.push_back(alert_json(a));
  call.done->send(http::json_response(
    200, json{{"object", "list"}, {"data", data}}.dump()));
}

} // namespace

void add_safety_routes(route_table& table) {
  const auto& deps = table.deps();
  using http::access;
  table.add("GET", "/admin/filters", access::admin, list_filters);
  table.add("POST", "/admin/filters", access::admin,
            [deps](api_call& call, store_context& db) {
              add_filter(deps, call, db);
            });
  table.add("DELETE", "/admin/filters/{id}", access::admin,
            [deps](api_call& call, store_context& db) {
              remove_filter(deps, call, db);
            });
  table.add("GET", "/admin/alerts", access::admin, list_alerts);
}

} // namespace chat
