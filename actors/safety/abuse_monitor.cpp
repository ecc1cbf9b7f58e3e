#include "actors/safety/abuse_monitor.hpp"

#include <algorithm>

namespace chat::safety {

namespace {

std::chrono::seconds seconds(int s) {
  return std::chrono::seconds(s);
}

} // namespace

void sliding_window::drop_old(clock::time_point now, clock::duration span) {
  while (!events_.empty() && events_.front() <= now - span)
    events_.pop_front();
}

std::size_t sliding_window::add(clock::time_point now, clock::duration span) {
  drop_old(now, span);
  events_.push_back(now);
  return events_.size();
}

std::size_t sliding_window::count(clock::time_point now,
                                  clock::duration span) {
  drop_old(now, span);
  return events_.size();
}

std::optional<sliding_window::clock::time_point>
sliding_window::oldest_expires(clock::duration span) const {
  if (events_.empty())
    return std::nullopt;
  return events_.front() + span;
}

abuse_monitor::abuse_monitor(const safety_config& limits) : limits_(limits) {
}

template <class Map>
void abuse_monitor::prune(Map& map, clock::time_point now,
                          clock::duration span) {
  if (map.size() <= prune_above)
    return;
  for (auto it = map.begin(); it != map.end();) {
    sliding_window* w;
    if constexpr (std::is_same_v<typename Map::mapped_type, answers>)
      w = &it->second.all;
    else
      w = &it->second;
    it = w->count(now, span) == 0 ? map.erase(it) : std::next(it);
  }
}

bool abuse_monitor::note_filter_hit(const std::string& key_id,
                                    clock::time_point now) {
  if (limits_.filter_hits_threshold <= 0)
    return false;
  auto span = seconds(limits_.filter_hits_window_s);
  std::lock_guard<std::mutex> guard(mutex_);
  prune(filter_hits_, now, span);
  return filter_hits_[key_id].add(now, span)
         >= static_cast<std::size_t>(limits_.filter_hits_threshold);
}

bool abuse_monitor::note_rate_limited(const std::string& key_id,
                                      clock::time_point now) {
  if (limits_.rate_limit_hits_threshold <= 0)
    return false;
  auto span = seconds(limits_.rate_limit_hits_window_s);
  std::lock_guard<std::mutex> guard(mutex_);
  prune(rate_limited_, now, span);
  return rate_limited_[key_id].add(now, span)
         >= static_cast<std::size_t>(limits_.rate_limit_hits_threshold);
}

bool abuse_monitor::note_answer(const std::string& key_id, int status,
                                clock::time_point now) {
  // Server failures (5xx, e.g. a worker that died) are not the client's
  // doing: they neither count against a key nor for it.
  if (limits_.error_ratio_percent <= 0 || status >= 500)
    return false;
  auto span = seconds(limits_.error_window_s);
  std::lock_guard<std::mutex> guard(mutex_);
  prune(answers_, now, span);
  auto& a = answers_[key_id];
  auto total = a.all.add(now, span);
  auto errors = status >= 400 ? a.errors.add(now, span)
                              : a.errors.count(now, span);
  return total >= static_cast<std::size_t>(limits_.error_min_requests)
         && errors * 100 >= total * static_cast<std::size_t>(
                                       limits_.error_ratio_percent);
}

void abuse_monitor::note_auth_failure(const std::string& address,
                                      clock::time_point now) {
  if (limits_.auth_failures_per_address <= 0)
    return;
  auto span = seconds(limits_.auth_failures_window_s);
  std::lock_guard<std::mutex> guard(mutex_);
  prune(auth_failures_, now, span);
  auth_failures_[address].add(now, span);
}

std::optional<int> abuse_monitor::auth_throttled(const std::string& address,
                                                 clock::time_point now) {
  if (limits_.auth_failures_per_address <= 0)
    return std::nullopt;
  auto span = seconds(limits_.auth_failures_window_s);
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = auth_failures_.find(address);
  if (it == auth_failures_.end()
      || it->second.count(now, span)
           < static_cast<std::size_t>(limits_.auth_failures_per_address))
    return std::nullopt;
  auto wait = std::chrono::ceil<std::chrono::seconds>(
    *it->second.oldest_expires(span) - now);
  return std::max<int>(1, static_cast<int>(wait.count()));
}

} // namespace chat::safety
