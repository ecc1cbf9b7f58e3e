#include "model/tokenizer/word_coverage.hpp"

#include <cctype>

namespace chat::tokenizer {

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    const auto c = i < text.size() ? static_cast<unsigned char>(text[i]) : 0;
    if (std::isalpha(c) || c == '\'') {
      word += static_cast<char>(std::tolower(c));
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  return words;
}

std::vector<std::string> ngram_set::ngrams_of(std::string_view text) const {
  const auto words = words_of(text);
  std::vector<std::string> ngrams;
  for (std::size_t i = 0; n_ > 0 && i + n_ <= words.size(); ++i) {
    std::string ngram = words[i];
    for (std::size_t j = i + 1; j < i + n_; ++j)
      ngram += " " + words[j];
    ngrams.push_back(std::move(ngram));
  }
  return ngrams;
}

void ngram_set::add(std::string_view text) {
  for (auto& ngram : ngrams_of(text))
    ngrams_.insert(std::move(ngram));
}

} // namespace chat::tokenizer
