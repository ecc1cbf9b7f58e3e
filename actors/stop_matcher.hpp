#pragma once

#include <string>
#include <vector>

namespace chat {

/// Applies stop strings to streamed text: text that could still become a
/// stop string is held back; once one appears, everything from it on is
/// dropped and the stream is over.
class stop_matcher {
public:
  explicit stop_matcher(std::vector<std::string> stops);

  /// Feeds new text; returns what is safe to emit now.
  std::string push(const std::string& text);

  /// Ends the stream: returns the held-back text (no stop string matched).
  std::string flush();

  /// True once a stop string was seen.
  bool stopped() const {
    return stopped_;
  }

private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

} // namespace chat
