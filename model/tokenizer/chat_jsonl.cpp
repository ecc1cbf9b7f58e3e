#include "model/tokenizer/chat_jsonl.hpp"

#include "model/tokenizer/utf8.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

namespace chat::tokenizer {

namespace {

using json = nlohmann::json;

// The format nests three levels; hostile input nested thousands deep would
// cost stack in the JSON library, so it is refused before parsing.
constexpr size_t max_nesting = 8;

size_t nesting_depth(std::string_view text) {
  size_t depth = 0;
  size_t deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

[[noreturn]] void reject(const std::string& reason) {
  throw std::invalid_argument(reason);
}

chat_message parse_message(const json& value, size_t index) {
  const auto where = "message " + std::to_string(index) + ": ";
  if (!value.is_object())
    reject(where + "expected an object with \"role\" and \"content\", got " +
           value.type_name());
  for (const auto& item : value.items())
    if (item.key() != "role" && item.key() != "content")
      reject(where + "unexpected field \"" + item.key() +
             "\"; only \"role\" and \"content\" are allowed");
  auto role = value.find("role");
  if (role == value.end())
    reject(where + "missing field \"role\"");
  if (!role->is_string())
    reject(where + "\"role\" must be a string, got " + role->type_name());
  auto content = value.find("content");
  if (content == value.end())
    reject(where + "missing field \"content\"");
  if (!content->is_string())
    reject(where + "\"content\" must be a string, got " +
           content->type_name());
  const auto& name = role->get_ref<const std::string&>();
  auto parsed = parse_role(name);
  if (!parsed)
    reject(where + "unknown role \"" + name +
           "\"; expected system, user or assistant");
  return {*parsed, content->get<std::string>()};
}

} // namespace

chat_data_error::chat_data_error(std::string source, size_t line,
                                 std::string reason)
    : std::runtime_error(source + ":" + std::to_string(line) + ": " + reason),
      source_(std::move(source)), line_(line), reason_(std::move(reason)) {}

std::vector<chat_message> parse_chat_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r')
    line.remove_suffix(1);
  if (line.find_first_not_of(" \t") == std::string_view::npos)
    reject("empty line; each line must hold one JSON object");
  auto bad = find_invalid_utf8(line);
  if (bad != std::string_view::npos)
    reject("invalid UTF-8 at byte " + std::to_string(bad + 1));
  if (nesting_depth(line) > max_nesting)
    reject("JSON nested deeper than " + std::to_string(max_nesting) +
           " levels");
  json document;
  try {
    document = json::parse(line.begin(), line.end());
  } catch (const json::exception& e) {
    // Not only parse_error: a number too large for a double is out_of_range.
    reject(std::string("invalid JSON: ") + e.what());
  }
  if (!document.is_object())
    reject(std::string("expected an object with a \"messages\" array, got ") +
           document.type_name());
  for (const auto& item : document.items())
    if (item.key() != "messages")
      reject("unexpected field \"" + item.key() +
             "\"; only \"messages\" is allowed");
  auto messages = document.find("messages");
  if (messages == document.end())
    reject("missing field \"messages\"");
  if (!messages->is_array())
    reject(std::string("\"messages\" must be an array, got ") +
           messages->type_name());
  if (messages->empty())
    reject("\"messages\" is empty");

  std::vector<chat_message> result;
  bool has_assistant = false;
  for (size_t i = 0; i < messages->size(); ++i) {
    auto message = parse_message((*messages)[i], i + 1);
    if (message.role == chat_role::system && i != 0)
      reject("message " + std::to_string(i + 1) +
             ": a system message may only come first");
    has_assistant = has_assistant || message.role == chat_role::assistant;
    result.push_back(std::move(message));
  }
  if (!has_assistant)
    reject("no assistant message, so nothing to learn from");
  return result;
}

chat_jsonl_reader::chat_jsonl_reader(std::string source,
                                     conversation_handler on_conversation,
                                     size_t max_line_bytes)
    : source_(std::move(source)),
      on_conversation_(std::move(on_conversation)),
      max_line_bytes_(max_line_bytes) {}

void chat_jsonl_reader::handle_line(std::string_view line) {
  ++line_number_;
  std::vector<chat_message> messages;
  try {
    messages = parse_chat_line(line);
  } catch (const std::invalid_argument& e) {
    throw chat_data_error(source_, line_number_, e.what());
  }
  ++conversations_;
  if (on_conversation_)
    on_conversation_(std::move(messages));
}

void chat_jsonl_reader::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    auto newline = bytes.find('\n');
    auto piece = bytes.substr(0, newline);
    if (partial_line_.size() + piece.size() > max_line_bytes_)
      throw chat_data_error(source_, line_number_ + 1,
                            "line longer than " +
                                std::to_string(max_line_bytes_) + " bytes");
    if (newline == std::string_view::npos) {
      partial_line_.append(piece);
      return;
    }
    if (partial_line_.empty()) {
      handle_line(piece);
    } else {
      partial_line_.append(piece);
      handle_line(partial_line_);
      partial_line_.clear();
    }
    bytes.remove_prefix(newline + 1);
  }
}

void chat_jsonl_reader::finish() {
  if (!partial_line_.empty()) {
    handle_line(partial_line_);
    partial_line_.clear();
  }
  if (conversations_ == 0)
    throw chat_data_error(source_, line_number_ + 1, "no conversations");
}

size_t read_chat_jsonl_file(const std::string& path,
                            const conversation_handler& on_conversation) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error("chat data '" + path +
                             "': cannot open for reading");
  chat_jsonl_reader reader(path, on_conversation);
  std::string chunk(size_t{1} << 16, '\0');
  while (in.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) ||
         in.gcount() > 0)
    reader.feed(std::string_view(chunk.data(),
                                 static_cast<size_t>(in.gcount())));
  if (in.bad())
    throw std::runtime_error("chat data '" + path + "': read failed");
  reader.finish();
  return reader.conversations();
}

} // namespace chat::tokenizer
