#include "actors/safety/output_filter.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

using namespace chat::safety;

namespace {

std::shared_ptr<const filter_set>
rules(std::vector<chat::storage::filter_rule> r) {
  return std::make_shared<const filter_set>(r);
}

/// Feeds `pieces`; returns what was emitted, flush included.
std::string run(output_filter& f, const std::vector<std::string>& pieces) {
  std::string out;
  for (const auto& p : pieces)
    out += f.push(p);
  return out + f.flush();
}

} // namespace

TEST_CASE("output_filter without output rules passes text through",
          "[unit]") {
  output_filter f(rules({{"r", "phrase", "secret", "input", 0}}), 32, 256);
  CHECK(f.push("the secret") == "the secret");
  CHECK(f.flush().empty());
  CHECK_FALSE(f.blocked_by());
}

TEST_CASE("output_filter catches a phrase split across chunks", "[unit]") {
  output_filter f(rules({{"r", "phrase", "secret word", "output", 0}}), 32,
                  256);
  auto out = run(f, {"The ", "sec", "ret", " w", "ORD is here"});
  CHECK(f.blocked_by() == "r");
  CHECK(out.find("sec") == std::string::npos);
  // Only what could not be part of the phrase left: 10 code points held.
  CHECK(out == "Th");
}

TEST_CASE("output_filter catches full-width variants", "[unit]") {
  output_filter f(rules({{"r", "phrase", "secret", "output", 0}}), 32, 256);
  run(f, {"a \xEF\xBC\xB3\xEF\xBC\xA5", "\xEF\xBC\xA3ret"});
  CHECK(f.blocked_by() == "r");
}

TEST_CASE("output_filter holds back only a phrase's length", "[unit]") {
  output_filter f(rules({{"r", "phrase", "abcd", "output", 0}}), 32, 256);
  CHECK(f.push("hello world") == "hello wo");
  CHECK(f.push("!") == "r");
  CHECK(f.flush() == "ld!");
  CHECK_FALSE(f.blocked_by());
}

TEST_CASE("output_filter holds back regex text and sees recent output",
          "[unit]") {
  output_filter f(rules({{"r", "regex", "card \\d{4}", "output", 0}}), 4, 64);
  CHECK(f.push("my card") == "my ");
  CHECK(f.push(" 12") == "car");
  CHECK(f.push("34") == "");
  CHECK(f.blocked_by() == "r");
  CHECK(f.push("more").empty());
  CHECK(f.flush().empty());
}

TEST_CASE("output_filter never splits a UTF-8 character", "[unit]") {
  output_filter f(rules({{"r", "phrase", "xyz", "output", 0}}), 32, 256);
  std::string text = "caf\xC3\xA9 \xE2\x82\xAC";
  std::string out;
  for (char ch : text)
    out += f.push(std::string(1, ch));
  // Pushed byte by byte: held pieces are never cut inside a character.
  out += f.flush();
  CHECK(out == text);
  CHECK(tail_start("a\xC3\xA9", 1) == 1);
  CHECK(tail_start("ab", 5) == 0);
}
