#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace chat::storage {

/// A user of the service.
struct user {
  std::string id;
  std::string name;
  std::int64_t created_at = 0;
};

/// The `users` table.
class users_repo {
public:
  explicit users_repo(SQLite::Database& db);

  /// Inserts a user named `name`; nullopt when the name is taken.
  std::optional<user> create(const std::string& name);

  std::optional<user> find(const std::string& id);

  std::optional<user> find_by_name(const std::string& name);

  /// Every user, newest first.
  std::vector<user> list();

  /// Deletes the user with their keys, sessions and messages.
  /// Returns false when there was no such user.
  bool remove(const std::string& id);

  /// Number of users.
  std::int64_t count();

private:
  SQLite::Database& db_;
  SQLite::Statement insert_;
  SQLite::Statement by_id_;
  SQLite::Statement by_name_;
  SQLite::Statement all_;
  SQLite::Statement delete_;
};

} // namespace chat::storage
