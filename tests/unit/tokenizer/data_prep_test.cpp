#include "model/tokenizer/data_prep.hpp"

#include "model/tokenizer/chat_jsonl.hpp"
#include "model/tokenizer/synthetic_chat.hpp"
#include "test_tokenizer.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace chat::tokenizer;
using chat::shard::read_shard;
using chat::tokenizer::test::shakespeare_tokenizer;
using chat::tokenizer::test::temp_dir;

TEST_CASE("loss mask is 1 only on assistant content and its end", "[unit]") {
  const auto& tok = shakespeare_tokenizer();
  std::vector<chat_message> messages{{chat_role::system, "Be brief."},
                                     {chat_role::user, "Hi"},
                                     {chat_role::assistant, "Hello there"},
                                     {chat_role::user, "Bye"},
                                     {chat_role::assistant, "Bye!"}};
  auto shard = tokenize_conversation(tok, messages);
  REQUIRE(shard.loss_mask.size() == shard.tokens.size());
  std::vector<uint8_t> expected;
  for (const auto& message : messages) {
    const uint8_t learn = message.role == chat_role::assistant;
    expected.push_back(0);
    expected.insert(expected.end(), tok.encode(message.content).size() + 1,
                    learn);
  }
  CHECK(shard.loss_mask == expected);
  // The masked tokens decode to exactly the assistant replies and ends.
  std::vector<int32_t> learned;
  for (size_t i = 0; i < shard.tokens.size(); ++i)
    if (shard.loss_mask[i])
      learned.push_back(shard.tokens[i]);
  CHECK(tok.decode(learned) == "Hello there<|end|>Bye!<|end|>");
}

TEST_CASE("text prep writes train and validation shards", "[unit]") {
  const auto& tok = shakespeare_tokenizer();
  temp_dir dir;
  std::string text;
  for (int i = 0; i < 40; ++i)
    text += "To be, or not to be, that is the question " +
            std::to_string(i) + "\n";
  std::ofstream(dir.file("in.txt"), std::ios::binary) << text;
  split_options options;
  options.val_fraction = 0.25;
  options.context_length = 16;
  auto summary =
      prepare_text(tok, dir.file("in.txt"), dir.file("out"), options);
  auto train = read_shard(dir.file("out/train.bin"));
  auto val = read_shard(dir.file("out/val.bin"));
  CHECK(train.tokens.size() == summary.train_tokens);
  CHECK(val.tokens.size() == summary.val_tokens);
  CHECK(train.loss_mask.empty());
  CHECK(train.vocab_size == tok.vocab_size());
  const size_t total = summary.train_tokens + summary.val_tokens;
  CHECK(summary.val_tokens == (total + 3) / 4);
  auto all = train.tokens;
  all.insert(all.end(), val.tokens.begin(), val.tokens.end());
  CHECK(tok.decode(all) == text);

  // A tiny fraction still leaves one context window for validation.
  options.val_fraction = 0.0;
  summary = prepare_text(tok, dir.file("in.txt"), dir.file("out"), options);
  CHECK(summary.val_tokens == options.context_length + 1);

  options.context_length = 100000;
  CHECK_THROWS_WITH(
      prepare_text(tok, dir.file("in.txt"), dir.file("out"), options),
      Catch::Contains("smaller context"));
}

TEST_CASE("text prep names the line with invalid UTF-8", "[unit]") {
  temp_dir dir;
  std::ofstream(dir.file("bad.txt"), std::ios::binary) << "ok\nbad \xFF\n";
  CHECK_THROWS_WITH(prepare_text(shakespeare_tokenizer(), dir.file("bad.txt"),
                                 dir.file("out"), {}),
                    Catch::Contains("bad.txt':2: text is not valid UTF-8"));
}

TEST_CASE("chat prep splits whole conversations with masks", "[unit]") {
  const auto& tok = shakespeare_tokenizer();
  temp_dir dir;
  synthetic_chat_options gen;
  gen.count = 60;
  auto chats = generate_synthetic_chats(gen);
  {
    std::ofstream out(dir.file("chat.jsonl"));
    for (const auto& chat : chats)
      out << to_jsonl_line(chat) << "\n";
  }
  split_options options;
  options.context_length = 32;
  auto summary =
      prepare_chat(tok, dir.file("chat.jsonl"), dir.file("out"), options);
  CHECK(summary.conversations == 60);
  auto train = read_shard(dir.file("out/train.bin"));
  auto val = read_shard(dir.file("out/val.bin"));
  REQUIRE(train.loss_mask.size() == train.tokens.size());
  REQUIRE(val.loss_mask.size() == val.tokens.size());
  CHECK(val.tokens.size() >= options.context_length + 1);
  // Validation starts on a conversation boundary.
  const auto& s = tok.special_ids();
  CHECK((val.tokens.front() == s.user || val.tokens.front() == s.system));
  // Every conversation, tokenized alone, appears in order.
  std::vector<int32_t> expected;
  for (const auto& chat : chats) {
    auto part = tokenize_conversation(tok, chat);
    expected.insert(expected.end(), part.tokens.begin(), part.tokens.end());
  }
  auto all = train.tokens;
  all.insert(all.end(), val.tokens.begin(), val.tokens.end());
  CHECK(all == expected);
}

TEST_CASE("chat prep reports malformed input with file and line", "[unit]") {
  temp_dir dir;
  std::ofstream(dir.file("bad.jsonl"))
      << R"({"messages":[{"role":"user","content":"a"},)"
         R"({"role":"assistant","content":"b"}]})"
      << "\n"
      << R"({"messages":[{"role":"user","content":"a"}],"extra":1})" << "\n";
  CHECK_THROWS_WITH(prepare_chat(shakespeare_tokenizer(),
                                 dir.file("bad.jsonl"), dir.file("out"), {}),
                    Catch::Contains("bad.jsonl:2: unexpected field"));
}
