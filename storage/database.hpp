#pragma once

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace chat::storage {

/// A storage failure whose message is safe to log but never shown to clients.
class storage_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Opens (creating if needed) the SQLite file at `path` (":memory:" for tests)
/// with the pragmas the service relies on, then applies pending migrations.
///
/// Durability: WAL with synchronous=FULL, so a transaction that committed
/// (and whose reply was acknowledged) survives a crash or power loss; NORMAL
/// would only survive a process crash.
SQLite::Database open_database(const std::string& path);

/// The schema version now in `db` (PRAGMA user_version).
int schema_version(SQLite::Database& db);

/// Applies every migration newer than the current version, each in its own
/// transaction together with the version bump. Returns how many ran.
int migrate(SQLite::Database& db);

/// Current time in Unix seconds.
std::int64_t now_seconds();

} // namespace chat::storage
