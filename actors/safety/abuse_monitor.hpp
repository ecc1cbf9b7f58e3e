#pragma once

#include "config/config.hpp"

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace chat::safety {

/// Events within a sliding time window.
class sliding_window {
public:
  using clock = std::chrono::steady_clock;

  /// Records one event at `now`; returns the events within `span`.
  std::size_t add(clock::time_point now, clock::duration span);
  /// Events within `span` before `now`.
  std::size_t count(clock::time_point now, clock::duration span);
  /// When the oldest event within `span` leaves it.
  std::optional<clock::time_point> oldest_expires(clock::duration span) const;
  bool empty() const {
    return events_.empty();
  }

private:
  void drop_old(clock::time_point now, clock::duration span);
  std::deque<clock::time_point> events_;
};

/// The abuse signals that chatd tracks in memory (safety config), per key
/// and per client address. Each `note_*` says whether its threshold is now
/// crossed; suspending is the caller's job. Thread-safe.
class abuse_monitor {
public:
  using clock = sliding_window::clock;

  explicit abuse_monitor(const safety_config& limits);

  /// A filter rule matched a request of `key_id`.
  bool note_filter_hit(const std::string& key_id,
                       clock::time_point now = clock::now());

  /// A request of `key_id` was refused by its rate limit.
  bool note_rate_limited(const std::string& key_id,
                         clock::time_point now = clock::now());

  /// A request of `key_id` was answered with `status`.
  bool note_answer(const std::string& key_id, int status,
                   clock::time_point now = clock::now());

  /// A request from `address` presented a key that failed.
  void note_auth_failure(const std::string& address,
                         clock::time_point now = clock::now());

  /// Seconds `address` must wait (for Retry-After) while it has failed too
  /// often; nullopt when it may try.
  std::optional<int> auth_throttled(const std::string& address,
                                    clock::time_point now = clock::now());

private:
  struct answers {
    sliding_window all;
    sliding_window errors;
  };
  /// Forgets idle entries once a map grows past this many.
  static constexpr std::size_t prune_above = 10000;
  template <class Map>
  void prune(Map& map, clock::time_point now, clock::duration span);

  safety_config limits_;
  std::mutex mutex_;
  std::map<std::string, sliding_window> filter_hits_;
  std::map<std::string, sliding_window> rate_limited_;
  std::map<std::string, answers> answers_;
  std::map<std::string, sliding_window> auth_failures_;
};

} // namespace chat::safety
