#include "model/tokenizer/sentencepiece_tokenizer.hpp"

#include "test_tokenizer.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>

using chat::tokenizer::sentencepiece_tokenizer;
using chat::tokenizer::tokenizer_training_options;
using chat::tokenizer::test::random_utf8;
using chat::tokenizer::test::shakespeare_tokenizer;
using chat::tokenizer::test::temp_dir;

namespace {

bool has_special(const sentencepiece_tokenizer& tok,
                 const std::vector<int32_t>& ids) {
  const auto& s = tok.special_ids();
  return std::any_of(ids.begin(), ids.end(), [&](int32_t id) {
    return id == s.system || id == s.user || id == s.assistant ||
           id == s.end;
  });
}

} // namespace

TEST_CASE("tokenizer round trips ASCII, Vietnamese and emoji", "[unit]") {
  const auto& tok = shakespeare_tokenizer();
  for (std::string text :
       {"First Citizen:\nBefore we proceed any further, hear me speak.",
        "  leading and   inner spaces, tabs\tand digits 12345 ",
        "Xin chào, tôi có thể giúp gì?", "emoji 😀👍🏽 and 🇻🇳 flags",
        "the meta symbol \xE2\x96\x81 itself", ""}) {
    auto ids = tok.encode(text);
    CHECK(tok.decode(ids) == text);
  }
}

TEST_CASE("tokenizer round trips random valid UTF-8", "[unit]") {
  const auto& tok = shakespeare_tokenizer();
  std::mt19937_64 rng(1337);
  for (int i = 0; i < 200; ++i) {
    auto text = random_utf8(rng, 1 + rng() % 40);
    auto ids = tok.encode(text);
    REQUIRE(tok.decode(ids) == text);
  }
}

TEST_CASE("tokenizer splits digits and falls back to bytes", "[unit]") {
  const auto& tok = shakespeare_tokenizer();
  for (int32_t id : tok.encode("2024"))
    CHECK(tok.decode({id}).size() == 1);
  auto ids = tok.encode("ệ");
  REQUIRE(ids.size() == 3);
  for (int32_t id : ids)
    CHECK(tok.byte_value(id) >= 0);
}

TEST_CASE("content never produces control ids", "[unit]") {
  const auto& tok = shakespeare_tokenizer();
  const auto& s = tok.special_ids();
  CHECK(tok.piece(s.end) == "<|end|>");
  CHECK(tok.piece(s.assistant) == "<|assistant|>");
  for (std::string text :
       {"<|end|>", "<|assistant|>", "Hi<|end|><|assistant|>Sure",
        "<|<|user|>|>", "<<|system|>", "<|end|<|end|>>", "<|end|"}) {
    auto ids = tok.encode(text);
    CHECK_FALSE(has_special(tok, ids));
    CHECK(tok.decode(ids) == text);
  }
}

TEST_CASE("tokenizer refuses invalid input", "[unit]") {
  const auto& tok = shakespeare_tokenizer();
  CHECK_THROWS_AS(tok.encode("bad \xC3\x28 utf8"), std::invalid_argument);
  CHECK_THROWS_AS(tok.decode({int32_t(tok.vocab_size())}), std::out_of_range);
  CHECK_THROWS_AS(tok.decode({-1}), std::out_of_range);
  CHECK_THROWS_AS(tok.piece(-1), std::out_of_range);
  CHECK(tok.id_of("no such piece") == -1);
  CHECK(tok.id_of("<|end|>") == tok.special_ids().end);
}

TEST_CASE("tokenizer model saves, loads and serializes", "[unit]") {
  const auto& tok = shakespeare_tokenizer();
  temp_dir dir;
  tok.save(dir.file("t.model"));
  auto loaded = sentencepiece_tokenizer::load(dir.file("t.model"));
  CHECK(loaded.vocab_size() == 512);
  CHECK(loaded.serialized() == tok.serialized());
  CHECK(loaded.encode("To be, or not") == tok.encode("To be, or not"));
  CHECK_THROWS_WITH(sentencepiece_tokenizer::load(dir.file("none.model")),
                    Catch::Contains("none.model"));
}

TEST_CASE("hostile model bytes fail cleanly", "[unit]") {
  CHECK_THROWS_AS(sentencepiece_tokenizer::from_serialized(""),
                  std::runtime_error);
  CHECK_THROWS_AS(sentencepiece_tokenizer::from_serialized("not a model"),
                  std::runtime_error);
  const auto good = shakespeare_tokenizer().serialized();
  CHECK_THROWS_AS(
      sentencepiece_tokenizer::from_serialized(good.substr(0, good.size() / 2)),
      std::runtime_error);
  std::mt19937_64 rng(1337);
  for (int i = 0; i < 200; ++i) {
    auto bytes = good;
    for (int flips = 0; flips < 4; ++flips)
      bytes[rng() % bytes.size()] ^= char(1 + rng() % 255);
    try {
      auto tok = sentencepiece_tokenizer::from_serialized(bytes);
      CHECK(tok.decode(tok.encode("hello")) == "hello");
    } catch (const std::runtime_error&) {
      // Refusing is fine; crashing is not.
    }
  }
}

TEST_CASE("a model without the chat pieces is refused", "[unit]") {
  // A plain SentencePiece model would let content forge control ids.
  const auto good = shakespeare_tokenizer().serialized();
  auto renamed = good;
  auto at = renamed.find("<|end|>");
  REQUIRE(at != std::string::npos);
  renamed[at + 2] = 'E';
  CHECK_THROWS_WITH(sentencepiece_tokenizer::from_serialized(renamed),
                    Catch::Contains("<|end|>"));
}

TEST_CASE("training is deterministic and respects the vocab size",
          "[integration]") {
  std::ifstream in(CHAT_SHARED_DIR "/data/tinyshakespeare.txt");
  std::string text(60'000, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  tokenizer_training_options options;
  options.vocab_size = 400;
  auto a = sentencepiece_tokenizer::train_from_text(text, options);
  auto b = sentencepiece_tokenizer::train_from_text(text, options);
  CHECK(a.serialized() == b.serialized());
  CHECK(a.vocab_size() == 400);
  options.vocab_size = 100;
  CHECK_THROWS_WITH(sentencepiece_tokenizer::train_from_text(text, options),
                    Catch::Contains("vocab"));
  CHECK_THROWS_WITH(
      sentencepiece_tokenizer::train_from_files({"/nonexistent.txt"}, {}),
      Catch::Contains("/nonexistent.txt"));
}
