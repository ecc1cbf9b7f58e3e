#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace chat::storage {

/// A stored chat session (server-side memory), owned by one user.
struct session {
  std::string id;
  std::string user_id;
  std::string title;
  std::string system_prompt;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::int64_t message_count = 0;
};

/// One stored message of a session.
struct message {
  std::string id;
  std::string role;
  std::string content;
  std::int64_t tokens = 0;
  std::optional<std::string> finish_reason;
  std::int64_t created_at = 0;
};

/// A user turn and the assistant's reply, stored together. Message ids are
/// chosen by the caller (new_id("msg")) so they can be announced before the
/// reply is stored.
struct exchange {
  std::string user_message_id;
  std::string reply_message_id;
  std::string user_content;
  std::int64_t user_tokens = 0;
  std::string reply_content;
  std::int64_t reply_tokens = 0;
  std::string finish_reason;
};

/// An exchange for a new user turn: fresh ids for both messages, the
/// reply still empty.
exchange new_exchange(std::string user_content, std::int64_t user_tokens);

/// A page of a list.
template <class T>
struct page {
  std::vector<T> items;
  bool has_more = false;
};

/// The `sessions` and `messages` tables. Every read and write is scoped to
/// the owning user, so another user's session behaves as a missing one.
class sessions_repo {
public:
  explicit sessions_repo(SQLite::Database& db);

  session create(const std::string& user_id, const std::string& title,
                 const std::string& system_prompt);

  std::optional<session> find(const std::string& user_id,
                              const std::string& id);

  /// The user's sessions, newest first; `before` is the id of the last
  /// session of the previous page.
  page<session> list(const std::string& user_id, int limit,
                     const std::optional<std::string>& before = {});

  /// Changes title and/or system prompt; nullopt when not found.
  std::optional<session> update(const std::string& user_id,
                                const std::string& id,
                                const std::optional<std::string>& title,
                                const std::optional<std::string>& system_prompt);

  /// Deletes the session and its messages; false when not found.
  bool remove(const std::string& user_id, const std::string& id);

  /// Appends a user turn and its reply in one transaction; false when the
  /// session is gone (deleted meanwhile).
  bool append_exchange(const std::string& user_id, const std::string& id,
                       const exchange& ex);

  /// Any user's session (admin access).
  std::optional<session> find_any(const std::string& id);

  /// Sessions of every user, or of `user_id` when set, newest first (admin
  /// access); `before` as in list().
  page<session> list_all(const std::optional<std::string>& user_id, int limit,
                         const std::optional<std::string>& before = {});

  /// Deletes any user's session; false when not found (admin access).
  bool remove_any(const std::string& id);

  /// Messages of a session in order.
  std::vector<message> messages(const std::string& session_id);

private:
  SQLite::Database& db_;
  SQLite::Statement insert_;
  SQLite::Statement by_id_;
  SQLite::Statement list_first_;
  SQLite::Statement list_before_;
  SQLite::Statement update_;
  SQLite::Statement delete_;
  SQLite::Statement insert_message_;
  SQLite::Statement touch_;
  SQLite::Statement messages_;
  SQLite::Statement by_id_any_;
  SQLite::Statement all_first_;
  SQLite::Statement all_before_;
  SQLite::Statement delete_any_;
};

} // namespace chat::storage
