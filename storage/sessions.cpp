#include "storage/sessions.hpp"

#include "storage/database.hpp"
#include "storage/ids.hpp"
#include "storage/statement_scope.hpp"

#include <SQLiteCpp/Transaction.h>

namespace chat::storage {

namespace {

constexpr const char* session_columns
  = "id, user_id, title, system_prompt, created_at, updated_at, message_count";

session read_session(SQLite::Statement& st) {
  return {st.getColumn(0).getString(), st.getColumn(1).getString(),
          st.getColumn(2).getString(), st.getColumn(3).getString(),
          st.getColumn(4).getInt64(),  st.getColumn(5).getInt64(),
          st.getColumn(6).getInt64()};
}

std::string select_sessions(const char* where) {
  return std::string("SELECT ") + session_columns + " FROM sessions WHERE "
         + where + " ORDER BY created_at DESC, rowid DESC LIMIT :limit";
}

} // namespace

sessions_repo::sessions_repo(SQLite::Database& db)
  : db_(db),
    insert_(db, "INSERT INTO sessions (id, user_id, title, system_prompt, "
                "created_at, updated_at) VALUES (:id, :user_id, :title, "
                ":system_prompt, :now, :now)"),
    by_id_(db, std::string("SELECT ") + session_columns
                 + " FROM sessions WHERE id = :id AND user_id = :user_id"),
    list_first_(db, select_sessions("user_id = :user_id")),
    list_before_(db, select_sessions(
                       "user_id = :user_id AND (created_at, rowid) < "
                       "(SELECT created_at, rowid FROM sessions "
                       "WHERE id = :before AND user_id = :user_id)")),
    update_(db, "UPDATE sessions SET title = coalesce(:title, title), "
                "system_prompt = coalesce(:system_prompt, system_prompt), "
                "updated_at = :now WHERE id = :id AND user_id = :user_id"),
    delete_(db, "DELETE FROM sessions WHERE id = :id AND user_id = :user_id"),
    insert_message_(db, "INSERT INTO messages (id, session_id, seq, role, "
                        "content, tokens, finish_reason, created_at) VALUES "
                        "(:id, :session_id, (SELECT coalesce(max(seq), 0) + 1 "
                        "FROM messages WHERE session_id = :session_id), :role, "
                        ":content, :tokens, :finish_reason, :now)"),
    touch_(db, "UPDATE sessions SET updated_at = :now, "
               "message_count = message_count + :added "
               "WHERE id = :id AND user_id = :user_id"),
    messages_(db, "SELECT id, role, content, tokens, finish_reason, created_at "
                  "FROM messages WHERE session_id = :session_id ORDER BY seq"),
    by_id_any_(db, std::string("SELECT ") + session_columns
                     + " FROM sessions WHERE id = :id"),
    all_first_(db, select_sessions("(:user_id IS NULL OR user_id = :user_id)")),
    all_before_(db, select_sessions(
                      "(:user_id IS NULL OR user_id = :user_id) AND "
                      "(created_at, rowid) < (SELECT created_at, rowid FROM "
                      "sessions WHERE id = :before)")),
    delete_any_(db, "DELETE FROM sessions WHERE id = :id") {
}

exchange new_exchange(std::string user_content, std::int64_t user_tokens) {
  exchange ex;
  ex.user_message_id = new_id("msg");
  ex.reply_message_id = new_id("msg");
  ex.user_content = std::move(user_content);
  ex.user_tokens = user_tokens;
  return ex;
}

session sessions_repo::create(const std::string& user_id,
                              const std::string& title,
                              const std::string& system_prompt) {
  session s{new_id("sess"), user_id, title, system_prompt, now_seconds(), 0, 0};
  s.updated_at = s.created_at;
  statement_scope scope(insert_);
  insert_.bind(":id", s.id);
  insert_.bind(":user_id", user_id);
  insert_.bind(":title", title);
  insert_.bind(":system_prompt", system_prompt);
  insert_.bind(":now", s.created_at);
  insert_.exec();
  return s;
}

std::optional<session> sessions_repo::find(const std::string& user_id,
                                           const std::string& id) {
  statement_scope scope(by_id_);
  by_id_.bind(":id", id);
  by_id_.bind(":user_id", user_id);
  if (!by_id_.executeStep())
    return std::nullopt;
  return read_session(by_id_);
}

namespace {

/// Runs a prepared page query (bindings done) for `limit` + 1 rows.
page<session> read_page(SQLite::Statement& st, int limit) {
  st.bind(":limit", limit + 1);
  page<session> out;
  while (st.executeStep())
    out.items.push_back(read_session(st));
  if (static_cast<int>(out.items.size()) > limit) {
    out.items.pop_back();
    out.has_more = true;
  }
  return out;
}

} // namespace

page<session> sessions_repo::list(const std::string& user_id, int limit,
                                  const std::optional<std::string>& before) {
  auto& st = before ? list_before_ : list_first_;
  statement_scope scope(st);
  st.bind(":user_id", user_id);
  if (before)
    st.bind(":before", *before);
  return read_page(st, limit);
}

page<session>
sessions_repo::list_all(const std::optional<std::string>& user_id, int limit,
                        const std::optional<std::string>& before) {
  auto& st = before ? all_before_ : all_first_;
  statement_scope scope(st);
  if (user_id)
    st.bind(":user_id", *user_id);
  if (before)
    st.bind(":before", *before);
  return read_page(st, limit);
}

std::optional<session> sessions_repo::find_any(const std::string& id) {
  statement_scope scope(by_id_any_);
  by_id_any_.bind(":id", id);
  if (!by_id_any_.executeStep())
    return std::nullopt;
  return read_session(by_id_any_);
}

bool sessions_repo::remove_any(const std::string& id) {
  statement_scope scope(delete_any_);
  delete_any_.bind(":id", id);
  return delete_any_.exec() > 0;
}

std::optional<session>
sessions_repo::update(const std::string& user_id, const std::string& id,
                      const std::optional<std::string>& title,
                      const std::optional<std::string>& system_prompt) {
  {
    statement_scope scope(update_);
    if (title)
      update_.bind(":title", *title);
    if (system_prompt)
      update_.bind(":system_prompt", *system_prompt);
    update_.bind(":now", now_seconds());
    update_.bind(":id", id);
    update_.bind(":user_id", user_id);
    if (update_.exec() == 0)
      return std::nullopt;
  }
  return find(user_id, id);
}

bool sessions_repo::remove(const std::string& user_id, const std::string& id) {
  statement_scope scope(delete_);
  delete_.bind(":id", id);
  delete_.bind(":user_id", user_id);
  return delete_.exec() > 0;
}

bool sessions_repo::append_exchange(const std::string& user_id,
                                    const std::string& id, const exchange& ex) {
  SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
  auto now = now_seconds();
  {
    statement_scope scope(touch_);
    touch_.bind(":now", now);
    touch_.bind(":added", 2);
    touch_.bind(":id", id);
    touch_.bind(":user_id", user_id);
    if (touch_.exec() == 0)
      return false;
  }
  auto insert = [&](const std::string& msg_id, const char* role,
                    const std::string& content, std::int64_t tokens,
                    const char* finish_reason) {
    statement_scope scope(insert_message_);
    insert_message_.bind(":id", msg_id);
    insert_message_.bind(":session_id", id);
    insert_message_.bind(":role", role);
    insert_message_.bind(":content", content);
    insert_message_.bind(":tokens", tokens);
    if (finish_reason)
      insert_message_.bind(":finish_reason", finish_reason);
    insert_message_.bind(":now", now);
    insert_message_.exec();
  };
  insert(ex.user_message_id, "user", ex.user_content, ex.user_tokens, nullptr);
  insert(ex.reply_message_id, "assistant", ex.reply_content, ex.reply_tokens,
         ex.finish_reason.c_str());
  tx.commit();
  return true;
}

std::vector<message> sessions_repo::messages(const std::string& session_id) {
  statement_scope scope(messages_);
  messages_.bind(":session_id", session_id);
  std::vector<message> out;
  while (messages_.executeStep()) {
    message m;
    m.id = messages_.getColumn(0).getString();
    m.role = messages_.getColumn(1).getString();
    m.content = messages_.getColumn(2).getString();
    m.tokens = messages_.getColumn(3).getInt64();
    if (!messages_.getColumn(4).isNull())
      m.finish_reason = messages_.getColumn(4).getString();
    m.created_at = messages_.getColumn(5).getInt64();
    out.push_back(std::move(m));
  }
  return out;
}

} // namespace chat::storage
