#include "actors/http_reply_writers.hpp"

#include <nlohmann/json.hpp>

namespace chat {

namespace {

using json = nlohmann::json;

json usage_json(usage_counts u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens}};
}

std::string sse_data(const json& j) {
  return "data: " + j.dump() + "\n\n";
}

std::string sse_event(const char* event, const json& j) {
  return std::string("event: ") + event + "\ndata: " + j.dump() + "\n\n";
}

http::header_list session_headers(const reply_meta& meta) {
  http::header_list h;
  if (!meta.session_id.empty())
    h.emplace_back("X-Session-ID", meta.session_id);
  return h;
}

/// Shared by the streaming writers: the HTTP stream starts with the first
/// output, so failures before it still get a proper status code.
class streaming_base : public reply_writer {
protected:
  streaming_base(http::responder_ptr done, reply_meta meta,
                 std::string content_type)
    : done_(std::move(done)), meta_(std::move(meta)),
      content_type_(std::move(content_type)) {
  }

  /// Opens the stream (once) without writing.
  void start() {
    if (!started_) {
      started_ = true;
      done_->start_stream(content_type_, session_headers(meta_));
    }
  }

  void write(std::string data) {
    start();
    done_->write(std::move(data));
  }

  void fail_before_start(const api::api_error& error) {
    done_->send(error.to_response());
  }

  http::responder_ptr done_;
  reply_meta meta_;
  std::string content_type_;
  bool started_ = false;
};

class openai_stream_writer final : public streaming_base {
public:
  openai_stream_writer(http::responder_ptr done, reply_meta meta,
                       openai_kind kind, bool include_usage)
    : streaming_base(std::move(done), std::move(meta), "text/event-stream"),
      kind_(kind), include_usage_(include_usage) {
  }

  void text(const std::string& piece) override {
    if (piece.empty())
      return;
    emit_role();
    write(sse_data(chunk(piece, nullptr)));
  }

  void end(const std::string& finish_reason, usage_counts usage) override {
    emit_role();
    write(sse_data(chunk("", finish_reason.c_str())));
    if (include_usage_) {
      auto u = chunk_base();
      u["choices"] = json::array();
      u["usage"] = usage_json(usage);
      write(sse_data(u));
    }
    write("data: [DONE]\n\n");
    done_->finish();
  }

  void fail(const api::api_error& error) override {
    if (!started_)
      return fail_before_start(error);
    write(sse_data(json::parse(error.to_response().body)));
    write("data: [DONE]\n\n");
    done_->finish();
  }

private:
  json chunk_base() const {
    json c = {{"id", meta_.response_id},
              {"object", kind_ == openai_kind::chat ? "chat.completion.chunk"
                                                    : "text_completion"},
              {"created", meta_.created},
              {"model", meta_.model_id}};
    if (include_usage_)
      c["usage"] = nullptr;
    return c;
  }

  json chunk(const std::string& piece, const char* finish_reason) const {
    json choice = {{"index", 0},
                   {"finish_reason", finish_reason ? json(finish_reason)
                                                   : json(nullptr)}};
    if (kind_ == openai_kind::chat) {
      choice["delta"] = finish_reason ? json::object()
                                      : json{{"content", piece}};
    } else {
      choice["text"] = piece;
      choice["logprobs"] = nullptr;
    }
    auto c = chunk_base();
    c["choices"] = json::array({choice});
    return c;
  }

  /// The first chat chunk carries the role (OpenAI clients expect it).
  void emit_role() {
    if (role_sent_ || kind_ != openai_kind::chat)
      return;
    role_sent_ = true;
    auto c = chunk_base();
    c["choices"] = json::array(
      {{{"index", 0},
        {"delta", {{"role", "assistant"}, {"content", ""}}},
        {"finish_reason", nullptr}}});
    write(sse_data(c));
  }

  openai_kind kind_;
  bool include_usage_;
  bool role_sent_ = false;
};

/// Shared by the one-answer writers: collect the text, answer once.
class json_reply_base : public reply_writer {
public:
  void text(const std::string& piece) override {
    text_ += piece;
  }

  void fail(const api::api_error& error) override {
    done_->send(error.to_response());
  }

protected:
  json_reply_base(http::responder_ptr done, reply_meta meta)
    : done_(std::move(done)), meta_(std::move(meta)) {
  }

