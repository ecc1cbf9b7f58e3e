#pragma once
// How much of a generated text uses a corpus's words: the default model's
// check that a raw prompt is continued as the pretraining text (Shakespeare)
// rather than as a chat.

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_set>

namespace chat::tokenizer {

/// The distinct words of a corpus. A word is a run of ASCII letters and
/// apostrophes, compared in lower case.
class word_set {
 public:
  explicit word_set(std::string_view corpus);

  /// Words of `text` and how many of them the corpus holds.
  struct coverage {
    std::size_t words = 0;
    std::size_t known = 0;
  };
  coverage measure(std::string_view text) const;

 private:
  std::unordered_set<std::string> words_;
};

} // namespace chat::tokenizer
