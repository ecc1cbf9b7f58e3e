#include "model/tokenizer/utf8.hpp"

namespace chat::tokenizer {

namespace {

// Unicode 15, table 3-7: the sequence length for a lead byte, 0 if the byte
// cannot start a character.
size_t sequence_length(unsigned char lead) {
  if (lead < 0x80)
    return 1;
  if (lead >= 0xC2 && lead <= 0xDF)
    return 2;
  if (lead >= 0xE0 && lead <= 0xEF)
    return 3;
  if (lead >= 0xF0 && lead <= 0xF4)
    return 4;
  return 0;
}

// Whether byte `index` (>= 1) of a sequence led by `lead` is in range; the
// second byte's range depends on the lead byte (table 3-7).
bool continuation_ok(unsigned char lead, size_t index, unsigned char byte) {
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (index == 1) {
    if (lead == 0xE0)
      low = 0xA0;
    else if (lead == 0xED)
      high = 0x9F;
    else if (lead == 0xF0)
      low = 0x90;
    else if (lead == 0xF4)
      high = 0x8F;
  }
  return byte >= low && byte <= high;
}

// Number of leading bytes of `text` (up to one character) that are in range.
size_t valid_prefix(std::string_view text, size_t length) {
  auto lead = static_cast<unsigned char>(text[0]);
  size_t i = 1;
  while (i < length && i < text.size() &&
         continuation_ok(lead, i, static_cast<unsigned char>(text[i])))
    ++i;
  return i;
}

} // namespace

size_t utf8_char_length(std::string_view text) {
  if (text.empty())
    return 0;
  size_t length = sequence_length(static_cast<unsigned char>(text[0]));
  if (length == 0 || text.size() < length)
    return 0;
  return valid_prefix(text, length) == length ? length : 0;
}

bool is_incomplete_utf8_char(std::string_view text) {
  if (text.empty())
    return false;
  size_t length = sequence_length(static_cast<unsigned char>(text[0]));
  return length > text.size() && valid_prefix(text, length) == text.size();
}

size_t find_invalid_utf8(std::string_view text) {
  size_t offset = 0;
  while (offset < text.size()) {
    size_t length = utf8_char_length(text.substr(offset));
    if (length == 0)
      return offset;
    offset += length;
  }
  return std::string_view::npos;
}

} // namespace chat::tokenizer
