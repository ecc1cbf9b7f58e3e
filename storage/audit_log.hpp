#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <string>
#include <vector>

namespace chat::storage {

/// One recorded admin action.
struct audit_entry {
  std::int64_t id = 0;
  std::string user_id;
  std::string key_id;
  /// "METHOD /route/pattern".
  std::string action;
  /// Id of the object acted on, if any.
  std::string target;
  /// HTTP status of the answer.
  int status = 0;
  std::int64_t created_at = 0;
};

/// The `audit_log` table: append-only.
class audit_log_repo {
public:
  explicit audit_log_repo(SQLite::Database& db);

  void record(const audit_entry& entry);

  /// The newest `limit` entries, newest first.
  std::vector<audit_entry> recent(int limit);

private:
  SQLite::Statement insert_;
  SQLite::Statement recent_;
};

} // namespace chat::storage
