#include "log/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <unistd.h>

namespace chat::log {

namespace {

std::atomic<int> min_level{static_cast<int>(level::info)};

const char* level_name(level lvl) {
  switch (lvl) {
    case level::debug:
      return "DEBUG";
    case level::info:
      return "INFO";
    case level::warn:
      return "WARN";
    case level::error:
      return "ERROR";
  }
  return "?";
}

} // namespace

void set_level(const std::string& name) {
  level lvl = level::info;
  if (name == "debug")
    lvl = level::debug;
  else if (name == "warn")
    lvl = level::warn;
  else if (name == "error")
    lvl = level::error;
  min_level = static_cast<int>(lvl);
}

bool enabled(level lvl) {
  return static_cast<int>(lvl) >= min_level.load(std::memory_order_relaxed);
}

void write(level lvl, const char* component, const std::string& message) {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char stamp[48];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                utc.tm_min, utc.tm_sec, static_cast<int>(ms));
  std::string out;
  out.reserve(message.size() + 64);
  out.append(stamp).append(" ").append(level_name(lvl)).append(" ");
  out.append(component).append(": ").append(message).append("\n");
  // One write(2) keeps lines from several threads and processes whole.
  auto rc = ::write(STDERR_FILENO, out.data(), out.size());
  (void) rc;
}

void line::append(const char* key, const std::string& value) {
  text_.append(" ").append(key).append("=");
  bool quote = value.empty() || value.find_first_of(" \"=") != std::string::npos;
  if (!quote) {
    text_.append(value);
    return;
  }
  text_.push_back('"');
  for (char ch : value) {
    if (ch == '"' || ch == '\\')
      text_.push_back('\\');
    text_.push_back(ch == '\n' ? ' ' : ch);
  }
  text_.push_back('"');
}

} // namespace chat::log
