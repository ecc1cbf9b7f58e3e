#include "actors/api/api_error.hpp"
#include "actors/prompt_builder.hpp"
#include "test_model.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

using chat::build_chat_prompt;
using chat::build_text_prompt;
using chat::api::api_error;
using chat::tokenizer::chat_message;
using chat::tokenizer::chat_role;
using chat::tokenizer::encode_conversation;

namespace {

std::vector<std::int32_t> render(const chat::served_model& model,
                                 const std::vector<chat_message>& messages) {
  return encode_conversation(*model.tokenizer, messages, true).tokens;
}

api_error error_of(const std::function<void()>& build) {
  try {
    build();
  } catch (const api_error& e) {
    return e;
  }
  FAIL("no api_error was thrown");
  return api_error(0, "", "");
}

/// A long conversation: a system message, then alternating turns.
std::vector<chat_message> long_conversation(bool with_system) {
  std::vector<chat_message> m;
  if (with_system)
    m.push_back({chat_role::system, "You speak as a citizen of Rome."});
  m.push_back({chat_role::user, "First Citizen: we are accounted poor."});
  m.push_back({chat_role::assistant, "The leanness that afflicts us."});
  m.push_back({chat_role::user, "Let us kill him, and we'll have corn."});
  m.push_back({chat_role::assistant, "Is't a verdict? No more talking on't."});
  m.push_back({chat_role::user, "What say you to the senate?"});
  return m;
}

/// The oracle: drop the oldest non-system messages one at a time, re-encoding
/// what is left, until it fits `limit`. Returns how many were dropped.
std::size_t expected_drop(const chat::served_model& model,
                          const std::vector<chat_message>& messages,
                          std::int64_t limit) {
  std::size_t first = messages.front().role == chat_role::system ? 1 : 0;
  for (std::size_t drop = 0; first + drop < messages.size(); ++drop) {
    std::vector<chat_message> kept(messages.begin(),
                                   messages.begin() + first);
    kept.insert(kept.end(), messages.begin() + first + drop, messages.end());
    if (static_cast<std::int64_t>(render(model, kept).size()) <= limit)
      return drop;
  }
  return messages.size();
}

std::vector<chat_message> without_dropped(
  const std::vector<chat_message>& messages, std::size_t drop) {
  std::size_t first = messages.front().role == chat_role::system ? 1 : 0;
  std::vector<chat_message> kept(messages.begin(), messages.begin() + first);
  kept.insert(kept.end(), messages.begin() + first + drop, messages.end());
  return kept;
}

} // namespace

TEST_CASE("build_chat_prompt renders a short conversation unchanged",
          "[unit]") {
  auto model = chat::test::tiny_served_model(64);
  std::vector<chat_message> messages{{chat_role::user, "Hello there"}};
  auto built = build_chat_prompt(*model, messages, 8);
  CHECK(built.tokens == render(*model, messages));
  CHECK(built.max_tokens == 8);
  CHECK(built.dropped_messages == 0);
  // Ends with the generation prompt: <|assistant|>.
  CHECK(built.tokens.back() == model->tokenizer->special_ids().assistant);
}

TEST_CASE("build_chat_prompt without max_tokens lets the reply use the rest "
          "of the context",
          "[unit]") {
  auto model = chat::test::tiny_served_model(64);
  std::vector<chat_message> messages{{chat_role::user, "Hello there"}};
  auto built = build_chat_prompt(*model, messages, std::nullopt);
  CHECK(built.max_tokens
        == static_cast<std::int32_t>(64 - built.tokens.size()));
}

TEST_CASE("build_chat_prompt without max_tokens keeps a quarter of the "
          "context free",
          "[unit]") {
  // context 64 → 16 tokens reserved, so the prompt may use at most 48.
  auto model = chat::test::tiny_served_model(64);
  auto messages = long_conversation(true);
  REQUIRE(render(*model, messages).size() > 48);
  auto built = build_chat_prompt(*model, messages, std::nullopt);
  CHECK(built.tokens.size() <= 48);
  CHECK(built.dropped_messages == expected_drop(*model, messages, 48));
  CHECK(built.max_tokens
        == static_cast<std::int32_t>(64 - built.tokens.size()));
  CHECK(built.max_tokens >= 16);
}

