#include "model/tokenizer/word_coverage.hpp"

#include <catch2/catch.hpp>

using chat::tokenizer::ngram_set;
using chat::tokenizer::words_of;

TEST_CASE("words are runs of letters and apostrophes, lower-cased",
          "[unit]") {
  CHECK(words_of("ROMEO: 'Tis 42+7 = 49, o'er!") ==
        std::vector<std::string>{"romeo", "'tis", "o'er"});
  CHECK(words_of("").empty());
}

TEST_CASE("n-gram sets hold the word runs of the texts added", "[unit]") {
  ngram_set corpus_words(1), corpus_trigrams(3);
  const char* corpus = "ROMEO:\nBut soft! what light through yonder "
                       "window breaks?\nO, 'tis the east.";
  corpus_words.add(corpus);
  corpus_trigrams.add(corpus);
  CHECK(corpus_words.contains("window"));
  CHECK_FALSE(corpus_words.contains("help"));
  CHECK(corpus_trigrams.contains("what light through"));
  // Runs cross punctuation and lines: only words count.
  CHECK(corpus_trigrams.contains("romeo but soft"));
  CHECK(corpus_trigrams.ngrams_of("How can I help?") ==
        std::vector<std::string>{"how can i", "can i help"});
  CHECK(corpus_trigrams.ngrams_of("two words").empty());
}
