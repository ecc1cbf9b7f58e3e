#include "config/config_loader.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>

extern char** environ;

namespace chat {

namespace {

using json = nlohmann::json;

// -- value parsing ------------------------------------------------------------

[[noreturn]] void fail(const std::string& key, const std::string& what) {
  throw config_error("config key '" + key + "': " + what);
}

long long parse_integer(const std::string& key, const std::string& text,
                        long long min, long long max) {
  if (text.empty())
    fail(key, "empty value, expected an integer");
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE)
    fail(key, "'" + text + "' is not an integer");
  if (v < min || v > max)
    fail(key, std::to_string(v) + " is out of range [" + std::to_string(min)
                + ", " + std::to_string(max) + "]");
  return v;
}

long long integer_from_json(const std::string& key, const json& j,
                            long long min, long long max) {
  if (j.is_string())
    return parse_integer(key, j.get<std::string>(), min, max);
  if (!j.is_number_integer())
    fail(key, "expected an integer, got " + std::string(j.type_name()));
  if (j.is_number_unsigned() && j.get<unsigned long long>() > 1ull << 62)
    fail(key, "value is out of range");
  return parse_integer(key, std::to_string(j.get<long long>()), min, max);
}

std::string string_from_json(const std::string& key, const json& j) {
  if (!j.is_string())
    fail(key, "expected a string, got " + std::string(j.type_name()));
  return j.get<std::string>();
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty())
      out.push_back(item);
  return out;
}

// -- the field table ----------------------------------------------------------

/// One settable leaf of the tree.
struct field {
  std::string key;
  std::string alias;
  std::string help;
  std::function<void(config&, const std::string& key, const json&)> set;
  std::function<json(const config&)> get;
};

template <class Get>
field integer_field(std::string key, std::string alias, std::string help,
                    Get get, long long min, long long max) {
  field f{std::move(key), std::move(alias), std::move(help), {}, {}};
  f.set = [get, min, max](config& c, const std::string& k, const json& j) {
    auto& slot = get(c);
    slot = static_cast<std::decay_t<decltype(slot)>>(
      integer_from_json(k, j, min, max));
  };
  f.get = [get](const config& c) {
    return json(get(c));
  };
  return f;
}

template <class Get>
field string_field(std::string key, std::string alias, std::string help,
                   Get get,
                   std::function<void(const std::string&, const std::string&)>
                     check = {}) {
  field f{std::move(key), std::move(alias), std::move(help), {}, {}};
  f.set = [get, check](config& c, const std::string& k, const json& j) {
    auto value = string_from_json(k, j);
    if (check)
      check(k, value);
    get(c) = std::move(value);
  };
  f.get = [get](const config& c) {
    return json(get(c));
  };
  return f;
}

template <class Get>
field list_field(std::string key, std::string alias, std::string help, Get get,
                 std::function<void(const std::string&, const std::string&)>
                   check_item) {
  field f{std::move(key), std::move(alias), std::move(help), {}, {}};
  f.set = [get, check_item](config& c, const std::string& k, const json& j) {
    std::vector<std::string> items;
    if (j.is_string()) {
      items = split_list(j.get<std::string>());
    } else if (j.is_array()) {
      for (const auto& item : j)
        items.push_back(string_from_json(k, item));
    } else {
      fail(k, "expected a list of strings, got " + std::string(j.type_name()));
    }
    for (const auto& item : items)
      check_item(k, item);
    get(c) = std::move(items);
  };
  f.get = [get](const config& c) {
    return json(get(c));
  };
  return f;
}

void check_non_empty(const std::string& key, const std::string& value) {
  if (value.empty())
    fail(key, "must not be empty");
}

void check_host_port(const std::string& key, const std::string& value) {
  parse_host_port(key, value);
}

void check_log_level(const std::string& key, const std::string& value) {
  static const char* levels[] = {"debug", "info", "warn", "error"};
  if (std::find(std::begin(levels), std::end(levels), value)
      == std::end(levels))
    fail(key, "'" + value + "' is not one of debug, info, warn, error");
}

void check_device(const std::string& key, const std::string& value) {
  if (value == "cpu" || value == "cuda")
    return;
  if (value.rfind("cuda:", 0) == 0 && value.size() > 5
      && std::all_of(value.begin() + 5, value.end(),
                     [](unsigned char ch) { return std::isdigit(ch); }))
    return;
  fail(key, "'" + value + "' is not a device (cpu, cuda or cuda:N)");
}

