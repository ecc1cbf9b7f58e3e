#include "actors/stop_matcher.hpp"

#include <algorithm>

namespace chat {

stop_matcher::stop_matcher(std::vector<std::string> stops)
  : stops_(std::move(stops)) {
}

std::string stop_matcher::push(const std::string& text) {
  if (stopped_)
    return {};
  held_ += text;
  if (stops_.empty()) {
    std::string out;
    out.swap(held_);
    return out;
  }
  auto first = std::string::npos;
  for (const auto& s : stops_)
    first = std::min(first, held_.find(s));
  if (first != std::string::npos) {
    stopped_ = true;
    auto out = held_.substr(0, first);
    held_.clear();
    return out;
  }
  // Keep the longest tail that is a proper prefix of some stop string.
  std::size_t keep = 0;
  for (const auto& s : stops_)
    for (std::size_t n = std::min(s.size() - 1, held_.size()); n > keep; --n)
      if (held_.compare(held_.size() - n, n, s, 0, n) == 0) {
        keep = n;
        break;
      }
  // Never split a UTF-8 character: move the cut back to a lead byte.
  std::size_t cut = held_.size() - keep;
  while (cut > 0 && cut < held_.size()
         && (static_cast<unsigned char>(held_[cut]) & 0xC0) == 0x80)
    --cut;
  auto out = held_.substr(0, cut);
  held_.erase(0, cut);
  return out;
}

std::string stop_matcher::flush() {
  if (stopped_)
    return {};
  std::string out;
  out.swap(held_);
  return out;
}

} // namespace chat