TEST_CASE("build_chat_prompt drops the oldest turns but keeps the system "
          "message",
          "[unit]") {
  auto model = chat::test::tiny_served_model(64);
  auto messages = long_conversation(true);
  const std::int32_t max_tokens = 24; // limit 40
  auto drop = expected_drop(*model, messages, 64 - max_tokens);
  REQUIRE(drop >= 1);
  REQUIRE(drop < messages.size() - 1);
  auto built = build_chat_prompt(*model, messages, max_tokens);
  CHECK(built.dropped_messages == drop);
  CHECK(built.max_tokens == max_tokens);
  CHECK(built.tokens.size() <= 40);
  auto kept = without_dropped(messages, drop);
  CHECK(kept.front().role == chat_role::system);
  CHECK(kept.back().content == messages.back().content);
  CHECK(built.tokens == render(*model, kept));
}

TEST_CASE("build_chat_prompt without a system message drops from the first "
          "message",
          "[unit]") {
  auto model = chat::test::tiny_served_model(64);
  auto messages = long_conversation(false);
  const std::int32_t max_tokens = 24;
  auto drop = expected_drop(*model, messages, 64 - max_tokens);
  REQUIRE(drop >= 1);
  auto built = build_chat_prompt(*model, messages, max_tokens);
  CHECK(built.dropped_messages == drop);
  CHECK(built.tokens == render(*model, without_dropped(messages, drop)));
}

TEST_CASE("build_chat_prompt keeps a conversation that fits exactly",
          "[unit]") {
  auto model = chat::test::tiny_served_model(64);
  auto messages = long_conversation(true);
  messages.resize(3);
  auto size = static_cast<std::int32_t>(render(*model, messages).size());
  REQUIRE(size < 64);
  auto built = build_chat_prompt(*model, messages, 64 - size);
  CHECK(built.dropped_messages == 0);
  CHECK(built.tokens.size() == static_cast<std::size_t>(size));
  // One more token of reply and the oldest turn must go.
  auto tighter = build_chat_prompt(*model, messages, 64 - size + 1);
  CHECK(tighter.dropped_messages == 1);
}

TEST_CASE("build_chat_prompt rejects a newest message too long alone with "
          "prompt_too_long naming the limit",
          "[unit]") {
  auto model = chat::test::tiny_served_model(64);
  std::string speech;
  for (int i = 0; i < 20; ++i)
    speech += "Friends, Romans, countrymen, lend me your ears. ";
  std::vector<chat_message> messages{{chat_role::user, "short"},
                                     {chat_role::assistant, "reply"},
                                     {chat_role::user, speech}};
  auto e = error_of([&] { build_chat_prompt(*model, messages, 16); });
  CHECK(e.status == 400);
  CHECK(e.code == "prompt_too_long");
  REQUIRE(e.param);
  CHECK(*e.param == "messages");
  CHECK_THAT(e.what(), Catch::Contains("at most 48"));
}

TEST_CASE("build_chat_prompt never drops the system message to fit",
          "[unit]") {
  auto model = chat::test::tiny_served_model(64);
  std::string rules;
  for (int i = 0; i < 10; ++i)
    rules += "Speak only in verse, as the players do. ";
  std::vector<chat_message> messages{{chat_role::system, rules},
                                     {chat_role::user, "Hi"}};
  auto e = error_of([&] { build_chat_prompt(*model, messages, 8); });
  CHECK(e.code == "prompt_too_long");
  CHECK_THAT(e.what(), Catch::Contains("at most 56"));
}

TEST_CASE("build_chat_prompt rejects max_tokens not below the context",
          "[unit]") {
  auto model = chat::test::tiny_served_model(64);
  std::vector<chat_message> messages{{chat_role::user, "Hi"}};
  for (std::int32_t max_tokens : {64, 65, 1000}) {
    INFO(max_tokens);
    auto e = error_of([&] { build_chat_prompt(*model, messages, max_tokens); });
    CHECK(e.status == 400);
    REQUIRE(e.param);
    CHECK(*e.param == "max_tokens");
    CHECK_THAT(e.what(), Catch::Contains("64"));
  }
}

