#include "model/tokenizer/utf8.hpp"

#include <catch2/catch.hpp>

using namespace chat::tokenizer;

TEST_CASE("utf8 character lengths follow the strict table", "[unit]") {
  CHECK(utf8_char_length("a") == 1);
  CHECK(utf8_char_length("\xC3\xA0") == 2);
  CHECK(utf8_char_length("\xE1\xBB\x83") == 3);
  CHECK(utf8_char_length("\xF0\x9F\x98\x80") == 4);
  CHECK(utf8_char_length("\xC0\x80") == 0);         // overlong
  CHECK(utf8_char_length("\xED\xA0\x80") == 0);     // surrogate
  CHECK(utf8_char_length("\xF4\x90\x80\x80") == 0); // above U+10FFFF
  CHECK(utf8_char_length("\xE1\xBB") == 0);         // cut short
  CHECK(utf8_char_length("\x80") == 0);
  CHECK(utf8_char_length("") == 0);
}

TEST_CASE("utf8 incomplete prefixes are recognized", "[unit]") {
  CHECK(is_incomplete_utf8_char("\xF0"));
  CHECK(is_incomplete_utf8_char("\xF0\x9F\x98"));
  CHECK_FALSE(is_incomplete_utf8_char("\xF0\x8F"));
  CHECK_FALSE(is_incomplete_utf8_char("\xF0\x9F\x98\x80"));
  CHECK_FALSE(is_incomplete_utf8_char("a"));
  CHECK_FALSE(is_incomplete_utf8_char("\xFF"));
}

TEST_CASE("find_invalid_utf8 reports the first bad offset", "[unit]") {
  CHECK(find_invalid_utf8("Xin chào") == std::string_view::npos);
  CHECK(find_invalid_utf8("ab\xFF") == 2);
  CHECK(find_invalid_utf8("\xE1\xBB") == 0);
}
