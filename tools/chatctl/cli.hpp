#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace chat::cli {

/// A failure to report: chatctl prints the message and exits non-zero.
struct cli_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The parsed command line: global options, the words, and --flags.
struct command_line {
  std::string url = "http://127.0.0.1:8080";
  std::string key;
  bool json = false;
  bool help = false;
  std::vector<std::string> words;
  std::map<std::string, std::string> flags;

  /// The flag's value, or `fallback`.
  std::string flag(const std::string& name,
                   const std::string& fallback = "") const;
  /// The n-th word after the command and subcommand, or a usage error.
  const std::string& arg(std::size_t n, const char* what) const;
};

/// Calls chatd's HTTP API with the key; errors become cli_errors carrying
/// the server's message.
class api_client {
public:
  explicit api_client(const command_line& cl);

  /// A JSON call; `body` is sent when not null.
  nlohmann::json call(const std::string& method, const std::string& path,
                      const nlohmann::json& body = nullptr) const;

  /// A call whose raw text answer is returned (e.g. JSONL export).
  std::string call_raw(const std::string& method,
                       const std::string& path) const;

  /// A streamed call: `on_data` gets the body as it arrives.
  void stream(const std::string& method, const std::string& path,
              const nlohmann::json& body,
              const std::function<void(const std::string&)>& on_data) const;

private:
  std::map<std::string, std::string> headers(bool has_body) const;
  std::string call_raw_with_body(const std::string& method,
                                 const std::string& path,
                                 const nlohmann::json& body) const;
  std::string host_;
  std::uint16_t port_ = 80;
  std::string key_;
};

/// Prints rows under a header, columns padded to their widest cell.
void print_table(const std::vector<std::string>& columns,
                 const std::vector<std::vector<std::string>>& rows);

/// A JSON value as a table cell ("" for null, strings unquoted).
std::string cell(const nlohmann::json& value);

/// Prints a list answer's `data` as a table of `fields`, or JSON.
void show_list(const command_line& cl, const nlohmann::json& answer,
               const std::vector<std::string>& fields);

/// Prints an object as `key: value` lines, or JSON.
void show_object(const command_line& cl, const nlohmann::json& answer);

/// The subcommand word ("" when none).
const std::string& subcommand(const command_line& cl);
[[noreturn]] void unknown_subcommand(const command_line& cl);

/// The flag as an integer, none when absent, a usage error otherwise.
std::optional<std::int64_t> int_flag(const command_line& cl,
                                     const std::string& name);

/// Percent-encodes one path segment or query value.
std::string percent_encode(const std::string& text);

/// `chatctl users|keys|sessions|workers ...`.
int users_command(const command_line& cl);
int keys_command(const command_line& cl);
int sessions_command(const command_line& cl);
int workers_command(const command_line& cl);

/// `chatctl filters|alerts ...`: the prompt filter and abuse alerts.
int filters_command(const command_line& cl);
int alerts_command(const command_line& cl);

/// `chatctl chat`: an interactive streaming chat on stdin/stdout.
int chat_command(const command_line& cl);

} // namespace chat::cli
