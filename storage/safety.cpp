#include "storage/safety.hpp"

#include "storage/database.hpp"
#include "storage/ids.hpp"
#include "storage/statement_scope.hpp"

namespace chat::storage {

namespace {

constexpr const char* alert_columns
  = "SELECT id, key_id, user_id, signal, detail, created_at, lifted_at "
    "FROM abuse_alerts ";

std::vector<abuse_alert> read_alerts(SQLite::Statement& st) {
  std::vector<abuse_alert> out;
  while (st.executeStep()) {
    abuse_alert a;
    a.id = st.getColumn(0).getInt64();
    a.key_id = st.getColumn(1).getString();
    a.user_id = st.getColumn(2).getString();
    a.signal = st.getColumn(3).getString();
    a.detail = st.getColumn(4).getString();
    a.created_at = st.getColumn(5).getInt64();
    if (!st.getColumn(6).isNull())
      a.lifted_at = st.getColumn(6).getInt64();
    out.push_back(std::move(a));
  }
  return out;
}

} // namespace

std::int64_t utc_day(std::int64_t t) {
  return t / 86400;
}

safety_repo::safety_repo(SQLite::Database& db)
  : db_(db),
    insert_rule_(db, "INSERT INTO filter_rules (id, kind, pattern, "
                     "applies_to, created_at) VALUES (:id, :kind, :pattern, "
                     ":applies_to, :created_at)"),
    all_rules_(db, "SELECT id, kind, pattern, applies_to, created_at "
                   "FROM filter_rules ORDER BY created_at, rowid"),
    delete_rule_(db, "DELETE FROM filter_rules WHERE id = :id"),
    add_tokens_(db, "INSERT INTO key_token_usage (key_id, day, tokens) "
                    "VALUES (:key_id, :day, :tokens) "
                    "ON CONFLICT (key_id, day) "
                    "DO UPDATE SET tokens = tokens + excluded.tokens"),
    tokens_used_(db, "SELECT tokens FROM key_token_usage "
                     "WHERE key_id = :key_id AND day = :day"),
    insert_alert_(db, "INSERT INTO abuse_alerts (key_id, user_id, signal, "
                      "detail, created_at) VALUES (:key_id, :user_id, "
                      ":signal, :detail, :now)"),
    open_alerts_(db, std::string(alert_columns)
                       + "WHERE lifted_at IS NULL ORDER BY id DESC "
                         "LIMIT :limit"),
    all_alerts_(db,
                std::string(alert_columns) + "ORDER BY id DESC LIMIT :limit"),
    lift_alerts_(db, "UPDATE abuse_alerts SET lifted_at = :now "
                     "WHERE key_id = :key_id AND lifted_at IS NULL") {
}

filter_rule safety_repo::add_rule(const std::string& kind,
                                  const std::string& pattern,
                                  const std::string& applies_to) {
  filter_rule r{new_id("flt"), kind, pattern, applies_to, now_seconds()};
  statement_scope s(insert_rule_);
  insert_rule_.bind(":id", r.id);
  insert_rule_.bind(":kind", r.kind);
  insert_rule_.bind(":pattern", r.pattern);
  insert_rule_.bind(":applies_to", r.applies_to);
  insert_rule_.bind(":created_at", r.created_at);
  insert_rule_.exec();
  return r;
}

std::vector<filter_rule> safety_repo::rules() {
  statement_scope s(all_rules_);
  std::vector<filter_rule> out;
  while (all_rules_.executeStep())
    out.push_back({all_rules_.getColumn(0).getString(),
                   all_rules_.getColumn(1).getString(),
                   all_rules_.getColumn(2).getString(),
                   all_rules_.getColumn(3).getString(),
                   all_rules_.getColumn(4).getInt64()});
  return out;
}

bool safety_repo::remove_rule(const std::string& id) {
  statement_scope s(delete_rule_);
  delete_rule_.bind(":id", id);
  return delete_rule_.exec() > 0;
}

void safety_repo::add_tokens(const std::string& key_id, std::int64_t day,
                             std::int64_t tokens) {
  statement_scope s(add_tokens_);
  add_tokens_.bind(":key_id", key_id);
  add_tokens_.bind(":day", day);
  add_tokens_.bind(":tokens", tokens);
  add_tokens_.exec();
}

std::int64_t safety_repo::tokens_used(const std::string& key_id,
                                      std::int64_t day) {
  statement_scope s(tokens_used_);
  tokens_used_.bind(":key_id", key_id);
  tokens_used_.bind(":day", day);
  return tokens_used_.executeStep() ? tokens_used_.getColumn(0).getInt64() : 0;
}

std::int64_t safety_repo::raise_alert(const std::string& key_id,
                                      const std::string& user_id,
                                      const std::string& signal,
                                      const std::string& detail) {
  statement_scope s(insert_alert_);
  insert_alert_.bind(":key_id", key_id);
  insert_alert_.bind(":user_id", user_id);
  insert_alert_.bind(":signal", signal);
  insert_alert_.bind(":detail", detail);
  insert_alert_.bind(":now", now_seconds());
  insert_alert_.exec();
  return db_.getLastInsertRowid();
}

std::vector<abuse_alert> safety_repo::alerts(bool include_lifted, int limit) {
  auto& st = include_lifted ? all_alerts_ : open_alerts_;
  statement_scope s(st);
  st.bind(":limit", limit);
  return read_alerts(st);
}

int safety_repo::lift_alerts(const std::string& key_id) {
  statement_scope s(lift_alerts_);
  lift_alerts_.bind(":now", now_seconds());
  lift_alerts_.bind(":key_id", key_id);
  return lift_alerts_.exec();
}

} // namespace chat::storage
