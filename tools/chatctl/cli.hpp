#pragma once

#include "http/client.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
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

/// The server answered with an error status (its message is the what()).
struct http_error : cli_error {
  http_error(int status, const std::string& message)
    : cli_error(message), status(status) {}
  int status;
};

/// The parsed command line: global options, the words, and --flags.
struct command_line {
  std::string url = "http://127.0.0.1:8080";
  std::string key;
  /// PEM CA certificates that an https:// chatd's certificate must chain
  /// to; empty: the system's store.
  std::string ca_file;
  bool json = false;
  bool help = false;
  std::vector<std::string> words;
  /// Every --flag in order; a repeated flag keeps each value.
  std::multimap<std::string, std::string> flags;

  /// The flag's last value, or `fallback`.
  std::string flag(const std::string& name,
                   const std::string& fallback = "") const;
  /// Every value of a repeatable flag, in command-line order.
  std::vector<std::string> values(const std::string& name) const;
  /// Whether the flag (or switch) was given.
  bool has(const std::string& name) const;
  /// The n-th word after the command and subcommand, or a usage error.
  const std::string& arg(std::size_t n, const char* what) const;
};

/// Flags that take no value (`--auto-activate`, `--watch`); every other
/// --flag does.
extern const std::vector<std::string> switches;

/// Parses chatctl's arguments (without the program name); the URL and key
/// default to `env_url` and `env_key` (CHATCTL_URL, CHATCTL_KEY) when set.
command_line parse_command_line(const std::vector<std::string>& args,
                                const char* env_url, const char* env_key);

/// The flag as an integer, none when absent, a usage error when malformed.
std::optional<std::int64_t> int_flag(const command_line& cl,
                                     const std::string& name);
/// The flag as a finite number, none when absent, a usage error otherwise.
std::optional<double> number_flag(const command_line& cl,
                                  const std::string& name);

/// A usage error unless every flag given is one of `known`.
void reject_unknown_flags(const command_line& cl,
                          const std::vector<std::string>& known);

/// The subcommand word ("" when none).
const std::string& subcommand(const command_line& cl);
/// A usage error naming the subcommand the command does not know.
[[noreturn]] void unknown_subcommand(const command_line& cl);

/// Percent-encodes one path segment or query value.
std::string percent_encode(const std::string& text);

/// Calls chatd's HTTP API with the key; errors become cli_errors carrying
/// the server's message (http_errors when the server answered).
class api_client {
public:
  explicit api_client(const command_line& cl);

  /// A JSON call; `body` is sent when not null.
  nlohmann::json call(const std::string& method, const std::string& path,
                      const nlohmann::json& body = nullptr,
                      std::chrono::milliseconds timeout
                      = std::chrono::seconds(30)) const;

  /// A call whose raw text answer is returned (e.g. JSONL export).
  std::string call_raw(const std::string& method,
                       const std::string& path) const;

  /// A JSON call whose body is the file at `file`, streamed.
  nlohmann::json upload(const std::string& path, const std::string& file,
                        const std::string& content_type,
                        std::chrono::milliseconds timeout) const;

  /// A streamed call: `on_data` gets the body as it arrives; `body` is
  /// sent when not null.
  void stream(const std::string& method, const std::string& path,
              const nlohmann::json& body,
              const std::function<void(const std::string&)>& on_data) const;

private:
  std::map<std::string, std::string> headers(bool has_body) const;
  http::endpoint endpoint_;
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

/// Prints an object as `key: value` lines (nested objects as `a.b: value`,
/// arrays of objects left out), or JSON.
void show_object(const command_line& cl, const nlohmann::json& answer);

/// `chatctl users|keys|sessions|workers ...`.
int users_command(const command_line& cl);
int keys_command(const command_line& cl);
int sessions_command(const command_line& cl);
int workers_command(const command_line& cl);

/// `chatctl datasets|jobs|models ...`.
int datasets_command(const command_line& cl);
int jobs_command(const command_line& cl);
int models_command(const command_line& cl);
/// `chatctl filters|alerts ...`: the prompt filter and abuse alerts.
int filters_command(const command_line& cl);
int alerts_command(const command_line& cl);

/// `chatctl chat`: an interactive streaming chat on stdin/stdout.
int chat_command(const command_line& cl);

} // namespace chat::cli
