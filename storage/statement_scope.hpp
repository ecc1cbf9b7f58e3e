#pragma once

#include <SQLiteCpp/Statement.h>

#include <optional>

namespace chat::storage {

/// Resets a reused prepared statement and clears its bindings when the scope
/// ends, also on exceptions, so the next use starts clean.
class statement_scope {
public:
  explicit statement_scope(SQLite::Statement& st) : st_(st) {
  }
  ~statement_scope() {
    st_.tryReset();
    try {
      st_.clearBindings();
    } catch (...) { // NOLINT: a failed clear only leaves stale bindings that
    }               // the next use overwrites; a destructor must not throw.
  }
  statement_scope(const statement_scope&) = delete;
  statement_scope& operator=(const statement_scope&) = delete;

private:
  SQLite::Statement& st_;
};

/// Binds `value`, or NULL when it is empty.
template <class T>
void bind_optional(SQLite::Statement& st, const char* name,
                   const std::optional<T>& value) {
  if (value)
    st.bind(name, *value);
  else
    st.bind(name);
}

} // namespace chat::storage
