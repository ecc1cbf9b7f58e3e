#include "actors/worker/prompt_lookup.hpp"

#include <algorithm>

namespace chat::worker {

void propose_from_context(const std::vector<std::int32_t>& tokens,
                          const lookup_limits& limits,
                          std::vector<std::int32_t>& draft) {
  draft.clear();
  const auto size = static_cast<std::ptrdiff_t>(tokens.size());
  if (limits.max_draft < 1)
    return;
  for (std::ptrdiff_t n = limits.max_ngram;
       n >= std::max(limits.min_ngram, 1); --n) {
    if (n >= size)
      continue;
    const auto tail = tokens.begin() + (size - n);
    // Latest first: the occurrence ending just before the tail itself.
    for (auto at = size - n - 1; at >= 0; --at) {
      const auto start = tokens.begin() + at;
      if (!std::equal(tail, tokens.end(), start))
        continue;
      // What followed, up to the end; past the end the text repeats with
      // the period it just showed (a loop of `size - from` tokens), so a
      // short loop still fills the draft.
      const auto from = at + n;
      const auto period = size - from;
      for (std::ptrdiff_t i = 0; i < limits.max_draft; ++i)
        draft.push_back(tokens[static_cast<std::size_t>(from + i % period)]);
      return;
    }
  }
}

} // namespace chat::worker
