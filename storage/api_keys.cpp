#include "storage/api_keys.hpp"

#include "storage/database.hpp"
#include "storage/ids.hpp"
#include "storage/statement_scope.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <sstream>

namespace chat::storage {

namespace {

constexpr const char* columns
  = "id, user_id, name, prefix, scopes, rate_limit_rpm, max_streams, "
    "created_at, expires_at, revoked_at, suspended_at, suspended_reason, "
    "token_quota_daily";
/// Index of secret_hash after `columns` in by_prefix_.
constexpr int hash_column = 13;

std::optional<std::int64_t> optional_int(const SQLite::Column& c) {
  if (c.isNull())
    return std::nullopt;
  return c.getInt64();
}

std::string join_scopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes)
    out += (out.empty() ? "" : " ") + s;
  return out;
}

std::vector<std::string> split_scopes(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string s;
  while (in >> s)
    out.push_back(s);
  return out;
}

api_key read_key(SQLite::Statement& st) {
  api_key k;
  k.id = st.getColumn(0).getString();
  k.user_id = st.getColumn(1).getString();
  k.name = st.getColumn(2).getString();
  k.prefix = st.getColumn(3).getString();
  k.scopes = split_scopes(st.getColumn(4).getString());
  k.rate_limit_rpm = optional_int(st.getColumn(5));
  k.max_streams = optional_int(st.getColumn(6));
  k.created_at = st.getColumn(7).getInt64();
  k.expires_at = optional_int(st.getColumn(8));
  k.revoked_at = optional_int(st.getColumn(9));
  k.suspended_at = optional_int(st.getColumn(10));
  k.suspended_reason = st.getColumn(11).isNull() ? ""
                                                  : st.getColumn(11).getString();
  k.token_quota_daily = optional_int(st.getColumn(12));
  return k;
}

std::vector<api_key> read_all(SQLite::Statement& st) {
  std::vector<api_key> out;
  while (st.executeStep())
    out.push_back(read_key(st));
  return out;
}

} // namespace

bool api_key::has_scope(const std::string& scope) const {
  return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
}

api_keys_repo::api_keys_repo(SQLite::Database& db)
  : insert_(db,
            "INSERT INTO api_keys (id, user_id, name, prefix, secret_hash, "
            "scopes, rate_limit_rpm, max_streams, created_at, expires_at, "
            "token_quota_daily) VALUES (:id, :user_id, :name, :prefix, "
            ":hash, :scopes, :rpm, :max_streams, :created_at, :expires_at, "
            ":quota)"),
    by_prefix_(db, std::string("SELECT ") + columns
                     + ", secret_hash FROM api_keys WHERE prefix = :prefix"),
    by_id_(db,
           std::string("SELECT ") + columns + " FROM api_keys WHERE id = :id"),
    all_(db, std::string("SELECT ") + columns
               + " FROM api_keys ORDER BY created_at DESC, rowid DESC"),
    by_user_(db, std::string("SELECT ") + columns
                   + " FROM api_keys WHERE user_id = :user_id "
                     "ORDER BY created_at DESC, rowid DESC"),
    revoke_(db, "UPDATE api_keys SET revoked_at = :now "
                "WHERE id = :id AND revoked_at IS NULL"),
    suspend_(db, "UPDATE api_keys SET suspended_at = :now, "
                 "suspended_reason = :reason "
                 "WHERE id = :id AND suspended_at IS NULL"),
    lift_(db, "UPDATE api_keys SET suspended_at = NULL, "
              "suspended_reason = NULL "
              "WHERE id = :id AND suspended_at IS NOT NULL") {
}

created_api_key api_keys_repo::create(const api_key_spec& spec) {
  created_api_key out;
  out.secret = new_api_key_secret();
  auto& k = out.key;
  k.id = new_id("key");
  k.user_id = spec.user_id;
  k.name = spec.name;
  k.prefix = api_key_prefix(out.secret);
  k.scopes = spec.scopes;
  k.rate_limit_rpm = spec.rate_limit_rpm;
  k.max_streams = spec.max_streams;
  k.created_at = now_seconds();
  k.expires_at = spec.expires_at;
  k.token_quota_daily = spec.token_quota_daily;
  auto hash = sha256(out.secret);
  statement_scope s(insert_);
  insert_.bind(":id", k.id);
  insert_.bind(":user_id", k.user_id);
  insert_.bind(":name", k.name);
  insert_.bind(":prefix", k.prefix);
  insert_.bind(":hash", hash.data(), static_cast<int>(hash.size()));
  insert_.bind(":scopes", join_scopes(k.scopes));
  bind_optional(insert_, ":rpm", k.rate_limit_rpm);
  bind_optional(insert_, ":max_streams", k.max_streams);
  insert_.bind(":created_at", k.created_at);
  bind_optional(insert_, ":expires_at", k.expires_at);
  bind_optional(insert_, ":quota", k.token_quota_daily);
  insert_.exec();
  return out;
}

std::optional<api_key> api_keys_repo::find_by_secret(const std::string& secret) {
  auto hash = sha256(secret);
  statement_scope s(by_prefix_);
  by_prefix_.bind(":prefix", api_key_prefix(secret));
  while (by_prefix_.executeStep()) {
    auto stored = by_prefix_.getColumn(hash_column);
    if (stored.getBytes() == static_cast<int>(hash.size())
        && CRYPTO_memcmp(stored.getBlob(), hash.data(), hash.size()) == 0)
      return read_key(by_prefix_);
  }
  return std::nullopt;
}

std::optional<api_key> api_keys_repo::find(const std::string& id) {
  statement_scope s(by_id_);
  by_id_.bind(":id", id);
  if (!by_id_.executeStep())
    return std::nullopt;
  return read_key(by_id_);
}

std::vector<api_key>
api_keys_repo::list(const std::optional<std::string>& user_id) {
  if (!user_id) {
    statement_scope s(all_);
    return read_all(all_);
  }
  statement_scope s(by_user_);
  by_user_.bind(":user_id", *user_id);
  return read_all(by_user_);
}

bool api_keys_repo::revoke(const std::string& id) {
  statement_scope s(revoke_);
  revoke_.bind(":now", now_seconds());
  revoke_.bind(":id", id);
  return revoke_.exec() > 0;
}

bool api_keys_repo::suspend(const std::string& id, const std::string& reason) {
  statement_scope s(suspend_);
  suspend_.bind(":now", now_seconds());
  suspend_.bind(":reason", reason);
  suspend_.bind(":id", id);
  return suspend_.exec() > 0;
}

bool api_keys_repo::lift_suspension(const std::string& id) {
  statement_scope s(lift_);
  lift_.bind(":id", id);
  return lift_.exec() > 0;
}

} // namespace chat::storage
