#include "model/tokenizer/word_coverage.hpp"

#include <catch2/catch.hpp>

using chat::tokenizer::word_set;

TEST_CASE("word coverage counts the words a corpus holds, ignoring case",
          "[unit]") {
  const word_set corpus("ROMEO:\nBut soft! what light through yonder "
                        "window breaks?\nO, 'tis the east.");
  auto shakespeare = corpus.measure("Romeo: what LIGHT breaks, O east!");
  CHECK(shakespeare.words == 6);
  CHECK(shakespeare.known == 6);
  auto chat = corpus.measure("Hello! How can I help you with the window?");
  CHECK(chat.words == 9);
  CHECK(chat.known == 2);  // "the", "window"
  CHECK(corpus.measure("'tis 42 + 7 = 49.").words == 1);
  CHECK(corpus.measure("").words == 0);
}
