#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace chat::storage {

/// An uploaded training dataset; its bytes live in a file named by its id.
struct dataset {
  std::string id;
  std::string name;
  /// "text" or "chat".
  std::string kind;
  std::int64_t bytes = 0;
  std::string sha256;
  std::int64_t created_at = 0;
};

/// The file holding a dataset's bytes, under `data_dir`.
std::string dataset_file(const std::string& data_dir, const dataset& d);

/// The `datasets` table.
class datasets_repo {
public:
  explicit datasets_repo(SQLite::Database& db);

  void insert(const dataset& d);

  std::optional<dataset> find(const std::string& id);

  /// Every dataset, newest first.
  std::vector<dataset> list();

  /// True while a job that has not finished refers to the dataset.
  bool in_use(const std::string& id);

  /// Deletes the row; false when there was none.
  bool remove(const std::string& id);

private:
  SQLite::Statement insert_;
  SQLite::Statement by_id_;
  SQLite::Statement all_;
  SQLite::Statement in_use_;
  SQLite::Statement delete_;
};

} // namespace chat::storage
