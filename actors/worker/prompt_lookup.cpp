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
      const auto from = at + n;
      const auto count = std::min<std::ptrdiff_t>(limits.max_draft,
                                                   size - from);
      draft.assign(tokens.begin() + from, tokens.begin() + from + count);
      return;
    }
  }
}

} // namespace chat::worker
