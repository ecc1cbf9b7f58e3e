#pragma once
// `chatctl bench`: a load generator for OpenAI-compatible servers.

#include "tools/chatctl/bench_options.hpp"
#include "tools/chatctl/bench_stats.hpp"
#include "tools/chatctl/cli.hpp"

#include <string>

namespace chat::cli {

/// Reads an OpenAI streaming response as it arrives and records when text
/// came, the usage and how it ended; `feed` pieces, then `finish`. Times
/// are seconds since the request was sent.
class completion_stream_reader {
public:
  /// A piece of the SSE body that arrived at `now_s`.
  void feed(const std::string& data, double now_s);

  /// The sample, once the body has ended at `now_s`.
  request_sample finish(double now_s);

private:
  void handle_event(const std::string& event, double now_s);

  std::string buffer_;
  request_sample sample_;
  double last_text_s_ = -1;
  std::int64_t text_chunks_ = 0;
  bool done_ = false;
};

/// The JSON body of the request numbered `index` (prompts differ per
/// request, so that no server-side prefix cache turns them into one).
nlohmann::json bench_request_body(const bench_options& o, int index);

/// Runs the load and prints the summary (a table, or JSON with --json).
int bench_command(const command_line& cl);

} // namespace chat::cli
