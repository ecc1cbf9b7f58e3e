#include "storage/users.hpp"

#include "storage/database.hpp"
#include "storage/ids.hpp"
#include "storage/statement_scope.hpp"

namespace chat::storage {

namespace {

user read_user(SQLite::Statement& st) {
  return {st.getColumn(0).getString(), st.getColumn(1).getString(),
          st.getColumn(2).getInt64()};
}

} // namespace

users_repo::users_repo(SQLite::Database& db)
  : db_(db),
    insert_(db, "INSERT INTO users (id, name, created_at) "
                "VALUES (:id, :name, :created_at) "
                "ON CONFLICT (name) DO NOTHING"),
    by_id_(db, "SELECT id, name, created_at FROM users WHERE id = :id"),
    by_name_(db, "SELECT id, name, created_at FROM users WHERE name = :name"),
    all_(db, "SELECT id, name, created_at FROM users "
             "ORDER BY created_at DESC, rowid DESC"),
    delete_(db, "DELETE FROM users WHERE id = :id") {
}

std::optional<user> users_repo::create(const std::string& name) {
  user u{new_id("user"), name, now_seconds()};
  statement_scope s(insert_);
  insert_.bind(":id", u.id);
  insert_.bind(":name", u.name);
  insert_.bind(":created_at", u.created_at);
  if (insert_.exec() == 0)
    return std::nullopt;
  return u;
}

std::optional<user> users_repo::find(const std::string& id) {
  statement_scope s(by_id_);
  by_id_.bind(":id", id);
  if (!by_id_.executeStep())
    return std::nullopt;
  return read_user(by_id_);
}

std::optional<user> users_repo::find_by_name(const std::string& name) {
  statement_scope s(by_name_);
  by_name_.bind(":name", name);
  if (!by_name_.executeStep())
    return std::nullopt;
  return read_user(by_name_);
}

std::vector<user> users_repo::list() {
  statement_scope s(all_);
  std::vector<user> out;
  while (all_.executeStep())
    out.push_back(read_user(all_));
  return out;
}

bool users_repo::remove(const std::string& id) {
  statement_scope s(delete_);
  delete_.bind(":id", id);
  return delete_.exec() > 0;
}

std::int64_t users_repo::count() {
  return db_.execAndGet("SELECT count(*) FROM users").getInt64();
}

} // namespace chat::storage