void check_precision(const std::string& key, const std::string& value) {
  if (value != "auto" && value != "fp32" && value != "bf16" && value != "fp16")
    fail(key, "'" + value + "' is not a precision (auto, fp32, bf16 or fp16)");
}

void check_job_device(const std::string& key, const std::string& value) {
  if (value != "auto")
    check_device(key, value);
}

const std::vector<field>& fields() {
  constexpr long long int_max = std::numeric_limits<int>::max();
  static const std::vector<field> table = {
    string_field("data_dir", "data-dir",
                 "directory for the database, models, datasets and logs",
                 [](auto& c) -> auto& { return c.data_dir; },
                 check_non_empty),
    string_field("server.listen", "listen",
                 "HOST:PORT of the HTTP/WebSocket gateway",
                 [](auto& c) -> auto& { return c.server.listen; },
                 check_host_port),
    integer_field("server.io_threads", "",
                  "threads serving HTTP/WebSocket I/O",
                  [](auto& c) -> auto& { return c.server.io_threads; }, 1,
                  256),
    integer_field("server.max_body_bytes", "",
                  "largest accepted request body in bytes",
                  [](auto& c) -> auto& { return c.server.max_body_bytes; }, 1,
                  1ll << 40),
    integer_field("server.max_upload_bytes", "",
                  "largest dataset upload in bytes",
                  [](auto& c) -> auto& { return c.server.max_upload_bytes; },
                  1, 1ll << 40),
    integer_field("server.max_header_bytes", "",
                  "largest accepted request header block in bytes",
                  [](auto& c) -> auto& { return c.server.max_header_bytes; },
                  512, 1 << 20),
    integer_field("server.read_timeout_s", "",
                  "seconds a client has to send a whole request",
                  [](auto& c) -> auto& { return c.server.read_timeout_s; }, 1,
                  86400),
    integer_field("server.shutdown_grace_s", "",
                  "seconds running answers get to finish on SIGTERM",
                  [](auto& c) -> auto& { return c.server.shutdown_grace_s; },
                  0, 3600),
    integer_field("server.max_connections", "",
                  "most open HTTP and WebSocket connections at once",
                  [](auto& c) -> auto& { return c.server.max_connections; }, 1,
                  1 << 20),
    integer_field("server.max_ws_message_bytes", "",
                  "largest WebSocket message a client may send, in bytes",
                  [](auto& c) -> auto& {
                    return c.server.max_ws_message_bytes;
                  },
                  64, 1ll << 30),
    string_field("server.tls_cert", "tls-cert",
                 "PEM certificate chain; with server.tls_key: HTTPS and WSS only",
                 [](auto& c) -> auto& { return c.server.tls_cert; }),
    string_field("server.tls_key", "tls-key",
                 "PEM private key of server.tls_cert",
                 [](auto& c) -> auto& { return c.server.tls_key; }),
    integer_field("limits.max_streams_per_key", "",
                  "generations one key may run at once unless the key sets "
                  "its own max_streams (0: no limit)",
                  [](auto& c) -> auto& {
                    return c.limits.max_streams_per_key;
                  },
                  0, 1 << 20),
    integer_field("limits.max_sockets_per_key", "",
                  "WebSocket connections one key may hold open (0: no limit)",
                  [](auto& c) -> auto& {
                    return c.limits.max_sockets_per_key;
                  },
                  0, 1 << 20),
    integer_field("limits.max_message_bytes", "",
                  "largest content of one message in bytes",
                  [](auto& c) -> auto& { return c.limits.max_message_bytes; },
                  1, 1ll << 30),
    integer_field("limits.max_tokens", "",
                  "largest max_tokens a request may ask for",
                  [](auto& c) -> auto& { return c.limits.max_tokens; }, 1,
                  1 << 20),
    integer_field("limits.max_prompt_tokens", "",
                  "most prompt tokens sent to a worker",
                  [](auto& c) -> auto& { return c.limits.max_prompt_tokens; },
                  1, 1 << 20),
    list_field("workers.devices", "devices",
               "devices with one local chat-worker each (comma-separated)",
               [](auto& c) -> auto& { return c.workers.devices; },
               check_device),
    string_field("workers.listen", "",
                 "HOST:PORT where chatd accepts worker connections",
                 [](auto& c) -> auto& { return c.workers.listen; },
                 check_host_port),
    string_field("workers.binary", "",
                 "path of chat-worker (default: next to chatd)",
                 [](auto& c) -> auto& { return c.workers.binary; }),
    integer_field("workers.restart_backoff_ms", "",
                  "first delay before restarting a dead worker",
                  [](auto& c) -> auto& {
                    return c.workers.restart_backoff_ms;
                  },
                  1, int_max),
    integer_field("workers.restart_backoff_max_ms", "",
                  "largest delay before restarting a dead worker",
                  [](auto& c) -> auto& {
                    return c.workers.restart_backoff_max_ms;
                  },
                  1, int_max),
    string_field("worker.connect", "connect",
                 "HOST:PORT of the chatd a worker registers with",
                 [](auto& c) -> auto& { return c.worker.connect; },
                 check_host_port),
    string_field("worker.device", "device", "device a worker runs on",
                 [](auto& c) -> auto& { return c.worker.device; },
                 check_device),
    string_field("worker.precision", "",
                 "auto, fp32, bf16 (CPU: bf16 weights, fp32 compute) or "
                 "fp16 (CUDA)",
                 [](auto& c) -> auto& { return c.worker.precision; },
                 check_precision),
    string_field("worker.name", "name", "name a worker reports",
                 [](auto& c) -> auto& { return c.worker.name; }),
    string_field("worker.model", "model",
                 "checkpoint directory a worker serves",
                 [](auto& c) -> auto& { return c.worker.model; }),
    integer_field("worker.max_batch", "",
                  "most sequences a worker decodes in one step",
                  [](auto& c) -> auto& { return c.worker.max_batch; }, 1, 1024),
    integer_field("worker.max_queue", "",
                  "most sequences waiting for a batch slot",
                  [](auto& c) -> auto& { return c.worker.max_queue; }, 0,
                  1 << 20),
    integer_field("worker.prefill_chunk", "",
                  "most prompt tokens prefilled per step (a long prompt is "
                  "spread over steps between the running streams' tokens)",
                  [](auto& c) -> auto& { return c.worker.prefill_chunk; }, 1,
                  1 << 16),
    integer_field("worker.prefix_cache_slots", "",
                  "KV-cache slots beyond max_batch that keep prefixes for "
                  "the next turn (0: no prefix reuse)",
                  [](auto& c) -> auto& {
                    return c.worker.prefix_cache_slots;
                  },
                  0, 1024),
    integer_field("worker.compute_threads", "",
                  "threads the CPU decode kernels use (0: one per hardware "
                  "thread)",
                  [](auto& c) -> auto& { return c.worker.compute_threads; },
                  0, 1024),
    integer_field("worker.draft_tokens", "",
                  "most tokens a sequence drafts per step from its own "
                  "context, checked in one forward (0: no speculative "
                  "decoding)",
                  [](auto& c) -> auto& { return c.worker.draft_tokens; }, 0,
                  64),
    integer_field("worker.draft_max_batch", "",
                  "sequences draft only while at most this many decode in "
                  "one step",
                  [](auto& c) -> auto& { return c.worker.draft_max_batch; },
                  0, 1024),
    string_field("worker.tls_cert", "",
                 "PEM certificate chain for the worker transport; with "
                 "worker.tls_key and worker.tls_ca: TLS with mutual "
                 "certificate checks",
                 [](auto& c) -> auto& { return c.worker.tls_cert; }),
    string_field("worker.tls_key", "",
                 "PEM private key of worker.tls_cert",
                 [](auto& c) -> auto& { return c.worker.tls_key; }),
    string_field("worker.tls_ca", "",
                 "PEM CA certificate that must have signed the peer's "
                 "certificate on the worker transport",
                 [](auto& c) -> auto& { return c.worker.tls_ca; }),
    string_field("jobs.binary", "",
                 "path of chat-train (default: next to chatd)",
                 [](auto& c) -> auto& { return c.jobs.binary; }),
    string_field("jobs.device", "",
                 "device for training jobs that ask for auto",
                 [](auto& c) -> auto& { return c.jobs.device; },
                 check_job_device),
    integer_field("safety.filter_hits_threshold", "",
                  "filter hits of one key that suspend it (0: off)",
                  [](auto& c) -> auto& { return c.safety.filter_hits_threshold; }, 0,
                  1 << 20),
    integer_field("safety.filter_hits_window_s", "",
                  "window of safety.filter_hits_threshold in seconds",
                  [](auto& c) -> auto& { return c.safety.filter_hits_window_s; }, 1,
                  86400 * 30),
    integer_field("safety.rate_limit_hits_threshold", "",
                  "rate-limit refusals of one key that suspend it (0: off)",
                  [](auto& c) -> auto& { return c.safety.rate_limit_hits_threshold; }, 0,
                  1 << 20),
    integer_field("safety.rate_limit_hits_window_s", "",
                  "window of safety.rate_limit_hits_threshold in seconds",
                  [](auto& c) -> auto& { return c.safety.rate_limit_hits_window_s; }, 1,
                  86400 * 30),
    integer_field("safety.error_ratio_percent", "",
                  "percent of error answers that suspends a key (0: off)",
                  [](auto& c) -> auto& { return c.safety.error_ratio_percent; }, 0,
                  100),
    integer_field("safety.error_min_requests", "",
                  "requests of a key before its error ratio counts",
                  [](auto& c) -> auto& { return c.safety.error_min_requests; }, 1,
                  1 << 20),
    integer_field("safety.error_window_s", "",
                  "window of the error ratio in seconds",
                  [](auto& c) -> auto& { return c.safety.error_window_s; }, 1,
                  86400 * 30),
    integer_field("safety.auth_failures_per_address", "",
                  "failed authentications from one address before 429 (0: off)",
                  [](auto& c) -> auto& { return c.safety.auth_failures_per_address; }, 0,
                  1 << 20),
    integer_field("safety.auth_failures_window_s", "",
                  "window of safety.auth_failures_per_address in seconds",
                  [](auto& c) -> auto& { return c.safety.auth_failures_window_s; }, 1,
                  86400),
    integer_field("safety.output_holdback_chars", "",
                  "code points held back while a regex screens output",
                  [](auto& c) -> auto& { return c.safety.output_holdback_chars; }, 0,
                  4096),
    integer_field("safety.output_window_chars", "",
                  "code points of sent text scanned again with new text",
                  [](auto& c) -> auto& { return c.safety.output_window_chars; }, 1,
                  65536),
    string_field("model.path", "",
                 "checkpoint directory served at start (default: bundled)",
                 [](auto& c) -> auto& { return c.model.path; }),
    string_field("log.level", "log-level", "debug, info, warn or error",
                 [](auto& c) -> auto& { return c.log.level; },
                 check_log_level),
  };
  return table;
}

