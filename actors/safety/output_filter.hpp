#pragma once

#include "actors/safety/filter_set.hpp"

#include <memory>
#include <optional>
#include <string>

namespace chat::safety {

/// Applies the output rules to streamed text, in the manner of
/// stop_matcher: each push scans the recent text (the last `window` code
/// points already emitted plus what is held back) in normalised form, so a
/// phrase split across token chunks is caught; the tail that could still
/// grow into a match is held back. Once a rule matches, the held text is
/// dropped and the stream is over.
class output_filter {
public:
  /// `holdback`: code points held back when a regex screens output (a
  /// phrase needs only its own length); `window`: code points of emitted
  /// text scanned again together with new text.
  output_filter(std::shared_ptr<const filter_set> rules, std::size_t holdback,
                std::size_t window);

  /// Feeds new text (whole UTF-8); returns what is safe to emit now.
  std::string push(const std::string& text);

  /// Ends the stream: returns the held-back text (no rule matched).
  std::string flush();

  /// The rule that stopped the stream, once one did.
  const std::optional<std::string>& blocked_by() const {
    return blocked_by_;
  }

private:
  std::shared_ptr<const filter_set> rules_;
  std::size_t holdback_ = 0;
  std::size_t window_ = 0;
  bool active_ = false;
  /// The end of what was emitted (at most window_ code points).
  std::string emitted_tail_;
  std::string held_;
  std::optional<std::string> blocked_by_;
};

/// Byte offset where the last `n` code points of UTF-8 `text` begin.
std::size_t tail_start(const std::string& text, std::size_t n);

} // namespace chat::safety
