#include "model/tokenizer/word_coverage.hpp"

#include <cctype>

namespace chat::tokenizer {

namespace {

bool word_char(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '\'';
}

/// Calls `f` with each word of `text`, lower-cased.
template <typename F>
void for_each_word(std::string_view text, F&& f) {
  std::string word;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && word_char(text[i])) {
      word += static_cast<char>(
          std::tolower(static_cast<unsigned char>(text[i])));
    } else if (!word.empty()) {
      f(word);
      word.clear();
    }
  }
}

} // namespace

word_set::word_set(std::string_view corpus) {
  for_each_word(corpus, [&](const std::string& w) { words_.insert(w); });
}

word_set::coverage word_set::measure(std::string_view text) const {
  coverage c;
  for_each_word(text, [&](const std::string& w) {
    ++c.words;
    c.known += words_.count(w);
  });
  return c;
}

} // namespace chat::tokenizer
