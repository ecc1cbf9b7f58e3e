#include "actors/worker/prefix_cache.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace chat::worker {

namespace {

/// How many leading ids `a` and `b` share, at most `limit`.
std::size_t common_prefix(const std::vector<std::int32_t>& a,
                          const std::vector<std::int32_t>& b,
                          std::size_t limit) {
  const auto n = std::min({a.size(), b.size(), limit});
  return static_cast<std::size_t>(
    std::mismatch(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(n),
                  b.begin())
      .first
    - a.begin());
}

/// Whether `a` is `b` or a prefix of it.
bool starts(const std::vector<std::int32_t>& a,
            const std::vector<std::int32_t>& b) {
  return a.size() <= b.size() && std::equal(a.begin(), a.end(), b.begin());
}

} // namespace

prefix_cache::prefix_cache(model::kv_cache& cache, std::int64_t layers,
                           bool enabled)
  : cache_(cache), layers_(layers), enabled_(enabled) {
}

prefix_cache::claim
prefix_cache::acquire(const std::vector<std::int32_t>& prompt) {
  const auto limit = prompt.empty() ? 0 : prompt.size() - 1;
  std::size_t best = npos;
  std::size_t best_length = 0;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const auto n = common_prefix(entries_[i].tokens, prompt, limit);
    if (n > best_length) {
      best = i;
      best_length = n;
    }
  }
  if (best == npos)
    return {free_slot(npos), 0};
  const auto reused = static_cast<std::int64_t>(best_length);
  if (best_length == entries_[best].tokens.size()) {
    // The prompt extends the whole kept sequence: its slot goes on as is.
    const auto slot = entries_[best].slot;
    entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(best));
    return {slot, reused};
  }
  const auto source_slot = entries_[best].slot;
  const auto slot = free_slot(best);
  // free_slot spared the source but may have moved it: find it by slot.
  auto& source = *std::find_if(
    entries_.begin(), entries_.end(),
    [&](const entry& e) { return e.slot == source_slot; });
  copy_prefix(source_slot, slot, reused);
  source.last_used = ++clock_;
  return {slot, reused};
}

void prefix_cache::keep(std::int64_t slot, std::vector<std::int32_t> tokens) {
  auto length = cache_.length(slot);
  if (static_cast<std::int64_t>(tokens.size()) < length) {
    cache_.truncate(slot, static_cast<std::int64_t>(tokens.size()));
    length = static_cast<std::int64_t>(tokens.size());
  }
  tokens.resize(static_cast<std::size_t>(length));
  if (!enabled_ || tokens.empty()) {
    cache_.release(slot);
    return;
  }
  for (auto i = entries_.begin(); i != entries_.end();) {
    if (starts(tokens, i->tokens)) {
      i->last_used = ++clock_;
      cache_.release(slot);
      return;
    }
    if (starts(i->tokens, tokens)) {
      cache_.release(i->slot);
      i = entries_.erase(i);
    } else {
      ++i;
    }
  }
  entries_.push_back({slot, std::move(tokens), ++clock_});
}

void prefix_cache::release(std::int64_t slot) {
  cache_.release(slot);
}

void prefix_cache::clear() {
  for (const auto& e : entries_)
    cache_.release(e.slot);
  entries_.clear();
}

void prefix_cache::copy_prefix(std::int64_t from, std::int64_t to,
                               std::int64_t length) {
  for (std::int64_t l = 0; l < layers_; ++l)
    for (auto* kv : {&cache_.keys(l), &cache_.values(l)})  // (S, nh, L, hs)
      (*kv)[to].narrow(1, 0, length).copy_(
        (*kv)[from].narrow(1, 0, length));  // (nh, length, hs)
  cache_.advance(to, length);
}

std::int64_t prefix_cache::free_slot(std::size_t spared) {
  if (cache_.free_slots() == 0) {
    std::size_t oldest = npos;
    for (std::size_t i = 0; i < entries_.size(); ++i)
      if (i != spared
          && (oldest == npos
              || entries_[i].last_used < entries_[oldest].last_used))
        oldest = i;
    if (oldest != npos) {
      cache_.release(entries_[oldest].slot);
      entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(oldest));
    }
  }
  return cache_.acquire();
}

} // namespace chat::worker
