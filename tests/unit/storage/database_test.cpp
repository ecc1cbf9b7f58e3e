#include "storage/bootstrap.hpp"
#include "storage/database.hpp"
#include "storage/migrations.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace chat::storage;

namespace {

struct temp_dir {
  fs::path path;
  temp_dir() {
    path = fs::temp_directory_path()
           / ("chat-storage-" + std::to_string(::getpid()) + "-"
              + std::to_string(reinterpret_cast<uintptr_t>(this)));
    fs::create_directories(path);
  }
  ~temp_dir() {
    fs::remove_all(path);
  }
};

} // namespace

TEST_CASE("migrations apply from empty and re-running changes nothing",
          "[unit]") {
  auto db = open_database(":memory:");
  const int latest = migrations().back().version;
  CHECK(schema_version(db) == latest);
  CHECK(migrate(db) == 0);
  CHECK(schema_version(db) == latest);
  for (const char* table : {"users", "api_keys", "sessions", "messages"})
    CHECK(db.tableExists(table));
}

TEST_CASE("migrations are numbered in ascending order without gaps", "[unit]") {
  int expected = 1;
  for (const auto& m : migrations())
    CHECK(m.version == expected++);
}

TEST_CASE("a file database reopens at the same version with WAL and "
          "foreign keys on",
          "[unit]") {
  temp_dir dir;
  auto file = (dir.path / "chat.db").string();
  { auto db = open_database(file); }
  auto db = open_database(file);
  CHECK(schema_version(db) == migrations().back().version);
  CHECK(db.execAndGet("PRAGMA journal_mode").getString() == "wal");
  CHECK(db.execAndGet("PRAGMA foreign_keys").getInt() == 1);
  CHECK(db.execAndGet("PRAGMA synchronous").getInt() == 2);
}

TEST_CASE("a database from the future or not a database is refused",
          "[unit]") {
  temp_dir dir;
  auto file = (dir.path / "junk.db").string();
  std::ofstream(file) << "this is not an SQLite file, not at all, no sir";
  CHECK_THROWS_AS(open_database(file), storage_error);
}

TEST_CASE("bootstrap creates one admin key file with mode 0600, once",
          "[unit]") {
  temp_dir dir;
  auto db = open_database(":memory:");
  auto secret = bootstrap_admin(db, dir.path.string());
  REQUIRE(secret);
  CHECK(secret->size() >= 32);
  auto key_file = dir.path / "admin.key";
  std::ifstream in(key_file);
  std::string stored;
  in >> stored;
  CHECK(stored == *secret);
  struct stat st {};
  REQUIRE(::stat(key_file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK_FALSE(bootstrap_admin(db, dir.path.string()));
  // Only a hash is stored.
  SQLite::Statement all(db, "SELECT * FROM api_keys");
  while (all.executeStep())
    for (int c = 0; c < all.getColumnCount(); ++c)
      CHECK(all.getColumn(c).getString().find(*secret) == std::string::npos);
}

TEST_CASE("bootstrap into an unwritable directory leaves no user behind",
          "[unit]") {
  auto db = open_database(":memory:");
  CHECK_THROWS_AS(bootstrap_admin(db, "/nonexistent/dir"), storage_error);
  CHECK(db.execAndGet("SELECT count(*) FROM users").getInt() == 0);
}
