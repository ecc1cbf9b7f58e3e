#include "actors/routes/routes.hpp"

#include "actors/http_reply_writers.hpp"
#include "actors/routes/request_fields.hpp"
#include "actors/routes/session_json.hpp"
#include "actors/routes/start_generation.hpp"

#include <caf/send.hpp>
#include <nlohmann/json.hpp>

namespace chat {

namespace {

using json = nlohmann::json;

storage::session require_session(store_context& db, const principal& who,
                                 const std::string& id) {
  auto s = db.sessions.find(who.user_id, id);
  if (!s)
    throw api::api_error(404, "session_not_found",
                         "no session with id '" + id + "'");
  return *s;
}

/// History of `s` as chat messages (system prompt first), then `content`.
std::vector<tokenizer::chat_message>
conversation(store_context& db, const storage::session& s,
             const std::string& content) {
  std::vector<tokenizer::chat_message> out;
  if (!s.system_prompt.empty())
    out.push_back({tokenizer::chat_role::system, s.system_prompt});
  for (auto& m : db.sessions.messages(s.id))
    out.push_back({*tokenizer::parse_role(m.role), std::move(m.content)});
  out.push_back({tokenizer::chat_role::user, content});
  return out;
}

/// Starts a reply in session `s` to `content`; `make_writer` picks the
/// format.
void reply_in_session(
  const gateway_deps& deps, api_call& call, store_context& db,
  const storage::session& s, const std::string& content,
  const api::generation_options& options,
  const std::function<reply_writer_ptr(const reply_meta&)>& make_writer) {
  auto model = resolve_model(deps, std::nullopt);
  auto prompt = build_chat_prompt(*model, conversation(db, s, content),
                                  options.max_tokens, deps.limits);
  auto ex = storage::new_exchange(content, message_tokens(*model, content));
  reply_meta meta{ex.reply_message_id, model->id, unix_now(), s.id,
                  ex.reply_message_id};
  auto actor = start_generation(deps, call.who,
                                {std::move(prompt), options, model,
                                 make_writer(meta), std::move(ex), s.id, {}});
  call.done->on_close([actor] {
    caf::anon_send(actor, atom::cancel::value);
  });
}

void create_session(const gateway_deps& deps, api_call& call,
                    store_context& db) {
  auto body = object_body(call.req.body);
  auto title = optional_string(body, "title").value_or("");
  auto system = optional_string(body, "system_prompt").value_or("");
  check_message_size(deps.limits, system, "system_prompt");
  auto s = db.sessions.create(call.who.user_id, title, system);
  call.done->send(http::json_response(201, session_json(s).dump()));
}

void list_sessions(api_call& call, store_context& db) {
  int limit = page_limit(call.req);
  auto page = db.sessions.list(call.who.user_id, limit,
                               query_param(call.req, "before"));
  json data = json::array();
  for (const auto& s : page.items)
    data.push_back(session_json(s));
  call.done->send(http::json_response(
    200,
    json{{"object", "list"}, {"data", data}, {"has_more", page.has_more}}
      .dump()));
}

void show_session(api_call& call, store_context& db) {
  auto s = require_session(db, call.who, call.req.params.at("id"));
  call.done->send(http::json_response(
    200, session_with_messages_json(s, db.sessions.messages(s.id)).dump()));
}

void update_session(const gateway_deps& deps, api_call& call,
                    store_context& db) {
  auto body = object_body(call.req.body);
  auto title = optional_string(body, "title");
  auto system = optional_string(body, "system_prompt");
  if (system)
    check_message_size(deps.limits, *system, "system_prompt");
  auto s = db.sessions.update(call.who.user_id, call.req.params.at("id"),
                              title, system);
  if (!s)
    throw api::api_error(404, "session_not_found",
                         "no session with id '" + call.req.params.at("id")
                           + "'");
  call.done->send(http::json_response(200, session_json(*s).dump()));
}

void delete_session(api_call& call, store_context& db) {
  const auto& id = call.req.params.at("id");
  if (!db.sessions.remove(call.who.user_id, id))
    throw api::api_error(404, "session_not_found",
                         "no session with id '" + id + "'");
  call.done->send(http::json_response(
    200,
    json{{"id", id}, {"object", "session.deleted"}, {"deleted", true}}.dump()));
}

void post_message(const gateway_deps& deps, api_call& call,
                  store_context& db) {
  auto req = api::parse_session_message(api::parse_body(call.req.body));
  auto s = require_session(db, call.who, call.req.params.at("id"));
  admit_reply(deps, db, call.who, {req.content});
  reply_in_session(deps, call, db, s, req.content, req.options,
                   [&](const reply_meta& meta) {
                     return make_session_writer(call.done, meta,
                                                req.options.stream);
                   });
}

/// The simple form of the original design: text in, streamed text out.
void simple_chat(const gateway_deps& deps, api_call& call, store_context& db) {
  auto body = object_body(call.req.body);
  auto message = optional_string(body, "message");
  if (!message || message->empty())
    throw api::bad_param("message", "'message' is required");
  auto session_id = optional_string(body, "session_id");
  admit_reply(deps, db, call.who, {*message});
  auto s = session_id ? require_session(db, call.who, *session_id)
                      : db.sessions.create(call.who.user_id, "", "");
  api::generation_options options;
  reply_in_session(deps, call, db, s, *message, options,
                   [&](const reply_meta& meta) {
                     return make_plain_text_writer(call.done, meta);
                   });
}

} // namespace

void add_session_routes(route_table& table) {
  const auto& deps = table.deps();
  using http::access;
  table.add("POST", "/api/sessions", access::chat,
            [deps](api_call& call, store_context& db) {
              create_session(deps, call, db);
            });
  table.add("GET", "/api/sessions", access::chat, list_sessions);
  table.add("GET", "/api/sessions/{id}", access::chat, show_session);
  table.add("PATCH", "/api/sessions/{id}", access::chat,
            [deps](api_call& call, store_context& db) {
              update_session(deps, call, db);
            });
  table.add("DELETE", "/api/sessions/{id}", access::chat, delete_session);
  table.add("POST", "/api/sessions/{id}/messages", access::chat,
            [deps](api_call& call, store_context& db) {
              post_message(deps, call, db);
            });
  table.add("POST", "/chat", access::chat,
            [deps](api_call& call, store_context& db) {
              simple_chat(deps, call, db);
            });
}

} // namespace chat
