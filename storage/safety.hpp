#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace chat::storage {

/// An operator's prompt filter rule as stored.
struct filter_rule {
  std::string id;
  /// "phrase" (literal) or "regex" (RE2 syntax).
  std::string kind;
  std::string pattern;
  /// "input", "output" or "both".
  std::string applies_to;
  std::int64_t created_at = 0;
};

/// A threshold a key crossed (it was suspended for it).
struct abuse_alert {
  std::int64_t id = 0;
  std::string key_id;
  std::string user_id;
  /// Which signal: "filter_hits", "rate_limit_hits", ...
  std::string signal;
  std::string detail;
  std::int64_t created_at = 0;
  std::optional<std::int64_t> lifted_at;
};

/// The tables of the safety features: filter_rules, key_token_usage and
/// abuse_alerts (key suspension itself lives in api_keys).
class safety_repo {
public:
  explicit safety_repo(SQLite::Database& db);

  /// Stores a new rule (its id is made here) and returns it.
  filter_rule add_rule(const std::string& kind, const std::string& pattern,
                       const std::string& applies_to);
  /// Every rule, oldest first.
  std::vector<filter_rule> rules();
  /// False when there was no such rule.
  bool remove_rule(const std::string& id);

  /// Adds `tokens` to the key's count for `day` (days since the epoch, UTC).
  void add_tokens(const std::string& key_id, std::int64_t day,
                  std::int64_t tokens);
  /// Tokens the key used on `day`.
  std::int64_t tokens_used(const std::string& key_id, std::int64_t day);

  /// Records an alert and returns its id.
  std::int64_t raise_alert(const std::string& key_id,
                           const std::string& user_id,
                           const std::string& signal,
                           const std::string& detail);
  /// Alerts, newest first: only open ones unless `include_lifted`.
  std::vector<abuse_alert> alerts(bool include_lifted, int limit);
  /// Closes the key's open alerts; returns how many.
  int lift_alerts(const std::string& key_id);

private:
  SQLite::Database& db_;
  SQLite::Statement insert_rule_;
  SQLite::Statement all_rules_;
  SQLite::Statement delete_rule_;
  SQLite::Statement add_tokens_;
  SQLite::Statement tokens_used_;
  SQLite::Statement insert_alert_;
  SQLite::Statement open_alerts_;
  SQLite::Statement all_alerts_;
  SQLite::Statement lift_alerts_;
};

/// Days since the epoch (UTC) of Unix time `t`.
std::int64_t utc_day(std::int64_t t);

} // namespace chat::storage
