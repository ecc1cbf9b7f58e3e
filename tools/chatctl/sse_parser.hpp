#pragma once

#include <functional>
#include <string>

namespace chat::cli {

/// One server-sent event: its `event:` name ("" when unnamed) and its
/// `data:` lines joined by newlines.
struct sse_event {
  std::string name;
  std::string data;
};

/// Splits an SSE byte stream, fed in arbitrary pieces, into events
/// (WHATWG rules: LF or CRLF line ends, `:` comments, an optional space
/// after the colon, several `data:` lines per event).
class sse_parser {
public:
  explicit sse_parser(std::function<void(const sse_event&)> on_event);

  void feed(const std::string& bytes);

private:
  void line(std::string text);

  std::function<void(const sse_event&)> on_event_;
  std::string buffer_;
  sse_event event_;
  bool has_data_ = false;
};

} // namespace chat::cli
