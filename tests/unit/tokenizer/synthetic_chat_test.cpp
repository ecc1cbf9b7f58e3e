#include "model/tokenizer/synthetic_chat.hpp"

#include "model/tokenizer/chat_jsonl.hpp"

#include <catch2/catch.hpp>

#include <regex>

using namespace chat::tokenizer;

TEST_CASE("generator is deterministic for a seed", "[unit]") {
  synthetic_chat_options options;
  options.count = 200;
  auto a = generate_synthetic_chats(options);
  auto b = generate_synthetic_chats(options);
  REQUIRE(a.size() == 200);
  for (size_t i = 0; i < a.size(); ++i)
    REQUIRE(to_jsonl_line(a[i]) == to_jsonl_line(b[i]));
  options.seed = 7;
  auto c = generate_synthetic_chats(options);
  bool differs = false;
  for (size_t i = 0; i < a.size(); ++i)
    differs = differs || to_jsonl_line(a[i]) != to_jsonl_line(c[i]);
  CHECK(differs);
}

TEST_CASE("generated chats are valid and answer additions", "[unit]") {
  synthetic_chat_options options;
  options.count = 300;
  const std::regex question(R"((\d\d)\D+(\d\d)\D*)");
  const std::regex answer(R"((\d\d)\+(\d\d) = (\d+)\.)");
  size_t additions = 0;
  for (const auto& chat : generate_synthetic_chats(options)) {
    auto parsed = parse_chat_line(to_jsonl_line(chat));
    REQUIRE(parsed.size() == chat.size());
    for (const auto& message : chat) {
      std::smatch m;
      if (message.role != chat_role::assistant ||
          !std::regex_match(message.content, m, answer))
        continue;
      int a = std::stoi(m[1]), b = std::stoi(m[2]);
      CHECK(std::stoi(m[3]) == a + b);
      CHECK_FALSE(is_held_out_addition(a, b));
      ++additions;
    }
  }
  CHECK(additions > 100);
  CHECK(addition_question(37, 45, 0) == "What is 37+45?");
  CHECK(addition_answer(37, 45) == "37+45 = 82.");
}

TEST_CASE("held-out additions are a symmetric tenth of all pairs", "[unit]") {
  auto pairs = held_out_additions();
  CHECK(pairs.size() > 600);
  CHECK(pairs.size() < 1000);
  for (auto [a, b] : pairs)
    CHECK(is_held_out_addition(b, a));
  auto chats = held_out_addition_chats(1337);
  REQUIRE(chats.size() == pairs.size());
  CHECK(chats[0][1].content == addition_answer(pairs[0].first,
                                               pairs[0].second));
}
