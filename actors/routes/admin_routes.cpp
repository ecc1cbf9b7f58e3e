#include "actors/routes/routes.hpp"

#include "actors/api/api_error.hpp"
#include "actors/routes/request_fields.hpp"
#include "actors/routes/session_json.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

namespace chat {

namespace {

using json = nlohmann::json;

constexpr std::size_t max_name_length = 64;
constexpr std::int64_t max_rpm = 1'000'000;
constexpr std::int64_t max_streams_limit = 10'000;
constexpr std::int64_t max_token_quota = 1'000'000'000'000;
constexpr std::int64_t max_unix_time = 253402300799; // 9999-12-31
constexpr auto workers_timeout = std::chrono::seconds(5);

json list_json(json data) {
  return {{"object", "list"}, {"data", std::move(data)}};
}

json user_json(const storage::user& u) {
  return {{"id", u.id},
          {"object", "user"},
          {"name", u.name},
          {"created_at", u.created_at}};
}

json key_json(const storage::api_key& k) {
  auto opt = [](const std::optional<std::int64_t>& v) {
    return v ? json(*v) : json(nullptr);
  };
  return {{"id", k.id},
          {"object", "api_key"},
          {"user_id", k.user_id},
          {"name", k.name},
          {"prefix", k.prefix},
          {"scopes", k.scopes},
          {"rate_limit_rpm", opt(k.rate_limit_rpm)},
          {"max_streams", opt(k.max_streams)},
          {"created_at", k.created_at},
          {"expires_at", opt(k.expires_at)},
          {"revoked_at", opt(k.revoked_at)},
          {"suspended_at", opt(k.suspended_at)},
          {"suspended_reason", k.suspended_at ? json(k.suspended_reason)
                                              : json(nullptr)},
          {"token_quota_daily", opt(k.token_quota_daily)}};
}

json deleted_json(const std::string& id, const char* object) {
  return {{"id", id}, {"object", object}, {"deleted", true}};
}

void send_json(api_call& call, int status, const json& body) {
  call.done->send(http::json_response(status, body.dump()));
}

void check_user_name(const std::string& name) {
  if (name.empty() || name.size() > max_name_length
      || !std::all_of(name.begin(), name.end(), [](unsigned char ch) {
           return std::isalnum(ch) || ch == '_' || ch == '-' || ch == '.'
                  || ch == '@';
         }))
    throw api::bad_param("name",
                         "'name' must be 1-64 characters of letters, digits "
                         "and _ - . @");
}

std::vector<std::string> parse_scopes(const json& body) {
  auto it = body.find("scopes");
  if (it == body.end() || it->is_null())
    return {"chat"};
  if (!it->is_array() || it->empty())
    throw api::bad_param("scopes", "'scopes' must be a non-empty array");
  std::vector<std::string> scopes;
  for (const auto& s : *it) {
    if (!s.is_string() || (s != "chat" && s != "admin"))
      throw api::bad_param("scopes", "scopes are \"chat\" and \"admin\"");
    if (std::find(scopes.begin(), scopes.end(), s.get<std::string>())
        == scopes.end())
      scopes.push_back(s.get<std::string>());
  }
  // An admin key can do everything: it always holds the chat scope too.
  if (std::find(scopes.begin(), scopes.end(), "admin") != scopes.end()
      && std::find(scopes.begin(), scopes.end(), "chat") == scopes.end())
    scopes.insert(scopes.begin(), "chat");
  return scopes;
}

// -- users --------------------------------------------------------------------

void create_user(api_call& call, store_context& db) {
  auto body = object_body(call.req.body);
  auto name = optional_string(body, "name");
  if (!name)
    throw api::bad_param("name", "'name' is required");
  check_user_name(*name);
  auto u = db.users.create(*name);
  if (!u)
    throw api::api_error(409, "user_exists",
                         "a user named '" + *name + "' already exists",
                         std::string("name"));
  send_json(call, 201, user_json(*u));
}

void list_users(api_call& call, store_context& db) {
  json data = json::array();
  for (const auto& u : db.users.list())
    data.push_back(user_json(u));
  send_json(call, 200, list_json(data));
}

void delete_user(api_call& call, store_context& db) {
  const auto& id = call.req.params.at("id");
  if (id == call.who.user_id)
    throw api::api_error(409, "cannot_delete_self",
                         "an admin cannot delete their own user");
  if (!db.users.remove(id))
    throw api::api_error(404, "user_not_found", "no user with id '" + id + "'");
  send_json(call, 200, deleted_json(id, "user.deleted"));
}

// -- keys ---------------------------------------------------------------------

void create_key(api_call& call, store_context& db) {
  auto body = object_body(call.req.body);
  storage::api_key_spec spec;
  auto user_id = optional_string(body, "user_id");
  if (!user_id)
    throw api::bad_param("user_id", "'user_id' is required");
  if (!db.users.find(*user_id))
    throw api::api_error(404, "user_not_found",
                         "no user with id '" + *user_id + "'",
                         std::string("user_id"));
  spec.user_id = *user_id;
  spec.scopes = parse_scopes(body);
  spec.name = optional_string(body, "name").value_or("");
  if (spec.name.size() > 200)
    throw api::bad_param("name", "'name' is longer than 200 characters");
  spec.rate_limit_rpm = optional_integer(body, "rate_limit_rpm", 1, max_rpm);
  spec.max_streams = optional_integer(body, "max_streams", 1,
                                      max_streams_limit);
  spec.expires_at = optional_integer(body, "expires_at", 1, max_unix_time);
  spec.token_quota_daily = optional_integer(body, "token_quota_daily", 1,
                                            max_token_quota);
  auto created = db.keys.create(spec);
  auto out = key_json(created.key);
  out["key"] = created.secret;
  send_json(call, 201, out);
}

void list_keys(api_call& call, store_context& db) {
  json data = json::array();
  for (const auto& k : db.keys.list(query_param(call.req, "user_id")))
    data.push_back(key_json(k));
  send_json(call, 200, list_json(data));
}

void revoke_key(api_call& call, store_context& db) {
  const auto& id = call.req.params.at("id");
  auto key = db.keys.find(id);
  if (!key)
    throw api::api_error(404, "key_not_found", "no API key with id '" + id + "'");
  db.keys.revoke(id);
  send_json(call, 200, key_json(*db.keys.find(id)));
}

/// Lifts an abuse suspension and closes the key's alerts.
void unsuspend_key(api_call& call, store_context& db) {
  const auto& id = call.req.params.at("id");
  if (!db.keys.find(id))
    throw api::api_error(404, "key_not_found", "no API key with id '" + id + "'");
  if (!db.keys.lift_suspension(id))
    throw api::api_error(409, "key_not_suspended",
                         "the API key '" + id + "' is not suspended");
  db.safety.lift_alerts(id);
  send_json(call, 200, key_json(*db.keys.find(id)));
}

// -- sessions of every user ---------------------------------------------------

storage::session any_session(store_context& db, const std::string& id) {
  auto s = db.sessions.find_any(id);
  if (!s)
    throw api::api_error(404, "session_not_found",
                         "no session with id '" + id + "'");
  return *s;
}

void admin_list_sessions(api_call& call, store_context& db) {
  auto page = db.sessions.list_all(query_param(call.req, "user_id"),
                                   page_limit(call.req),
                                   query_param(call.req, "before"));
  json data = json::array();
  for (const auto& s : page.items) {
    auto j = session_json(s);
    j["user_id"] = s.user_id;
    data.push_back(std::move(j));
  }
  auto out = list_json(data);
  out["has_more"] = page.has_more;
  send_json(call, 200, out);
}

void admin_show_session(api_call& call, store_context& db) {
  auto s = any_session(db, call.req.params.at("id"));
  auto out = session_with_messages_json(s, db.sessions.messages(s.id));
  out["user_id"] = s.user_id;
  send_json(call, 200, out);
}

/// One JSON object per line: the session, then each message in order.
void admin_export_session(api_call& call, store_context& db) {
  auto s = any_session(db, call.req.params.at("id"));
  auto head = session_json(s);
  head["user_id"] = s.user_id;
  std::string out = head.dump() + "\n";
  auto full = session_with_messages_json(s, db.sessions.messages(s.id));
  for (const auto& line : full["messages"])
    out += line.dump() + "\n";
  http::response r;
  r.content_type = "application/x-ndjson";
  r.body = std::move(out);
  r.headers.emplace_back("Content-Disposition",
                         "attachment; filename=\"" + s.id + ".jsonl\"");
  call.done->send(std::move(r));
}

void admin_delete_session(api_call& call, store_context& db) {
  const auto& id = call.req.params.at("id");
  if (!db.sessions.remove_any(id))
    throw api::api_error(404, "session_not_found",
                         "no session with id '" + id + "'");
  send_json(call, 200, deleted_json(id, "session.deleted"));
}

// -- workers ------------------------------------------------------------------

json worker_json(const worker_row& w) {
  return {{"id", w.id},
          {"object", "worker"},
          {"name", w.info.name},
          {"host", w.info.host},
          {"pid", w.info.pid},
          {"device", w.info.device},
          {"model_id", w.info.model_id},
          {"running", w.status.running},
          {"queued", w.status.queued},
          {"max_batch", w.status.max_batch},
          {"peak_batch", w.status.peak_batch},
          {"tokens_per_sec", w.status.tokens_per_sec},
          {"tokens_generated", w.status.tokens_generated},
          {"kv_slots_used", w.status.kv_slots_used},
          {"kv_slots_total", w.status.kv_slots_total},
          {"prefix_hits", w.status.prefix.hits},
          {"prefix_misses", w.status.prefix.misses},
          {"prefix_reused_tokens", w.status.prefix.reused_tokens},
          {"draft_tokens", w.status.drafts.proposed},
          {"draft_tokens_accepted", w.status.drafts.accepted},
          {"status", w.state}};
}

/// Asks the pool from a short-lived actor: handlers must not block.
void list_workers(const gateway_deps& deps, api_call& call, store_context&) {
  deps.system->spawn([pool = deps.pool, done = call.done](
                       caf::event_based_actor* self) {
    self->request(pool, workers_timeout, atom::status::value)
      .then(
        [done](std::vector<worker_row>& rows) {
          std::sort(rows.begin(), rows.end(),
                    [](const auto& a, const auto& b) { return a.id < b.id; });
          json data = json::array();
          for (const auto& w : rows)
            data.push_back(worker_json(w));
          done->send(http::json_response(200, list_json(data).dump()));
        },
        [done](caf::error&) {
          done->send(http::error_response(503, "pool_unavailable",
                                          "the worker pool did not answer"));
        });
  });
}

} // namespace

void add_admin_routes(route_table& table) {
  using http::access;
  const auto& deps = table.deps();
  table.add("POST", "/admin/users", access::admin, create_user);
  table.add("GET", "/admin/users", access::admin, list_users);
  table.add("DELETE", "/admin/users/{id}", access::admin, delete_user);
  table.add("POST", "/admin/keys", access::admin, create_key);
  table.add("GET", "/admin/keys", access::admin, list_keys);
  table.add("DELETE", "/admin/keys/{id}", access::admin, revoke_key);
  table.add("POST", "/admin/keys/{id}/unsuspend", access::admin,
            unsuspend_key);
  table.add("GET", "/admin/sessions", access::admin, admin_list_sessions);
  table.add("GET", "/admin/sessions/{id}", access::admin, admin_show_session);
  table.add("GET", "/admin/sessions/{id}/export", access::admin,
            admin_export_session);
  table.add("DELETE", "/admin/sessions/{id}", access::admin,
            admin_delete_session);
  table.add("GET", "/admin/workers", access::admin,
            [deps](api_call& call, store_context& db) {
              list_workers(deps, call, db);
            });
}

} // namespace chat
