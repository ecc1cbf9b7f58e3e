#pragma once

#include "config/config.hpp"

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace chat {

/// A configuration problem; the message names the key (or flag, or
/// variable) and what is wrong with its value.
class config_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Where settings come from, lowest precedence first after the defaults.
struct config_sources {
  /// Contents of the JSON config file, or empty for none.
  std::string json_text;
  /// Name of the JSON file, for error messages.
  std::string json_name = "config";
  /// Environment variables (only CHATD_* ones are read).
  std::map<std::string, std::string> env;
  /// Command-line flags already split from argv (without the program name).
  std::vector<std::string> args;
};

/// Builds the configuration from defaults and `sources`.
/// @throws config_error on unknown keys, bad values or malformed input.
config load_config(const config_sources& sources);

/// Reads `--config FILE` from `argv` and the process environment, then calls
/// `load_config`.
/// @throws config_error as above, also when the file cannot be read.
config load_config_from_process(int argc, char** argv);

/// The effective configuration as JSON text (for `--print-config`).
std::string config_to_json(const config& cfg);

/// Help text listing every key with its flag, variable and default.
std::string config_help();

/// Splits "HOST:PORT" ("[::1]:80" for IPv6).
/// @throws config_error naming `key` when malformed.
std::pair<std::string, std::uint16_t> parse_host_port(const std::string& key,
                                                      const std::string& value);

} // namespace chat
