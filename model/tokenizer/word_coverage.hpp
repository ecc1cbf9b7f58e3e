#pragma once
// Which words and word runs a generated text shares with reference texts:
// the default model's check that a raw prompt is continued as the
// pretraining text (Shakespeare) rather than as a chat.

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace chat::tokenizer {

/// The words of `text`: runs of ASCII letters and apostrophes, lower-cased.
std::vector<std::string> words_of(std::string_view text);

/// A set of n-grams: runs of n consecutive words, joined by one space.
class ngram_set {
 public:
  explicit ngram_set(std::size_t n) : n_(n) {}

  /// The n-grams of `text`, in order, repeats kept.
  std::vector<std::string> ngrams_of(std::string_view text) const;
  /// Adds the n-grams of `text`.
  void add(std::string_view text);
  bool contains(const std::string& ngram) const {
    return ngrams_.count(ngram) > 0;
  }

 private:
  std::size_t n_;
  std::unordered_set<std::string> ngrams_;
};

} // namespace chat::tokenizer
