#include "model/tokenizer/incremental_detokenizer.hpp"

#include "model/tokenizer/utf8.hpp"

#include <string_view>

namespace chat::tokenizer {

namespace {

constexpr std::string_view replacement_character = "\xEF\xBF\xBD";

} // namespace

incremental_detokenizer::incremental_detokenizer(
    const sentencepiece_tokenizer& tokenizer)
    : tokenizer_(&tokenizer) {}

// Mirrors SentencePiece's decoder: a run of byte pieces is read one
// character at a time and each ill-formed byte becomes one U+FFFD. A
// character still short of bytes is only final once the run has ended.
void incremental_detokenizer::drain_bytes(bool run_ended, std::string& out) {
  std::string_view bytes = pending_bytes_;
  size_t offset = 0;
  while (offset < bytes.size()) {
    auto rest = bytes.substr(offset);
    if (!run_ended && is_incomplete_utf8_char(rest))
      break;
    size_t length = utf8_char_length(rest);
    if (length == 0) {
      out += replacement_character;
      offset += 1;
    } else {
      out.append(rest.substr(0, length));
      offset += length;
    }
  }
  pending_bytes_.erase(0, offset);
}

std::string incremental_detokenizer::push(int32_t id) {
  std::string out;
  int byte = tokenizer_->byte_value(id);
  if (byte >= 0) {
    pending_bytes_ += static_cast<char>(byte);
    drain_bytes(false, out);
  } else {
    drain_bytes(true, out);
    // SentencePiece drops a leading space only while no text precedes.
    out += (text_started_ || !out.empty()) ? tokenizer_->surface(id)
                                           : tokenizer_->leading_surface(id);
  }
  text_started_ = text_started_ || !out.empty();
  return out;
}

std::string incremental_detokenizer::flush() {
  std::string out;
  drain_bytes(true, out);
  pending_bytes_.clear();
  text_started_ = false;
  return out;
}

} // namespace chat::tokenizer
