#include "actors/routes/routes.hpp"

#include "actors/http_reply_writers.hpp"
#include "actors/routes/start_generation.hpp"
#include "storage/ids.hpp"

#include <caf/send.hpp>
#include <nlohmann/json.hpp>

namespace chat {

namespace {

using json = nlohmann::json;

void wire_cancel(const http::responder_ptr& done, caf::actor generation) {
  done->on_close([generation] {
    caf::anon_send(generation, atom::cancel::value);
  });
}

void chat_completions(const gateway_deps& deps, api_call& call,
                      store_context& db) {
  auto req = api::parse_chat_completion(api::parse_body(call.req.body));
  std::vector<std::string> texts;
  for (const auto& m : req.messages)
    texts.push_back(m.content);
  admit_reply(deps, db, call.who, texts);
  auto model = resolve_model(deps, req.model);
  std::vector<tokenizer::chat_message> messages;
  std::optional<storage::exchange> exchange;
  std::string session_id;
  if (req.session_id) {
    auto session = db.sessions.find(call.who.user_id, *req.session_id);
    if (!session)
      throw api::api_error(404, "session_not_found",
                           "no session with id '" + *req.session_id + "'",
                           std::string("session_id"));
    if (req.messages.empty()
        || req.messages.back().role != tokenizer::chat_role::user)
      throw api::bad_param("messages",
                           "with session_id the last message must be the "
                           "new user message");
    session_id = session->id;
    if (!session->system_prompt.empty())
      messages.push_back({tokenizer::chat_role::system,
                          session->system_prompt});
    for (auto& m : db.sessions.messages(session->id))
      messages.push_back({*tokenizer::parse_role(m.role),
                          std::move(m.content)});
    const auto& content = req.messages.back().content;
    exchange = storage::new_exchange(content,
                                     message_tokens(*model, content));
  }
  messages.insert(messages.end(), req.messages.begin(), req.messages.end());
  auto prompt = build_chat_prompt(*model, messages, req.options.max_tokens,
                                  deps.limits);
  reply_meta meta{"chatcmpl-" + storage::new_id("c").substr(2), model->id,
                  unix_now(), session_id,
                  exchange ? exchange->reply_message_id : ""};
  auto writer = make_openai_writer(call.done, meta, openai_kind::chat,
                                   req.options.stream,
                                   req.options.include_usage);
  auto actor = start_generation(deps, call.who,
                                {std::move(prompt), req.options, model, writer,
                                 std::move(exchange), session_id, {}});
  wire_cancel(call.done, actor);
}

void completions(const gateway_deps& deps, api_call& call,
                 store_context& db) {
  auto req = api::parse_completion(api::parse_body(call.req.body));
  admit_reply(deps, db, call.who, {req.prompt});
  auto model = resolve_model(deps, req.model);
  auto prompt = build_text_prompt(*model, req.prompt, req.options.max_tokens,
                                  deps.limits);
  reply_meta meta{"cmpl-" + storage::new_id("c").substr(2), model->id,
                  unix_now(), "", ""};
  auto writer = make_openai_writer(call.done, meta, openai_kind::text,
                                   req.options.stream,
                                   req.options.include_usage);
  auto actor = start_generation(deps, call.who,
                                {std::move(prompt), req.options, model, writer,
                                 std::nullopt, "", {}});
  wire_cancel(call.done, actor);
}

void list_models(const gateway_deps& deps, api_call& call, store_context&) {
  json data = json::array();
  auto model = deps.model->get();
  std::vector<std::string> ids;
  if (model) {
    ids.push_back(model->id);
    if (model->id != "default")
      ids.push_back("default");
  }
  for (const auto& id : ids)
    data.push_back({{"id", id},
                    {"object", "model"},
                    {"created", model->created_at},
                    {"owned_by", "chatd"}});
  call.done->send(http::json_response(
    200, json{{"object", "list"}, {"data", data}}.dump()));
}

} // namespace

void add_openai_routes(route_table& table) {
  const auto& deps = table.deps();
  table.add("GET", "/v1/models", http::access::chat,
            [deps](api_call& call, store_context& db) {
              list_models(deps, call, db);
            });
  table.add("POST", "/v1/chat/completions", http::access::chat,
            [deps](api_call& call, store_context& db) {
              chat_completions(deps, call, db);
            });
  table.add("POST", "/v1/completions", http::access::chat,
            [deps](api_call& call, store_context& db) {
              completions(deps, call, db);
            });
}

} // namespace chat
