// Fuzzes dataset uploads as chatd checks them: chat JSONL through
// chat_jsonl_reader, fed in pieces of any size as a body or file arrives,
// and text through the UTF-8 validation. Input: one byte choosing the piece
// size, then the data. Checked besides "no crash": the verdict does not
// depend on the piece size, and our UTF-8 check agrees with the JSON
// library's (every string we accept is later serialized by it).

#include "model/tokenizer/chat_jsonl.hpp"
#include "model/tokenizer/utf8.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace chat::tokenizer;

struct verdict {
  size_t conversations = 0;
  /// Line of the first defect; 0 when the data is valid.
  size_t bad_line = 0;

  bool operator==(const verdict& o) const {
    return conversations == o.conversations && bad_line == o.bad_line;
  }
};

verdict read_chat(std::string_view data, size_t piece) {
  verdict out;
  chat_jsonl_reader reader("upload", [](std::vector<chat_message>&& messages) {
    if (messages.empty())
      std::abort();
  });
  try {
    for (size_t at = 0; at < data.size(); at += piece)
      reader.feed(data.substr(at, piece));
    reader.finish();
    out.conversations = reader.conversations();
  } catch (const chat_data_error& e) {
    if (e.line() == 0 || e.reason().empty())
      std::abort();
    out.bad_line = e.line();
  }
  return out;
}

bool json_library_accepts(std::string_view text) {
  try {
    nlohmann::json(std::string(text)).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

void check_text(std::string_view text) {
  auto bad = find_invalid_utf8(text);
  if ((bad == std::string_view::npos) != json_library_accepts(text))
    std::abort();
  if (bad != std::string_view::npos
      && (bad >= text.size() || utf8_char_length(text.substr(bad)) != 0))
    std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  if (size == 0)
    return 0;
  const size_t piece = size_t{data[0]} + 1;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  check_text(text);
  if (!(read_chat(text, piece) == read_chat(text, text.size() + 1)))
    std::abort();
  return 0;
}
