#pragma once

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <optional>
#include <string>

namespace chat::storage {

/// On a database without users, creates the `admin` user with a key of
/// scopes chat+admin, writes its secret to `<data_dir>/admin.key` (mode
/// 0600) and returns the secret so the caller can show it once. Returns
/// nullopt when users already exist (nothing changes then).
std::optional<std::string> bootstrap_admin(SQLite::Database& db,
                                           const std::string& data_dir);

} // namespace chat::storage
