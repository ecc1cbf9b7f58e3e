#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace chat::storage {

/// An API key as stored: never the secret, only its hash and a prefix.
struct api_key {
  std::string id;
  std::string user_id;
  std::string name;
  std::string prefix;
  std::vector<std::string> scopes;
  std::optional<std::int64_t> rate_limit_rpm;
  std::optional<std::int64_t> max_streams;
  std::int64_t created_at = 0;
  std::optional<std::int64_t> expires_at;
  std::optional<std::int64_t> revoked_at;
  /// Set while the key is suspended for abuse (until an admin lifts it).
  std::optional<std::int64_t> suspended_at;
  std::string suspended_reason;
  /// Most tokens (prompt and completion) the key may use per UTC day.
  std::optional<std::int64_t> token_quota_daily;

  bool has_scope(const std::string& scope) const;
};

/// What a caller asks for when creating a key.
struct api_key_spec {
  std::string user_id;
  std::vector<std::string> scopes;
  std::string name;
  std::optional<std::int64_t> rate_limit_rpm;
  std::optional<std::int64_t> max_streams;
  std::optional<std::int64_t> expires_at;
  std::optional<std::int64_t> token_quota_daily = {};
};

/// A freshly created key together with its secret, which exists only here.
struct created_api_key {
  api_key key;
  std::string secret;
};

/// The `api_keys` table.
class api_keys_repo {
public:
  explicit api_keys_repo(SQLite::Database& db);

  /// Creates a key with a new random secret.
  created_api_key create(const api_key_spec& spec);

  /// The key whose secret is `secret` (revoked and expired ones included:
  /// the caller decides), comparing hashes in constant time.
  std::optional<api_key> find_by_secret(const std::string& secret);

  std::optional<api_key> find(const std::string& id);

  /// Every key, newest first; only those of `user_id` when it is set.
  std::vector<api_key> list(const std::optional<std::string>& user_id = {});

  /// Marks the key revoked now. Returns false when there was no such key or
  /// it was already revoked.
  bool revoke(const std::string& id);

  /// Suspends the key now for `reason`. Returns false when there was no
  /// such key or it was already suspended.
  bool suspend(const std::string& id, const std::string& reason);

  /// Lifts a suspension. Returns false when the key was not suspended.
  bool lift_suspension(const std::string& id);

private:
  SQLite::Statement insert_;
  SQLite::Statement by_prefix_;
  SQLite::Statement by_id_;
  SQLite::Statement all_;
  SQLite::Statement by_user_;
  SQLite::Statement revoke_;
  SQLite::Statement suspend_;
  SQLite::Statement lift_;
};

} // namespace chat::storage
