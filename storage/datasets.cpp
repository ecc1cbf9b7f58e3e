#include "storage/datasets.hpp"

#include "storage/statement_scope.hpp"

namespace chat::storage {

namespace {

constexpr const char* columns = "id, name, kind, bytes, sha256, created_at";

dataset read_dataset(SQLite::Statement& st) {
  return {st.getColumn(0).getString(), st.getColumn(1).getString(),
          st.getColumn(2).getString(), st.getColumn(3).getInt64(),
          st.getColumn(4).getString(), st.getColumn(5).getInt64()};
}

} // namespace

std::string dataset_file(const std::string& data_dir, const dataset& d) {
  return data_dir + "/datasets/" + d.id + (d.kind == "chat" ? ".jsonl"
                                                             : ".txt");
}

datasets_repo::datasets_repo(SQLite::Database& db)
  : insert_(db, "INSERT INTO datasets (id, name, kind, bytes, sha256, "
                "created_at) VALUES (:id, :name, :kind, :bytes, :sha256, "
                ":created_at)"),
    by_id_(db, std::string("SELECT ") + columns
                 + " FROM datasets WHERE id = :id"),
    all_(db, std::string("SELECT ") + columns
               + " FROM datasets ORDER BY created_at DESC, rowid DESC"),
    in_use_(db, "SELECT count(*) FROM job_datasets JOIN jobs "
                "ON jobs.id = job_datasets.job_id WHERE dataset_id = :id "
                "AND jobs.status IN ('queued', 'preparing', 'running')"),
    delete_(db, "DELETE FROM datasets WHERE id = :id") {
}

void datasets_repo::insert(const dataset& d) {
  statement_scope s(insert_);
  insert_.bind(":id", d.id);
  insert_.bind(":name", d.name);
  insert_.bind(":kind", d.kind);
  insert_.bind(":bytes", d.bytes);
  insert_.bind(":sha256", d.sha256);
  insert_.bind(":created_at", d.created_at);
  insert_.exec();
}

std::optional<dataset> datasets_repo::find(const std::string& id) {
  statement_scope s(by_id_);
  by_id_.bind(":id", id);
  if (!by_id_.executeStep())
    return std::nullopt;
  return read_dataset(by_id_);
}

std::vector<dataset> datasets_repo::list() {
  statement_scope s(all_);
  std::vector<dataset> out;
  while (all_.executeStep())
    out.push_back(read_dataset(all_));
  return out;
}

bool datasets_repo::in_use(const std::string& id) {
  statement_scope s(in_use_);
  in_use_.bind(":id", id);
  return in_use_.executeStep() && in_use_.getColumn(0).getInt64() > 0;
}

bool datasets_repo::remove(const std::string& id) {
  statement_scope s(delete_);
  delete_.bind(":id", id);
  return delete_.exec() > 0;
}

} // namespace chat::storage