  void answer(const json& body) {
    auto r = http::json_response(200, body.dump());
    r.headers = session_headers(meta_);
    done_->send(std::move(r));
  }

  http::responder_ptr done_;
  reply_meta meta_;
  std::string text_;
};

class openai_json_writer final : public json_reply_base {
public:
  openai_json_writer(http::responder_ptr done, reply_meta meta,
                     openai_kind kind)
    : json_reply_base(std::move(done), std::move(meta)), kind_(kind) {
  }

  void end(const std::string& finish_reason, usage_counts usage) override {
    json choice = {{"index", 0}, {"finish_reason", finish_reason}};
    if (kind_ == openai_kind::chat)
      choice["message"] = {{"role", "assistant"}, {"content", text_}};
    else
      choice["text"] = text_, choice["logprobs"] = nullptr;
    json body = {{"id", meta_.response_id},
                 {"object", kind_ == openai_kind::chat ? "chat.completion"
                                                       : "text_completion"},
                 {"created", meta_.created},
                 {"model", meta_.model_id},
                 {"choices", json::array({choice})},
                 {"usage", usage_json(usage)}};
    answer(body);
  }

private:
  openai_kind kind_;
};

class session_stream_writer final : public streaming_base {
public:
  session_stream_writer(http::responder_ptr done, reply_meta meta)
    : streaming_base(std::move(done), std::move(meta), "text/event-stream") {
  }

  void text(const std::string& piece) override {
    if (!piece.empty())
      write(sse_event("token", {{"text", piece}}));
  }

  void end(const std::string& finish_reason, usage_counts usage) override {
    write(sse_event("done", {{"message_id", meta_.message_id},
                             {"finish_reason", finish_reason},
                             {"usage", usage_json(usage)}}));
    done_->finish();
  }

  void fail(const api::api_error& error) override {
    if (!started_)
      return fail_before_start(error);
    write(sse_event("error", json::parse(error.to_response().body)));
    done_->finish();
  }
};

class session_json_writer final : public json_reply_base {
public:
  session_json_writer(http::responder_ptr done, reply_meta meta)
    : json_reply_base(std::move(done), std::move(meta)) {
  }

  void end(const std::string& finish_reason, usage_counts usage) override {
    json body = {{"id", meta_.message_id},
                 {"session_id", meta_.session_id},
                 {"role", "assistant"},
                 {"content", text_},
                 {"created_at", meta_.created},
                 {"tokens", usage.completion_tokens},
                 {"finish_reason", finish_reason},
                 {"usage", usage_json(usage)}};
    answer(body);
  }
};

class plain_text_writer final : public streaming_base {
public:
  plain_text_writer(http::responder_ptr done, reply_meta meta)
    : streaming_base(std::move(done), std::move(meta),
                     "text/plain; charset=utf-8") {
  }

  void text(const std::string& piece) override {
    if (!piece.empty())
      write(piece);
  }

  void end(const std::string&, usage_counts) override {
    start();
    done_->finish();
  }

  void fail(const api::api_error& error) override {
    if (!started_)
      return fail_before_start(error);
    // Mid-stream the status is gone; end the text so the client sees why.
    write(std::string("\n[error: ") + error.what() + "]\n");
    done_->finish();
  }
};

} // namespace

reply_writer_ptr make_openai_writer(http::responder_ptr done, reply_meta meta,
                                    openai_kind kind, bool stream,
                                    bool include_usage) {
  if (stream)
    return std::make_shared<openai_stream_writer>(std::move(done),
                                                  std::move(meta), kind,
                                                  include_usage);
  return std::make_shared<openai_json_writer>(std::move(done), std::move(meta),
                                              kind);
}

reply_writer_ptr make_session_writer(http::responder_ptr done, reply_meta meta,
                                     bool stream) {
  if (stream)
    return std::make_shared<session_stream_writer>(std::move(done),
                                                   std::move(meta));
  return std::make_shared<session_json_writer>(std::move(done),
                                               std::move(meta));
}

reply_writer_ptr make_plain_text_writer(http::responder_ptr done,
                                        reply_meta meta) {
  return std::make_shared<plain_text_writer>(std::move(done), std::move(meta));
}

} // namespace chat
