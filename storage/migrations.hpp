#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace chat::storage {

/// One schema step; `version` becomes PRAGMA user_version once applied.
struct migration {
  int version;
  const char* name;
  const char* sql;
};

/// Every migration in `storage/migrations`, ascending by version.
const std::vector<migration>& migrations();

} // namespace chat::storage
