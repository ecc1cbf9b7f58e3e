#pragma once

#include "model/tokenizer/chat_template.hpp"

#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace chat::tokenizer {

/// A defect in chat data, with where it is: "<source>:<line>: <reason>".
class chat_data_error : public std::runtime_error {
 public:
  chat_data_error(std::string source, size_t line, std::string reason);
  /// The file or upload name given to the reader.
  const std::string& source() const { return source_; }
  /// 1-based line number.
  size_t line() const { return line_; }
  /// What is wrong, without the location.
  const std::string& reason() const { return reason_; }

 private:
  std::string source_;
  size_t line_;
  std::string reason_;
};

/// Parses one line of chat JSONL:
/// {"messages":[{"role":"system|user|assistant","content":"..."}, ...]}.
/// No other fields; a system message only first; at least one assistant
/// message. Throws std::invalid_argument with the reason.
std::vector<chat_message> parse_chat_line(std::string_view line);

/// Called with each valid conversation.
using conversation_handler = std::function<void(std::vector<chat_message>&&)>;

/// Validates chat JSONL fed in chunks of any size (a file, an upload
/// body), one line at a time. The first defect throws chat_data_error;
/// the reader is then spent.
class chat_jsonl_reader {
 public:
  /// `source` names the data in errors; `on_conversation` may be empty.
  explicit chat_jsonl_reader(std::string source,
                             conversation_handler on_conversation = {},
                             size_t max_line_bytes = size_t{1} << 20);

  /// Consumes `bytes`, handling every line they complete.
  void feed(std::string_view bytes);
  /// Handles the last line if it has no newline; fails on empty data.
  void finish();
  /// Valid conversations seen so far.
  size_t conversations() const { return conversations_; }

 private:
  void handle_line(std::string_view line);

  std::string source_;
  conversation_handler on_conversation_;
  size_t max_line_bytes_;
  std::string partial_line_;
  size_t line_number_ = 0;
  size_t conversations_ = 0;
};

/// Reads the chat JSONL file at `path` through chat_jsonl_reader; returns
/// the number of conversations.
size_t read_chat_jsonl_file(const std::string& path,
                            const conversation_handler& on_conversation);

} // namespace chat::tokenizer
