#include "tools/chatctl/bench_options.hpp"

namespace chat::cli {

const char* const bench_usage = R"(Usage: chatctl bench [options]
  A load generator for any OpenAI-compatible server (this one or another):
  streams requests and prints aggregate output tokens/s, time to first
  token and inter-token latency (p50/p99), errors; --json for scripts.

  --url URL            server base, http(s)://HOST[:PORT][/PATH]; /v1 is
                       appended unless PATH ends with it
  --key KEY            sent as a Bearer token
  --ca-file PEM        trust this CA for https (default: the system store)
  --concurrency N      requests in flight at once (default 1)
  --requests N         requests in all (default 16)
  --prompt-words N     words in each prompt, about a token each (default 32)
  --output-tokens N    max_tokens of each request (default 128)
  --ignore-eos on|off  send ignore_eos (an extension vLLM and chatd accept)
                       so every reply is exactly --output-tokens long
                       (default on; turn off for servers that refuse it)
  --temperature T      sampling temperature (default 0, greedy)
  --top-p P            nucleus sampling: keep the likeliest tokens holding
                       P of the mass, 0 < P <= 1 (default 1: all; not sent)
  --api chat|completions
                       /v1/chat/completions (default) or /v1/completions
  --model NAME         the model field (default: none, the server's)
  --timeout S          longest wait for each piece of a reply (default 120)

  Output tokens count from each reply's usage chunk (stream_options.
  include_usage), else one per text chunk. Inter-token latency is the pause
  between consecutive text chunks.
)";

namespace {

int int_flag(const command_line& cl, const std::string& name, int fallback,
             int min, int max) {
  const auto text = cl.flag(name);
  if (text.empty())
    return fallback;
  std::size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || value < min || value > max)
    throw cli_error("--" + name + " must be a whole number from "
                    + std::to_string(min) + " to " + std::to_string(max)
                    + " (got '" + text + "')");
  return static_cast<int>(value);
}

double number_flag(const command_line& cl, const std::string& name,
                   double fallback, double min, double max) {
  const auto text = cl.flag(name);
  if (text.empty())
    return fallback;
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !(value >= min && value <= max))
    throw cli_error("--" + name + " must be a number from "
                    + std::to_string(min) + " to " + std::to_string(max)
                    + " (got '" + text + "')");
  return value;
}

} // namespace

base_url parse_base_url(const std::string& url) {
  base_url out;
  std::string rest;
  if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
    out.to.port = 80;
  } else if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
    out.to.tls = true;
    out.to.port = 443;
  } else {
    throw cli_error("--url must start with http:// or https:// (got '" + url
                    + "')");
  }
  const auto slash = rest.find('/');
  const auto authority = rest.substr(0, slash);
  auto path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!path.empty() && path.back() == '/')
    path.pop_back();
  const auto colon = authority.rfind(':');
  out.to.host = authority.substr(0, colon);
  if (out.to.host.empty())
    throw cli_error("--url has no host: '" + url + "'");
  if (colon != std::string::npos) {
    const auto port = authority.substr(colon + 1);
    std::size_t used = 0;
    long value = 0;
    try {
      value = std::stol(port, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != port.size() || value < 1 || value > 65535)
      throw cli_error("--url has a bad port: '" + url + "'");
    out.to.port = static_cast<std::uint16_t>(value);
  }
  const std::string v1 = "/v1";
  const bool has_v1 = path.size() >= v1.size()
                      && path.compare(path.size() - v1.size(), v1.size(), v1)
                           == 0;
  out.api_path = has_v1 ? path : path + v1;
  return out;
}

bench_options parse_bench_options(const command_line& cl) {
  // Flags bench does not know are typos: refuse them rather than ignore.
  reject_unknown_flags(cl, {"concurrency", "requests", "prompt-words",
                            "output-tokens", "ignore-eos", "temperature", "top-p",
                            "api", "model", "timeout"});
  bench_options o;
  o.server = parse_base_url(cl.url);
  o.server.to.ca_file = cl.ca_file;
  o.key = cl.key;
  constexpr int most = 1 << 20;
  o.concurrency = int_flag(cl, "concurrency", o.concurrency, 1, 1024);
  o.requests = int_flag(cl, "requests", o.requests, 1, most);
  o.prompt_words = int_flag(cl, "prompt-words", o.prompt_words, 1, most);
  o.output_tokens = int_flag(cl, "output-tokens", o.output_tokens, 1, most);
  o.timeout_s = int_flag(cl, "timeout", o.timeout_s, 1, 24 * 3600);
  o.temperature = number_flag(cl, "temperature", o.temperature, 0, 2);
  o.top_p = number_flag(cl, "top-p", o.top_p, 0, 1);
  if (o.top_p == 0)
    throw cli_error("--top-p must be above 0 (got '" + cl.flag("top-p")
                    + "')");
  const auto ignore_eos = cl.flag("ignore-eos", "on");
  if (ignore_eos != "on" && ignore_eos != "off")
    throw cli_error("--ignore-eos must be on or off (got '" + ignore_eos
                    + "')");
  o.ignore_eos = ignore_eos == "on";
  const auto api = cl.flag("api", "chat");
  if (api != "chat" && api != "completions")
    throw cli_error("--api must be chat or completions (got '" + api + "')");
  o.chat = api == "chat";
  o.model = cl.flag("model");
  return o;
}

} // namespace chat::cli
