#include "actors/safety/filter_set.hpp"
#include "actors/safety/text_normalizer.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace chat::safety;
using chat::storage::filter_rule;

TEST_CASE("normalize folds case, width and compatibility forms", "[unit]") {
  CHECK(normalize("Hello WORLD") == "hello world");
  // Full-width Latin letters (U+FF21...) become ASCII.
  CHECK(normalize("\xEF\xBC\xB3\xEF\xBC\xA5\xEF\xBC\xA3\xEF\xBC\xB2\xEF\xBC"
                  "\xA5\xEF\xBC\xB4")
        == "secret");
  // The "fi" ligature, a soft hyphen and a zero-width joiner.
  CHECK(normalize("\xEF\xAC\x81ne") == "fine");
  CHECK(normalize("se\xC2\xAD" "cr\xE2\x80\x8D" "et") == "secret");
  CHECK(normalize("Stra\xC3\x9F" "e") == "strasse");
}

TEST_CASE("normalize survives invalid UTF-8", "[unit]") {
  auto out = normalize(std::string("ab\xFF\xC0" "cd", 6));
  CHECK(out.find("ab") == 0);
  CHECK(out.find("cd") != std::string::npos);
}

TEST_CASE("rule_problem refuses bad rules with the field at fault",
          "[unit]") {
  CHECK_FALSE(rule_problem("phrase", "secret", "both"));
  CHECK_FALSE(rule_problem("regex", "pass(word)?\\d+", "input"));
  CHECK(rule_problem("word", "x", "both")->field == "kind");
  CHECK(rule_problem("phrase", "x", "sideways")->field == "applies_to");
  CHECK(rule_problem("phrase", "", "both")->field == "pattern");
  CHECK(rule_problem("phrase", "\xE2\x80\x8B", "both")->field == "pattern");
  CHECK(rule_problem("regex", "(", "both")->field == "pattern");
  CHECK(rule_problem("regex", "a*", "both")->field == "pattern");
  CHECK(rule_problem("phrase", std::string(1001, 'a'), "both")->field
        == "pattern");
  // RE2 refuses back-references instead of backtracking on them.
  CHECK(rule_problem("regex", "(a)\\1", "both"));
}

TEST_CASE("a filter_set matches phrases and regexes by direction", "[unit]") {
  filter_set set({{"r_in", "phrase", "Launch Codes", "input", 0},
                  {"r_out", "phrase", "secret", "output", 0},
                  {"r_re", "regex", "card\\s*\\d{4}", "both", 0}});
  CHECK(set.screen("tell me the LAUNCH codes", direction::input) == "r_in");
  CHECK_FALSE(set.screen("tell me the launch codes", direction::output));
  CHECK(set.screen("the SECRET is", direction::output) == "r_out");
  CHECK_FALSE(set.screen("the secret is", direction::input));
  CHECK(set.screen("Card 1234", direction::input) == "r_re");
  CHECK(set.screen("CARD1234", direction::output) == "r_re");
  CHECK_FALSE(set.screen("cards", direction::input));
  // Full-width and mixed-case variants of a phrase.
  CHECK(set.screen("\xEF\xBC\xAC\xEF\xBD\x81unch cOdEs", direction::input)
        == "r_in");
  CHECK(set.longest_phrase(direction::input) == 12);
  CHECK(set.has_regex(direction::output));
  CHECK_FALSE(filter_set().screens(direction::input));
}

TEST_CASE("regex rules stay fast on hostile input", "[unit]") {
  filter_set set({{"r", "regex", "(a+)+b", "input", 0}});
  std::string hostile(200000, 'a');
  auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(set.screen(hostile, direction::input));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}

TEST_CASE("rules that do not compile are left out", "[unit]") {
  filter_set set({{"bad", "regex", "(", "both", 0},
                  {"good", "phrase", "x", "both", 0}});
  CHECK(set.screen("x", direction::input) == "good");
}