std::string env_name(const std::string& key) {
  std::string out = "CHATD_";
  for (char ch : key)
    out += (ch == '.' || ch == '-')
             ? '_'
             : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return out;
}

const field* find_by_key(const std::string& key) {
  for (const auto& f : fields())
    if (f.key == key)
      return &f;
  return nullptr;
}

const field* find_by_flag(const std::string& name) {
  std::string underscored = name;
  std::replace(underscored.begin(), underscored.end(), '-', '_');
  for (const auto& f : fields())
    if (f.key == name || f.key == underscored
        || (!f.alias.empty() && f.alias == name))
      return &f;
  return nullptr;
}

const field* find_by_env(const std::string& name) {
  for (const auto& f : fields())
    if (env_name(f.key) == name
        || (!f.alias.empty() && env_name(f.alias) == name))
      return &f;
  return nullptr;
}

bool is_section(const std::string& prefix) {
  for (const auto& f : fields())
    if (f.key.rfind(prefix + ".", 0) == 0)
      return true;
  return false;
}

void apply_json(config& cfg, const json& obj, const std::string& prefix,
                const std::string& source) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    auto key = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (const auto* f = find_by_key(key)) {
      f->set(cfg, source + ": " + key, it.value());
    } else if (is_section(key)) {
      if (!it.value().is_object())
        fail(source + ": " + key, "expected an object");
      apply_json(cfg, it.value(), key, source);
    } else {
      throw config_error(source + ": unknown config key '" + key + "'");
    }
  }
}

