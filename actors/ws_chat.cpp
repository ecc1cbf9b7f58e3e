#include "actors/ws_chat.hpp"

#include "actors/api/ws_frame.hpp"
#include "actors/routes/start_generation.hpp"
#include "actors/ws_reply_writer.hpp"
#include "storage/database.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <set>

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::principal)

namespace chat {

namespace {

using json = nlohmann::json;
using frame_atom = caf::atom_constant<caf::atom("frame")>;
using closed_atom = caf::atom_constant<caf::atom("closed")>;
using authed_atom = caf::atom_constant<caf::atom("authed")>;
using started_atom = caf::atom_constant<caf::atom("started")>;
using ended_atom = caf::atom_constant<caf::atom("ended")>;

/// Close code for a failed authentication (API.md).
constexpr std::uint16_t close_unauthenticated = 4401;
/// Close code for a key past limits.max_sockets_per_key (4000 + the HTTP
/// status, as 4401).
constexpr std::uint16_t close_too_many_sockets = 4429;
/// Chats one socket may run at once.
constexpr size_t max_chats_per_socket = 16;

struct ws_state {
  gateway_deps deps;
  std::shared_ptr<http::ws_connection> conn;
  std::string key;
  std::string address;
  std::optional<principal> who;
  bool authenticating = false;
  bool closed = false;
  std::map<std::string, caf::actor> running;
  std::set<std::string> starting;
  std::set<std::string> cancel_when_started;
  /// Frames that arrived while the key was being checked, in order.
  std::vector<std::string> held_frames;
};

void send_error(ws_state& st, const std::string& id, int status,
                const std::string& code, const std::string& message) {
  st.conn->send(ws_error_frame(id, api::api_error(status, code, message)));
}

/// Checks the key in the store and tells the actor.
/// An address that failed too often is refused before the key is looked at.
void authenticate_async(caf::event_based_actor* self, ws_state& st) {
  st.authenticating = true;
  auto me = caf::actor_cast<caf::actor>(self);
  if (st.deps.safety->auth_throttled(st.address)) {
    caf::anon_send(me, authed_atom::value, 429,
                   std::string("too_many_auth_failures"),
                   std::string("too many failed authentications from this "
                               "address; retry later"));
    return;
  }
  run_in_store(st.deps.store, [me, key = st.key, address = st.address,
                               safety = st.deps.safety](store_context& db) {
    auto result = authenticate(db.keys, key, storage::now_seconds());
    if (result.who)
      return caf::anon_send(me, authed_atom::value, *result.who);
    if (result.failure != auth_failure::missing)
      safety->auth_failed(address);
    auto [code, message] = describe(result.failure);
    caf::anon_send(me, authed_atom::value, status_of(result.failure), code,
                   message);
  });
}

/// Runs on the store thread: re-checks the key (a revoked key stops new
/// chats at once), loads or creates the session and starts the generation.
void start_chat(store_context& db, const gateway_deps& deps, caf::actor me,
                std::shared_ptr<http::ws_connection> conn,
                const std::string& key, const std::string& id,
                std::optional<std::string> session_id,
                const std::string& message,
                const api::generation_options& options) {
  try {
    auto auth = authenticate(db.keys, key, storage::now_seconds());
    if (!auth.who) {
      auto [code, text] = describe(auth.failure);
      conn->send(ws_error_frame(
        id, api::api_error(status_of(auth.failure), code, text)));
      conn->close(close_unauthenticated, "unauthenticated");
      caf::anon_send(me, ended_atom::value, id);
      return;
    }
    const auto& who = *auth.who;
    if (auto wait = deps.limiter->admit_request(who)) {
      deps.safety->rate_limited(db, who);
      api::api_error e(429, "rate_limited",
                       "rate limit exceeded for this API key");
      e.retry_after = *wait;
      throw e;
    }
    admit_reply(deps, db, who, {message});
    auto model = resolve_model(deps, std::nullopt);
    auto s = session_id ? db.sessions.find(who.user_id, *session_id)
                        : db.sessions.create(who.user_id, "", "");
    if (!s)
      throw api::api_error(404, "session_not_found",
                           "no session with id '" + *session_id + "'",
                           std::string("session_id"));
    std::vector<tokenizer::chat_message> messages;
    if (!s->system_prompt.empty())
      messages.push_back({tokenizer::chat_role::system, s->system_prompt});
    for (auto& m : db.sessions.messages(s->id))
      messages.push_back({*tokenizer::parse_role(m.role),
                          std::move(m.content)});
    messages.push_back({tokenizer::chat_role::user, message});
    auto prompt
      = build_chat_prompt(*model, messages, options.max_tokens, deps.limits);
    auto ex = storage::new_exchange(message, message_tokens(*model, message));
    conn->send(json{{"type", "start"},
                    {"id", id},
                    {"session_id", s->id},
                    {"message_id", ex.reply_message_id}}
                 .dump());
    reply_plan plan{std::move(prompt), options, model, make_ws_writer(conn, id),
                    std::move(ex), s->id,
                    [me, id] { caf::anon_send(me, ended_atom::value, id); }};
    auto actor = start_generation(deps, who, std::move(plan));
    caf::anon_send(me, started_atom::value, id, actor);
  } catch (const api::api_error& e) {
    conn->send(ws_error_frame(id, e));
    caf::anon_send(me, ended_atom::value, id);
  } catch (const std::exception&) {
    conn->send(ws_error_frame(
      id, api::api_error(500, "internal_error", "internal error")));
    caf::anon_send(me, ended_atom::value, id);
  }
}

void on_chat_frame(caf::event_based_actor* self, ws_state& st,
                   const json& frame) {
  auto id_it = frame.find("id");
  if (id_it == frame.end() || !id_it->is_string() || id_it->empty())
    return send_error(st, "", 400, "invalid_frame",
                      "a chat frame needs a string 'id'");
  auto id = id_it->get<std::string>();
  if (st.running.count(id) || st.starting.count(id))
    return send_error(st, id, 409, "duplicate_id",
                      "a chat with this id is already running");
  if (st.running.size() + st.starting.size() >= max_chats_per_socket)
    return send_error(st, id, 429, "too_many_chats",
                      "too many chats running on this socket");
  api::ws_chat_fields fields;
  try {
    fields = api::parse_ws_chat_fields(frame);
  } catch (const api::api_error& e) {
    return st.conn->send(ws_error_frame(id, e));
  }
  st.starting.insert(id);
  auto me = caf::actor_cast<caf::actor>(self);
  run_in_store(st.deps.store, [deps = st.deps, me, conn = st.conn,
                               key = st.key, id,
                               fields = std::move(fields)](store_context& db) {
    start_chat(db, deps, me, conn, key, id, fields.session_id, fields.message,
               fields.options);
  });
}

void on_frame(caf::event_based_actor* self, ws_state& st,
              const std::string& text) {
  if (st.authenticating) {
    st.held_frames.push_back(text);
    return;
  }
  json frame;
  try {
    frame = api::parse_ws_frame(text);
  } catch (const api::api_error& e) {
    return st.conn->send(ws_error_frame("", e));
  }
  auto type = frame["type"].get<std::string>();
  if (!st.who) {
    if (type == "auth" && !st.authenticating) {
      auto key = frame.find("api_key");
      st.key = key != frame.end() && key->is_string() ? key->get<std::string>()
                                                      : "";
      return authenticate_async(self, st);
    }
    return send_error(st, "", 401, "unauthenticated",
                      "authenticate first with {\"type\":\"auth\"}");
  }
  if (type == "ping")
    return st.conn->send(R"({"type":"pong"})");
  if (type == "chat")
    return on_chat_frame(self, st, frame);
  if (type == "cancel") {
    auto id = frame.value("id", json()).is_string()
                ? frame["id"].get<std::string>()
                : std::string();
    if (auto it = st.running.find(id); it != st.running.end())
      caf::anon_send(it->second, atom::cancel::value);
    else if (st.starting.count(id))
      st.cancel_when_started.insert(id);
    else
      send_error(st, id, 404, "chat_not_found", "no running chat has this id");
    return;
  }
  if (type == "auth")
    return send_error(st, "", 400, "already_authenticated",
                      "this socket is already authenticated");
  send_error(st, "", 400, "unknown_type", "unknown frame type '" + type + "'");
}

} // namespace

caf::behavior ws_chat(caf::event_based_actor* self, gateway_deps deps,
                      std::shared_ptr<http::ws_connection> conn,
                      std::string header_key, std::string address) {
  auto st = std::make_shared<ws_state>();
  st->deps = std::move(deps);
  st->conn = std::move(conn);
  st->address = std::move(address);
  if (!header_key.empty()) {
    st->key = std::move(header_key);
    authenticate_async(self, *st);
  }
  return {
    [self, st](frame_atom, std::string& text) { on_frame(self, *st, text); },
    [self, st](authed_atom, principal& who) {
      st->authenticating = false;
      if (!st->deps.limiter->open_socket(who)) {
        st->held_frames.clear();
        st->conn->send(ws_error_frame(
          "", api::api_error(429, "too_many_connections",
                             "this API key already holds its maximum of "
                             "WebSocket connections; close one first")));
        st->conn->close(close_too_many_sockets, "too many connections");
        return;
      }
      self->attach_functor([limiter = st->deps.limiter, key = who.key_id] {
        limiter->close_socket(key);
      });
      st->who = who;
      st->conn->send(json{{"type", "ready"}, {"user_id", who.user_id}}.dump());
      auto held = std::move(st->held_frames);
      for (const auto& text : held)
        on_frame(self, *st, text);
    },
    [st](authed_atom, int status, std::string& code, std::string& message) {
      st->authenticating = false;
      st->held_frames.clear();
      st->conn->send(ws_error_frame("", api::api_error(status, code, message)));
      st->conn->close(close_unauthenticated, "unauthenticated");
    },
    [st](started_atom, std::string& id, caf::actor& generation) {
      st->starting.erase(id);
      st->running[id] = generation;
      if (st->cancel_when_started.erase(id) || st->closed)
        caf::anon_send(generation, atom::cancel::value);
    },
    [self, st](ended_atom, std::string& id) {
      st->starting.erase(id);
      st->running.erase(id);
      st->cancel_when_started.erase(id);
      if (st->closed && st->running.empty() && st->starting.empty())
        self->quit();
    },
    [self, st](closed_atom) {
      st->closed = true;
      for (auto& [id, generation] : st->running)
        caf::anon_send(generation, atom::cancel::value);
      if (st->running.empty() && st->starting.empty())
        self->quit();
    },
  };
}

http::websocket_routes make_websocket_routes(const gateway_deps& deps) {
  http::websocket_routes routes;
  routes.paths = {"/v1/ws", "/ws"};
  routes.accept = [deps](http::request& req,
                         std::shared_ptr<http::ws_connection> conn) {
    auto actor = deps.system->spawn(ws_chat, deps, conn, presented_key(req),
                                    req.remote_address);
    http::ws_callbacks callbacks;
    callbacks.on_message = [actor](std::string text) {
      caf::anon_send(actor, frame_atom::value, std::move(text));
    };
    callbacks.on_close = [actor] { caf::anon_send(actor, closed_atom::value); };
    return callbacks;
  };
  return routes;
}

} // namespace chat
