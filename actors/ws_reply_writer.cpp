#include "actors/ws_reply_writer.hpp"

#include <nlohmann/json.hpp>

namespace chat {

namespace {

using json = nlohmann::json;

class ws_writer final : public reply_writer {
public:
  ws_writer(std::shared_ptr<http::ws_connection> conn, std::string chat_id)
    : conn_(std::move(conn)), id_(std::move(chat_id)) {
  }

  void text(const std::string& piece) override {
    if (!piece.empty())
      conn_->send(json{{"type", "token"}, {"id", id_}, {"text", piece}}.dump());
  }

  void end(const std::string& finish_reason, usage_counts usage) override {
    conn_->send(json{{"type", "done"},
                     {"id", id_},
                     {"finish_reason", finish_reason},
                     {"usage",
                      {{"prompt_tokens", usage.prompt_tokens},
                       {"completion_tokens", usage.completion_tokens},
                       {"total_tokens",
                        usage.prompt_tokens + usage.completion_tokens}}}}
                  .dump());
  }

  void fail(const api::api_error& error) override {
    conn_->send(ws_error_frame(id_, error));
  }

private:
  std::shared_ptr<http::ws_connection> conn_;
  std::string id_;
};

} // namespace

reply_writer_ptr make_ws_writer(std::shared_ptr<http::ws_connection> conn,
                                std::string chat_id) {
  return std::make_shared<ws_writer>(std::move(conn), std::move(chat_id));
}

std::string ws_error_frame(const std::string& chat_id,
                           const api::api_error& error) {
  auto body = json::parse(error.to_response().body);
  json frame = {{"type", "error"}, {"error", body["error"]}};
  if (!chat_id.empty())
    frame["id"] = chat_id;
  return frame.dump();
}

} // namespace chat