void check_whole(const config& cfg) {
  if (cfg.server.tls_cert.empty() != cfg.server.tls_key.empty())
    fail(cfg.server.tls_cert.empty() ? "server.tls_cert" : "server.tls_key",
         "must be set together with "
           + std::string(cfg.server.tls_cert.empty() ? "server.tls_key"
                                                     : "server.tls_cert"));
  const auto& w = cfg.worker;
  const bool any_tls = !w.tls_cert.empty() || !w.tls_key.empty()
                       || !w.tls_ca.empty();
  if (any_tls && (w.tls_cert.empty() || w.tls_key.empty() || w.tls_ca.empty()))
    fail(w.tls_cert.empty()  ? "worker.tls_cert"
         : w.tls_key.empty() ? "worker.tls_key"
                             : "worker.tls_ca",
         "must be set together with the other worker.tls_* keys (a "
         "certificate, its key and the CA that checks the peer)");
  if (cfg.workers.restart_backoff_max_ms < cfg.workers.restart_backoff_ms)
    fail("workers.restart_backoff_max_ms",
         "must not be below workers.restart_backoff_ms ("
           + std::to_string(cfg.workers.restart_backoff_ms) + ")");
}

} // namespace

std::pair<std::string, std::uint16_t> parse_host_port(const std::string& key,
                                                      const std::string& value) {
  auto colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0)
    fail(key, "'" + value + "' is not HOST:PORT");
  auto host = value.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']')
      fail(key, "'" + value + "' has a malformed IPv6 address");
    host = host.substr(1, host.size() - 2);
  }
  auto port = parse_integer(key, value.substr(colon + 1), 0, 65535);
  return {host, static_cast<std::uint16_t>(port)};
}

