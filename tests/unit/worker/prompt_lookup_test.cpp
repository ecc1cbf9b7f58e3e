#include "actors/worker/prompt_lookup.hpp"

#include <catch2/catch.hpp>

using chat::worker::lookup_limits;
using chat::worker::propose_from_context;
using tokens = std::vector<std::int32_t>;

namespace {

tokens draft_for(const tokens& sequence, lookup_limits limits = {}) {
  tokens draft{99};  // stale contents must not survive
  propose_from_context(sequence, limits, draft);
  return draft;
}

} // namespace

TEST_CASE("a draft continues the latest earlier occurrence of the tail",
          "[unit]") {
  // The tail (7, 8) occurs at 1 and at 5; the later one's continuation wins.
  CHECK(draft_for({1, 7, 8, 2, 3, 7, 8, 4, 5, 6, 0, 7, 8})
        == tokens{4, 5, 6, 0});
  CHECK(draft_for({7, 8, 1, 2, 7, 8}, {3, 2, 1}) == tokens{1});
}

TEST_CASE("a longer recurring tail wins over a later shorter one", "[unit]") {
  // (6, 7, 8) recurs at 0; (7, 8) alone recurs later, at 5.
  CHECK(draft_for({6, 7, 8, 1, 2, 7, 8, 3, 6, 7, 8}) == tokens{1, 2, 7, 8});
}

TEST_CASE("a draft that reaches the sequence's end goes round the loop it "
          "closed",
          "[unit]") {
  // The tail (1, 2) occurred just before: a loop of 2 tokens.
  CHECK(draft_for({1, 2, 1, 2}) == tokens{1, 2, 1, 2});
  // A loop of 3 tokens, (3, 1, 2), drafted 8 long.
  CHECK(draft_for({5, 1, 2, 3, 1, 2}, {2, 2, 8})
        == tokens{3, 1, 2, 3, 1, 2, 3, 1});
  // The same token over and over.
  CHECK(draft_for({4, 7, 7, 7}, {3, 2, 3}) == tokens{7, 7, 7});
}

TEST_CASE("no draft without a recurring tail of at least min_ngram tokens",
          "[unit]") {
  CHECK(draft_for({}).empty());
  CHECK(draft_for({4}).empty());
  CHECK(draft_for({1, 2, 3, 4, 5}).empty());
  // Only the last token recurs: below min_ngram 2, enough with 1.
  CHECK(draft_for({3, 9, 1, 2, 9}).empty());
  CHECK(draft_for({3, 9, 1, 2, 9}, {3, 1, 4}) == tokens{1, 2, 9, 1});
  CHECK(draft_for({1, 2, 1, 2}, {3, 2, 0}).empty());
}
