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

TEST_CASE("a draft may run into the tail itself and stops at the sequence's "
          "end",
          "[unit]") {
  // A loop: the tail (1, 2) occurred just before, so its continuation is
  // the tail again.
  CHECK(draft_for({1, 2, 1, 2}) == tokens{1, 2});
  CHECK(draft_for({5, 1, 2, 3, 1, 2}, {2, 2, 8}) == tokens{3, 1, 2});
}

TEST_CASE("no draft without a recurring tail of at least min_ngram tokens",
          "[unit]") {
  CHECK(draft_for({}).empty());
  CHECK(draft_for({4}).empty());
  CHECK(draft_for({1, 2, 3, 4, 5}).empty());
  // Only the last token recurs: below min_ngram 2, enough with 1.
  CHECK(draft_for({3, 9, 1, 2, 9}).empty());
  CHECK(draft_for({3, 9, 1, 2, 9}, {3, 1, 4}) == tokens{1, 2, 9});
  CHECK(draft_for({1, 2, 1, 2}, {3, 2, 0}).empty());
}
