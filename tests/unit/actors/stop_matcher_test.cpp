#include "actors/stop_matcher.hpp"
#include "model/tokenizer/utf8.hpp"
#include "test_tokenizer.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

using chat::stop_matcher;

namespace {

/// Feeds `pieces` in order and returns what was emitted, flush included.
std::string run(stop_matcher& m, const std::vector<std::string>& pieces) {
  std::string out;
  for (const auto& p : pieces)
    out += m.push(p);
  return out + m.flush();
}

} // namespace

TEST_CASE("stop_matcher without stop strings passes text straight through",
          "[unit]") {
  stop_matcher m({});
  CHECK(m.push("Hello") == "Hello");
  CHECK(m.push(", world") == ", world");
  CHECK(m.flush().empty());
  CHECK_FALSE(m.stopped());
}

TEST_CASE("stop_matcher emits text that cannot start a stop string at once",
          "[unit]") {
  stop_matcher m({"END"});
  CHECK(m.push("Hello") == "Hello");
  CHECK(m.push(" there") == " there");
  CHECK_FALSE(m.stopped());
}

TEST_CASE("stop_matcher drops the stop string and everything after it",
          "[unit]") {
  stop_matcher m({"STOP"});
  CHECK(m.push("Hello STOP world") == "Hello ");
  CHECK(m.stopped());
  CHECK(m.push("more text").empty());
  CHECK(m.flush().empty());
}

TEST_CASE("stop_matcher finds a stop string split across pieces", "[unit]") {
  stop_matcher m({"STOP"});
  CHECK(m.push("Hel") == "Hel");
  CHECK(m.push("lo S") == "lo ");
  CHECK(m.push("TO").empty());
  CHECK_FALSE(m.stopped());
  CHECK(m.push("P and more").empty());
  CHECK(m.stopped());
  CHECK(m.flush().empty());
}

TEST_CASE("stop_matcher releases a held prefix that turns out not to stop",
          "[unit]") {
  stop_matcher m({"abc"});
  CHECK(m.push("xa") == "x");
  CHECK(m.push("b") == "");
  CHECK(m.push("d") == "abd");
  CHECK_FALSE(m.stopped());
}

TEST_CASE("stop_matcher flush returns held-back text when no stop matched",
          "[unit]") {
  stop_matcher m({"abc"});
  CHECK(m.push("xyzab") == "xyz");
  CHECK(m.flush() == "ab");
  CHECK_FALSE(m.stopped());
}

TEST_CASE("stop_matcher holds the longest possible prefix across repeats",
          "[unit]") {
  stop_matcher m({"aab"});
  CHECK(m.push("a").empty());
  CHECK(m.push("a").empty());
  CHECK(m.push("a") == "a");
  CHECK(m.push("b").empty());
  CHECK(m.stopped());
}

TEST_CASE("stop_matcher cuts at the earliest of several stop strings",
          "[unit]") {
  stop_matcher m({"world", "lo"});
  CHECK(m.push("hello world") == "hel");
  CHECK(m.stopped());
}

TEST_CASE("stop_matcher stops at the stop string completed first in a stream",
          "[unit]") {
  // "bc" is complete after "abc" arrives; the longer "abcd" never gets the
  // chance to finish because generation stops there.
  stop_matcher m({"abcd", "bc"});
  CHECK(m.push("a").empty());
  CHECK(m.push("b").empty());
  CHECK(m.push("c") == "a");
  CHECK(m.stopped());
}

TEST_CASE("stop_matcher with a stop string at the very start emits nothing",
          "[unit]") {
  stop_matcher m({"\n\n"});
  CHECK(run(m, {"\n", "\nrest"}).empty());
  CHECK(m.stopped());
}

TEST_CASE("stop_matcher holds back a multi-byte stop prefix as whole "
          "characters",
          "[unit]") {
  stop_matcher m({"\xE6\x97\xA5\xE6\x9C\xAC"}); // 日本
  CHECK(m.push("\xE4\xBB\x8A\xE6\x97\xA5") == "\xE4\xBB\x8A"); // 今日 → 今
  // 曜 → 日曜
  CHECK(m.push("\xE6\x9B\x9C") == "\xE6\x97\xA5\xE6\x9B\x9C");
  CHECK(m.push("\xE6\x97\xA5\xE6\x9C\xAC!").empty());           // 日本!
  CHECK(m.stopped());
}

TEST_CASE("stop_matcher never cuts inside a UTF-8 character", "[unit]") {
  // A stop string that starts with a continuation byte could match the tail
  // of "é" (C3 A9); the cut must move back to the lead byte instead.
  stop_matcher m({"\xA9!"});
  CHECK(m.push("x\xC3\xA9") == "x");
  CHECK(m.push("?") == "\xC3\xA9?");
  CHECK_FALSE(m.stopped());
}

TEST_CASE("stop_matcher over random UTF-8 emits the text up to the first stop "
          "in whole characters",
          "[unit]") {
  std::mt19937_64 rng(1337);
  using chat::tokenizer::find_invalid_utf8;
  using chat::tokenizer::utf8_char_length;
  for (int round = 0; round < 200; ++round) {
    auto text = chat::tokenizer::test::random_utf8(rng, 40);
    // Code point boundaries of text.
    std::vector<size_t> bounds{0};
    while (bounds.back() < text.size())
      bounds.push_back(bounds.back()
                       + utf8_char_length(std::string_view(text).substr(
                         bounds.back())));
    REQUIRE(bounds.back() == text.size());
    std::string stop;
    if (round % 2 == 0) {
      // A stop string taken from the text: 1 to 3 code points.
      size_t a = rng() % (bounds.size() - 1);
      size_t b = std::min(bounds.size() - 1, a + 1 + rng() % 3);
      stop = text.substr(bounds[a], bounds[b] - bounds[a]);
    } else {
      stop = chat::tokenizer::test::random_utf8(rng, 2);
    }
    // Split into pieces of 1 to 4 code points.
    std::vector<std::string> pieces;
    for (size_t i = 0; i + 1 < bounds.size();) {
      size_t j = std::min(bounds.size() - 1, i + 1 + rng() % 4);
      pieces.push_back(text.substr(bounds[i], bounds[j] - bounds[i]));
      i = j;
    }
    stop_matcher m({stop});
    std::string out;
    for (const auto& p : pieces) {
      auto emitted = m.push(p);
      INFO("round " << round);
      CHECK(find_invalid_utf8(emitted) == std::string_view::npos);
      out += emitted;
    }
    auto rest = m.flush();
    CHECK(find_invalid_utf8(rest) == std::string_view::npos);
    out += rest;
    auto at = text.find(stop);
    INFO("round " << round);
    CHECK(m.stopped() == (at != std::string::npos));
    CHECK(out == text.substr(0, at));
  }
}