config load_config(const config_sources& sources) {
  config cfg;
  if (!sources.json_text.empty()) {
    json doc;
    try {
      doc = json::parse(sources.json_text, nullptr, true, true);
    } catch (const json::exception& e) {
      // Not only parse_error: a number too large for a double is
      // out_of_range.
      throw config_error(sources.json_name + ": invalid JSON ("
                         + std::string(e.what()) + ")");
    }
    if (!doc.is_object())
      throw config_error(sources.json_name + ": expected a JSON object");
    apply_json(cfg, doc, "", sources.json_name);
  }
  for (const auto& [name, value] : sources.env) {
    if (name.rfind("CHATD_", 0) != 0)
      continue;
    const auto* f = find_by_env(name);
    if (!f)
      throw config_error("environment: unknown variable '" + name + "'");
    f->set(cfg, "environment " + name, json(value));
  }
  const auto& args = sources.args;
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& arg = args[i];
    if (arg.rfind("--", 0) != 0)
      throw config_error("unexpected argument '" + arg + "'");
    auto eq = arg.find('=');
    auto name = arg.substr(2, eq == std::string::npos ? std::string::npos
                                                      : eq - 2);
    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      throw config_error("flag --" + name + ": missing value");
    }
    if (name == "config")
      continue;
    const auto* f = find_by_flag(name);
    if (!f)
      throw config_error("unknown flag '--" + name + "' (see --help)");
    f->set(cfg, "flag --" + name, json(value));
  }
  check_whole(cfg);
  return cfg;
}

config load_config_from_process(int argc, char** argv) {
  config_sources sources;
  for (int i = 1; i < argc; ++i)
    sources.args.emplace_back(argv[i]);
  for (size_t i = 0; i < sources.args.size(); ++i) {
    const auto& arg = sources.args[i];
    std::string path;
    if (arg == "--config" && i + 1 < sources.args.size())
      path = sources.args[i + 1];
    else if (arg.rfind("--config=", 0) == 0)
      path = arg.substr(9);
    else
      continue;
    std::ifstream in(path, std::ios::binary);
    if (!in)
      throw config_error("config file '" + path + "' cannot be read");
    std::ostringstream text;
    text << in.rdbuf();
    sources.json_text = text.str();
    sources.json_name = path;
  }
  for (char** e = environ; e && *e; ++e) {
    std::string entry = *e;
    auto eq = entry.find('=');
    if (eq != std::string::npos)
      sources.env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return load_config(sources);
}

std::string config_to_json(const config& cfg) {
  json out = json::object();
  for (const auto& f : fields()) {
    json* node = &out;
    std::stringstream path(f.key);
    std::string part;
    std::vector<std::string> parts;
    while (std::getline(path, part, '.'))
      parts.push_back(part);
    for (size_t i = 0; i + 1 < parts.size(); ++i)
      node = &(*node)[parts[i]];
    (*node)[parts.back()] = f.get(cfg);
  }
  return out.dump(2);
}

std::string config_help() {
  config defaults;
  std::ostringstream out;
  out << "Settings (JSON file via --config FILE, then CHATD_* variables, then "
         "flags):\n";
  for (const auto& f : fields()) {
    out << "  --" << f.key;
    if (!f.alias.empty())
      out << ", --" << f.alias;
    out << "  [" << env_name(f.key);
    if (!f.alias.empty())
      out << ", " << env_name(f.alias);
    out << "]\n      " << f.help << " (default: " << f.get(defaults).dump()
        << ")\n";
  }
  return out.str();
}

} // namespace chat
