#include "tools/chatctl/sse_parser.hpp"

namespace chat::cli {

sse_parser::sse_parser(std::function<void(const sse_event&)> on_event)
  : on_event_(std::move(on_event)) {}

void sse_parser::feed(const std::string& bytes) {
  buffer_ += bytes;
  std::size_t start = 0;
  for (auto end = buffer_.find('\n'); end != std::string::npos;
       end = buffer_.find('\n', start)) {
    line(buffer_.substr(start, end - start));
    start = end + 1;
  }
  buffer_.erase(0, start);
}

void sse_parser::line(std::string text) {
  if (!text.empty() && text.back() == '\r')
    text.pop_back();
  if (text.empty()) {
    // A blank line ends the event; one without data is not dispatched.
    if (has_data_)
      on_event_(event_);
    event_ = {};
    has_data_ = false;
    return;
  }
  if (text[0] == ':')
    return;
  auto colon = text.find(':');
  auto field = text.substr(0, colon);
  std::string value;
  if (colon != std::string::npos) {
    value = text.substr(colon + 1);
    if (!value.empty() && value[0] == ' ')
      value.erase(0, 1);
  }
  if (field == "event") {
    event_.name = value;
  } else if (field == "data") {
    event_.data += (has_data_ ? "\n" : "") + value;
    has_data_ = true;
  }
}

} // namespace chat::cli
