#pragma once
// The settings of `chatctl bench`, read from the command line.

#include "http/client.hpp"
#include "tools/chatctl/cli.hpp"

#include <cstdint>
#include <string>

namespace chat::cli {

/// A server base URL taken apart: where to connect and the path of its
/// OpenAI API (always ending in "/v1").
struct base_url {
  http::endpoint to;
  std::string api_path;
};

/// Reads http://HOST[:PORT][/PATH] or https://...; "/v1" is appended to
/// PATH unless it already ends with it.
/// @throws cli_error for another scheme, a missing host or a bad port.
base_url parse_base_url(const std::string& url);

/// One load-generator run.
struct bench_options {
  base_url server;
  /// Sent as a Bearer token when not empty.
  std::string key;
  /// Requests in flight at once.
  int concurrency = 1;
  /// Requests in all.
  int requests = 16;
  /// Words of the generated prompt (roughly one token each).
  int prompt_words = 32;
  /// max_tokens of every request.
  int output_tokens = 128;
  /// Sends `ignore_eos` so every reply has exactly output_tokens tokens.
  bool ignore_eos = true;
  double temperature = 0;
  /// top_p of every request; 1 (all tokens) is not sent.
  double top_p = 1;
  /// POST /v1/chat/completions, or /v1/completions when false.
  bool chat = true;
  /// The `model` field; none sent when empty.
  std::string model;
  /// Bounds the wait for each piece of a response.
  int timeout_s = 120;
};

/// Reads `chatctl bench`'s flags (see bench_usage) and the global --url
/// (with --ca-file for HTTPS).
/// @throws cli_error naming the flag that is wrong.
bench_options parse_bench_options(const command_line& cl);

/// `chatctl bench --help`.
extern const char* const bench_usage;

} // namespace chat::cli
