#include "storage/audit_log.hpp"

#include "storage/database.hpp"
#include "storage/statement_scope.hpp"

namespace chat::storage {

audit_log_repo::audit_log_repo(SQLite::Database& db)
  : insert_(db, "INSERT INTO audit_log (user_id, key_id, action, target, "
                "status, created_at) VALUES (:user_id, :key_id, :action, "
                ":target, :status, :created_at)"),
    recent_(db, "SELECT id, user_id, key_id, action, target, status, "
                "created_at FROM audit_log ORDER BY id DESC LIMIT :limit") {
}

void audit_log_repo::record(const audit_entry& e) {
  statement_scope s(insert_);
  insert_.bind(":user_id", e.user_id);
  insert_.bind(":key_id", e.key_id);
  insert_.bind(":action", e.action);
  insert_.bind(":target", e.target);
  insert_.bind(":status", e.status);
  insert_.bind(":created_at", e.created_at ? e.created_at : now_seconds());
  insert_.exec();
}

std::vector<audit_entry> audit_log_repo::recent(int limit) {
  statement_scope s(recent_);
  recent_.bind(":limit", limit);
  std::vector<audit_entry> out;
  while (recent_.executeStep()) {
    audit_entry e;
    e.id = recent_.getColumn(0).getInt64();
    e.user_id = recent_.getColumn(1).getString();
    e.key_id = recent_.getColumn(2).getString();
    e.action = recent_.getColumn(3).getString();
    e.target = recent_.getColumn(4).getString();
    e.status = recent_.getColumn(5).getInt();
    e.created_at = recent_.getColumn(6).getInt64();
    out.push_back(std::move(e));
  }
  return out;
}

} // namespace chat::storage
