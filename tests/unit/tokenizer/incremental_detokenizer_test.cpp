#include "model/tokenizer/incremental_detokenizer.hpp"

#include "model/tokenizer/utf8.hpp"
#include "test_tokenizer.hpp"

#include <catch2/catch.hpp>

using chat::tokenizer::find_invalid_utf8;
using chat::tokenizer::incremental_detokenizer;
using chat::tokenizer::test::random_utf8;
using chat::tokenizer::test::shakespeare_tokenizer;

namespace {

// Feeds `ids` one by one; checks each piece is whole UTF-8 and returns the
// concatenation including the flush.
std::string stream(incremental_detokenizer& detok,
                   const std::vector<int32_t>& ids) {
  std::string text;
  for (int32_t id : ids) {
    auto piece = detok.push(id);
    REQUIRE(find_invalid_utf8(piece) == std::string_view::npos);
    text += piece;
  }
  auto rest = detok.flush();
  REQUIRE(find_invalid_utf8(rest) == std::string_view::npos);
  return text + rest;
}

} // namespace

TEST_CASE("detokenizer holds back a split multi-byte character", "[unit]") {
  const auto& tok = shakespeare_tokenizer();
  incremental_detokenizer detok(tok);
  auto ids = tok.encode("😀");
  REQUIRE(ids.size() == 4);
  CHECK(detok.push(ids[0]).empty());
  CHECK(detok.push(ids[1]).empty());
  CHECK(detok.push(ids[2]).empty());
  CHECK(detok.push(ids[3]) == "😀");
  CHECK(detok.flush().empty());
}

TEST_CASE("detokenizer streams encoded text back exactly", "[unit]") {
  const auto& tok = shakespeare_tokenizer();
  std::mt19937_64 rng(1337);
  for (std::string text :
       {std::string(" leading space, then words"),
        std::string("Xin chào, tôi có thể giúp gì?"),
        random_utf8(rng, 60)}) {
    incremental_detokenizer detok(tok);
    CHECK(stream(detok, tok.encode(text)) == text);
  }
}

TEST_CASE("detokenizer pieces concatenate to the full decode of random ids",
          "[unit]") {
  const auto& tok = shakespeare_tokenizer();
  std::mt19937_64 rng(1337);
  incremental_detokenizer detok(tok);
  for (int round = 0; round < 300; ++round) {
    std::vector<int32_t> ids(rng() % 24);
    for (auto& id : ids) {
      // Mostly byte pieces, so that partial and broken UTF-8 is common.
      id = rng() % 2 ? tok.id_of("<0x00>") + int32_t(128 + rng() % 128)
                     : int32_t(rng() % tok.vocab_size());
    }
    REQUIRE(stream(detok, ids) == tok.decode(ids));
  }
}

TEST_CASE("detokenizer renders broken byte runs as decode does", "[unit]") {
  const auto& tok = shakespeare_tokenizer();
  auto byte = [&](int b) { return tok.id_of("<0x00>") + b; };
  incremental_detokenizer detok(tok);
  // Lead byte, then a letter: U+FFFD for the lead, then the letter.
  std::vector<int32_t> ids{byte(0xE2), byte(0x82), tok.encode("a")[0]};
  CHECK(stream(detok, ids) == tok.decode(ids));
  CHECK(tok.decode(ids) == "\xEF\xBF\xBD\xEF\xBF\xBD" "a");
  // An incomplete character at the end comes out on flush.
  ids = {byte(0xF0), byte(0x9F)};
  CHECK(detok.push(ids[0]).empty());
  CHECK(detok.push(ids[1]).empty());
  CHECK(detok.flush() == tok.decode(ids));
}

TEST_CASE("detokenizer rejects ids outside the vocabulary", "[unit]") {
  const auto& tok = shakespeare_tokenizer();
  incremental_detokenizer detok(tok);
  CHECK_THROWS_AS(detok.push(int32_t(tok.vocab_size())), std::out_of_range);
}
