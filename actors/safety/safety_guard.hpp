#pragma once

#include "actors/auth.hpp"
#include "actors/safety/abuse_monitor.hpp"
#include "actors/safety/filter_set.hpp"
#include "actors/safety/output_filter.hpp"
#include "config/config.hpp"

#include <caf/actor.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace chat {

struct store_context;

/// The prompt filter and abuse detection of chatd (one per process): the
/// current rule set, the abuse signals, suspensions with their alerts and
/// audit entries, daily token quotas, and the counters /metrics shows.
/// Thread-safe; methods taking a store_context run on the store's thread.
class safety_guard : public std::enable_shared_from_this<safety_guard> {
public:
  explicit safety_guard(const safety_config& cfg);

  /// Compiles the stored rules and makes them the current set (at start
  /// and after every change through /admin/filters).
  void load_rules(store_context& db);

  /// The current rules; a request keeps the set it started with.
  std::shared_ptr<const safety::filter_set> rules() const;

  /// A filter for the reply to a request, on the current rules.
  safety::output_filter make_output_filter() const;

  /// Throws 400 `content_filter` when a rule matches any of `texts`; the
  /// hit is counted, logged (rule id only) and may suspend the key.
  void screen_input(store_context& db, const principal& who,
                    const std::vector<std::string>& texts);

  /// A rule stopped a reply of `who`: counted, logged, may suspend the key
  /// (through `store`).
  void output_blocked(const caf::actor& store, const principal& who,
                      const std::string& rule_id);

  /// Throws 429 `token_quota_exceeded` when the key used its daily tokens.
  void check_quota(store_context& db, const principal& who);

  /// Adds a finished reply's tokens to the key's daily count.
  void record_usage(const caf::actor& store, const std::string& key_id,
                    std::int64_t tokens);

  /// Seconds an address must wait after too many failed authentications.
  std::optional<int> auth_throttled(const std::string& address);
  void auth_failed(const std::string& address);

  /// The key's request was refused by its rate limit.
  void rate_limited(store_context& db, const principal& who);

  /// The key's request was answered with `status` (error ratio).
  void answered(const caf::actor& store, const principal& who, int status);

  /// Suspends the key for `signal` unless it already is: raises an alert
  /// and writes the audit log.
  void suspend(store_context& db, const principal& who,
               const std::string& signal, const std::string& detail);

  /// Prometheus lines: filter hits per rule, suspensions, throttled calls.
  std::string render_metrics() const;

private:
  void count_hit(const std::string& rule_id, safety::direction d);

  safety_config cfg_;
  safety::abuse_monitor monitor_;
  mutable std::mutex mutex_;
  std::shared_ptr<const safety::filter_set> rules_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> hits_;
  std::atomic<std::uint64_t> suspensions_{0};
  std::atomic<std::uint64_t> throttled_{0};
};

} // namespace chat
