#include "actors/safety/output_filter.hpp"

#include "actors/safety/text_normalizer.hpp"

namespace chat::safety {

std::size_t tail_start(const std::string& text, std::size_t n) {
  std::size_t pos = text.size();
  while (pos > 0 && n > 0) {
    --pos;
    if ((static_cast<unsigned char>(text[pos]) & 0xC0) != 0x80)
      --n;
  }
  return pos;
}

output_filter::output_filter(std::shared_ptr<const filter_set> rules,
                             std::size_t holdback, std::size_t window)
  : rules_(std::move(rules)), window_(window) {
  active_ = rules_ && rules_->screens(direction::output);
  if (active_) {
    auto phrase = rules_->longest_phrase(direction::output);
    holdback_ = phrase > 0 ? phrase - 1 : 0;
    if (rules_->has_regex(direction::output))
      holdback_ = std::max(holdback_, holdback);
    window_ = std::max(window_, holdback_ + 1);
  }
}

std::string output_filter::push(const std::string& text) {
  if (blocked_by_)
    return {};
  if (!active_)
    return text;
  held_ += text;
  if (auto rule = rules_->match(normalize(emitted_tail_ + held_),
                                direction::output)) {
    blocked_by_ = std::move(rule);
    held_.clear();
    return {};
  }
  auto cut = tail_start(held_, holdback_);
  auto out = held_.substr(0, cut);
  held_.erase(0, cut);
  emitted_tail_ += out;
  emitted_tail_.erase(0, tail_start(emitted_tail_, window_));
  return out;
}

std::string output_filter::flush() {
  if (blocked_by_)
    return {};
  std::string out;
  out.swap(held_);
  return out;
}

} // namespace chat::safety
