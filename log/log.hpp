#pragma once

#include <sstream>
#include <string>

/// Structured log lines on stderr: one line per event,
/// `<UTC time> <level> <component>: <message> key=value ...`.
namespace chat::log {

enum class level { debug, info, warn, error };

/// Sets the lowest level written ("debug", "info", "warn", "error").
void set_level(const std::string& name);

/// True when lines of `lvl` are written.
bool enabled(level lvl);

/// Writes one line atomically (one write(2) call).
void write(level lvl, const char* component, const std::string& message);

/// Builds a line from `key=value` pairs; values with spaces are quoted.
class line {
public:
  line(level lvl, const char* component, std::string message)
    : lvl_(lvl), component_(component), text_(std::move(message)) {
  }
  line(const line&) = delete;
  line& operator=(const line&) = delete;
  ~line() {
    if (enabled(lvl_))
      write(lvl_, component_, text_);
  }

  template <class T>
  line& kv(const char* key, const T& value) {
    std::ostringstream os;
    os << value;
    append(key, os.str());
    return *this;
  }

private:
  void append(const char* key, const std::string& value);

  level lvl_;
  const char* component_;
  std::string text_;
};

inline line debug(const char* component, std::string message) {
  return line(level::debug, component, std::move(message));
}
inline line info(const char* component, std::string message) {
  return line(level::info, component, std::move(message));
}
inline line warn(const char* component, std::string message) {
  return line(level::warn, component, std::move(message));
}
inline line error(const char* component, std::string message) {
  return line(level::error, component, std::move(message));
}

} // namespace chat::log
