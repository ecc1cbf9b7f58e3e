#pragma once
// Draft tokens for speculative decoding, looked up in the sequence itself
// ("prompt lookup"): text that quotes its context (code edits, summaries,
// answers that repeat the question, lists) goes on as it went before.

#include <cstdint>
#include <vector>

namespace chat::worker {

/// How far a lookup reaches.
struct lookup_limits {
  /// The longest and shortest tail that must recur; longer tails are
  /// tried first, as their continuations are likelier to hold.
  int max_ngram = 3;
  int min_ngram = 2;
  /// Most tokens drafted.
  int max_draft = 4;
};

/// Finds the latest earlier occurrence of the last n tokens of `tokens`
/// (n from max_ngram down to min_ngram) and writes the max_draft tokens
/// that followed it into `draft`, repeating them when they reach the end
/// (the tail then closes a loop); leaves `draft` empty when no tail
/// recurs. Linear in the sequence for each n.
void propose_from_context(const std::vector<std::int32_t>& tokens,
                          const lookup_limits& limits,
                          std::vector<std::int32_t>& draft);

} // namespace chat::worker