TEST_CASE("build_text_prompt encodes the prompt without a template",
          "[unit]") {
  auto model = chat::test::tiny_served_model(64);
  auto built = build_text_prompt(*model, "To be, or not to be", 10);
  CHECK(built.tokens == model->tokenizer->encode("To be, or not to be"));
  CHECK(built.max_tokens == 10);
  CHECK(built.dropped_messages == 0);
  auto open = build_text_prompt(*model, "To be, or not to be", std::nullopt);
  CHECK(open.max_tokens == static_cast<std::int32_t>(64 - open.tokens.size()));
}

TEST_CASE("build_text_prompt rejects an empty prompt", "[unit]") {
  auto model = chat::test::tiny_served_model(64);
  auto e = error_of([&] { build_text_prompt(*model, "", 10); });
  CHECK(e.status == 400);
  CHECK(e.param == std::optional<std::string>("prompt"));
}

TEST_CASE("build_text_prompt never truncates: too long is prompt_too_long",
          "[unit]") {
  auto model = chat::test::tiny_served_model(64);
  std::string text;
  for (int i = 0; i < 20; ++i)
    text += "Now is the winter of our discontent. ";
  auto e = error_of([&] { build_text_prompt(*model, text, 16); });
  CHECK(e.status == 400);
  CHECK(e.code == "prompt_too_long");
  CHECK(e.param == std::optional<std::string>("prompt"));
  CHECK_THAT(e.what(), Catch::Contains("at most 48"));
}

TEST_CASE("build_text_prompt rejects max_tokens not below the context",
          "[unit]") {
  auto model = chat::test::tiny_served_model(64);
  auto e = error_of([&] { build_text_prompt(*model, "Hi", 64); });
  CHECK(e.status == 400);
  CHECK(e.param == std::optional<std::string>("max_tokens"));
}

TEST_CASE("build_chat_prompt refuses max_tokens above the server's cap and "
          "caps an open reply at it",
          "[unit]") {
  auto model = chat::test::tiny_served_model(64);
  chat::limits_config limits;
  limits.max_tokens = 10;
  std::vector<chat_message> messages{{chat_role::user, "Hi"}};
  auto e = error_of([&] { build_chat_prompt(*model, messages, 11, limits); });
  CHECK(e.status == 400);
  CHECK(e.param == std::optional<std::string>("max_tokens"));
  CHECK_THAT(e.what(), Catch::Contains("at most 10"));
  CHECK(build_chat_prompt(*model, messages, 10, limits).max_tokens == 10);
  CHECK(build_chat_prompt(*model, messages, std::nullopt, limits).max_tokens
        == 10);
  CHECK(build_text_prompt(*model, "Hi", std::nullopt, limits).max_tokens
        == 10);
}

TEST_CASE("build_chat_prompt fits the history to the server's prompt cap",
          "[unit]") {
  auto model = chat::test::tiny_served_model(256);
  chat::limits_config limits;
  limits.max_prompt_tokens = 40;
  auto messages = long_conversation(true);
  auto built = build_chat_prompt(*model, messages, 8, limits);
  auto drop = expected_drop(*model, messages, 40);
  CHECK(drop > 0);
  CHECK(built.dropped_messages == drop);
  CHECK(built.tokens.size() <= 40);
  CHECK(built.tokens == render(*model, without_dropped(messages, drop)));

  limits.max_prompt_tokens = 4;
  auto e = error_of([&] { build_chat_prompt(*model, messages, 8, limits); });
  CHECK(e.code == "prompt_too_long");
  CHECK_THAT(e.what(), Catch::Contains("at most 4"));
  auto text = error_of([&] {
    build_text_prompt(*model, "To be, or not to be", 8, limits);
  });
  CHECK(text.code == "prompt_too_long");
}
