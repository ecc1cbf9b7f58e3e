#pragma once

#include <cstddef>
#include <string_view>

namespace chat::tokenizer {

/// Byte length of the well-formed UTF-8 character (no overlongs, surrogates
/// or code points above U+10FFFF) at the start of `text`; 0 when `text`
/// does not start with one, including when it is cut short.
size_t utf8_char_length(std::string_view text);

/// True when `text` is a proper prefix of some well-formed UTF-8 character,
/// i.e. more bytes could still complete it.
bool is_incomplete_utf8_char(std::string_view text);

/// Byte offset of the first ill-formed UTF-8 sequence in `text`, or
/// std::string_view::npos when all of `text` is well-formed.
size_t find_invalid_utf8(std::string_view text);

} // namespace chat::tokenizer
