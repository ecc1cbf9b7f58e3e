#pragma once

#include "http/router.hpp"
#include "http/websocket.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace chat::test {

/// Records what a reply writer does to its HTTP responder, in order.
class fake_responder : public http::responder {
public:
  /// "send", "start_stream", "write", "finish" in call order.
  std::vector<std::string> calls;
  std::optional<http::response> sent;
  std::string content_type;
  http::header_list stream_headers;
  std::vector<std::string> writes;

  void send(http::response r) override {
    calls.push_back("send");
    sent = std::move(r);
  }
  void start_stream(std::string type, http::header_list headers) override {
    calls.push_back("start_stream");
    content_type = std::move(type);
    stream_headers = std::move(headers);
  }
  void write(std::string data) override {
    calls.push_back("write");
    writes.push_back(std::move(data));
  }
  void finish() override {
    calls.push_back("finish");
  }
  void on_close(std::function<void()> callback) override {
    close_callbacks.push_back(std::move(callback));
  }

  std::vector<std::function<void()>> close_callbacks;

  /// Everything written, concatenated.
  std::string body() const {
    std::string out;
    for (const auto& w : writes)
      out += w;
    return out;
  }
};

/// Records the frames a writer sends on a WebSocket.
class fake_ws_connection : public http::ws_connection {
public:
  std::vector<std::string> frames;
  std::vector<std::pair<std::uint16_t, std::string>> closes;

  void send(std::string text) override {
    frames.push_back(std::move(text));
  }
  void close(std::uint16_t code, std::string reason) override {
    closes.emplace_back(code, std::move(reason));
  }
};

/// The value of header `name` in `headers`, if present.
inline std::optional<std::string> find_header(const http::header_list& headers,
                                              const std::string& name) {
  for (const auto& [k, v] : headers)
    if (k == name)
      return v;
  return std::nullopt;
}

} // namespace chat::test
