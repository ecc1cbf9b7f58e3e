#include "storage/database.hpp"

#include "storage/migrations.hpp"

#include <SQLiteCpp/Transaction.h>

#include <chrono>

namespace chat::storage {

SQLite::Database open_database(const std::string& path) {
  try {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE
                                | SQLite::OPEN_FULLMUTEX);
    db.setBusyTimeout(5000);
    db.exec("PRAGMA journal_mode=WAL");
    db.exec("PRAGMA synchronous=FULL");
    db.exec("PRAGMA foreign_keys=ON");
    migrate(db);
    return db;
  } catch (const SQLite::Exception& e) {
    throw storage_error("database '" + path + "': " + e.what());
  }
}

int schema_version(SQLite::Database& db) {
  return db.execAndGet("PRAGMA user_version").getInt();
}

int migrate(SQLite::Database& db) {
  int applied = 0;
  for (const auto& m : migrations()) {
    // Checked inside the write lock so two processes never apply one step twice.
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    if (schema_version(db) >= m.version)
      continue;
    try {
      db.exec(m.sql);
    } catch (const SQLite::Exception& e) {
      throw storage_error("migration " + std::string(m.name) + ": " + e.what());
    }
    db.exec("PRAGMA user_version = " + std::to_string(m.version));
    tx.commit();
    ++applied;
  }
  return applied;
}

std::int64_t now_seconds() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

} // namespace chat::storage
