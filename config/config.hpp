#pragma once

#include <cstdint>
#include <string>
#include <vector>

/// One configuration tree for every process of the service. Defaults live
/// here; `load_config` layers a JSON file, CHATD_* environment variables and
/// command-line flags over them, in that order.
namespace chat {

/// The HTTP/WebSocket gateway of `chatd`.
struct server_config {
  /// HOST:PORT the gateway listens on.
  std::string listen = "127.0.0.1:8080";
  /// Threads running the gateway's io_context.
  int io_threads = 2;
  /// Largest accepted request body.
  std::uint64_t max_body_bytes = 1u << 20;
  /// Largest dataset upload (POST /admin/datasets).
  std::uint64_t max_upload_bytes = 64u << 20;
  /// Largest accepted request header block.
  std::uint32_t max_header_bytes = 16u << 10;
  /// A request must arrive completely within this many seconds.
  int read_timeout_s = 30;
  /// On SIGTERM, how long running answers may take to finish before the
  /// workers stop and what still streams ends with an error event.
  int shutdown_grace_s = 10;
  /// Most open connections (HTTP and WebSocket) at once.
  int max_connections = 4096;
  /// Largest WebSocket message a client may send.
  std::uint64_t max_ws_message_bytes = 64u << 10;
  /// PEM certificate chain and private key; when both are set the gateway
  /// serves HTTPS and WSS only.
  std::string tls_cert;
  std::string tls_key;
};

/// What one request may ask for; each refusal answers in the API's error
/// shape.
struct limits_config {
  /// Generations one API key may run at once, for keys created without
  /// their own max_streams; 0: no limit.
  int max_streams_per_key = 64;
  /// WebSocket connections one API key may hold open at once; 0: no limit.
  int max_sockets_per_key = 256;
  /// Largest content of one message (a chat message, a completion prompt,
  /// a session's system prompt), in bytes of UTF-8.
  std::uint64_t max_message_bytes = 32u << 10;
  /// Largest max_tokens a request may ask for; also caps a reply of a
  /// request that names none.
  int max_tokens = 4096;
  /// Most prompt tokens sent to a worker; a chat history beyond it loses
  /// its oldest turns first.
  int max_prompt_tokens = 32768;
};

/// The pool of inference workers `chatd` starts and supervises.
struct workers_config {
  /// One local `chat-worker` child per entry ("cpu", "cuda:0", ...).
  std::vector<std::string> devices = {"cpu"};
  /// HOST:PORT where `chatd` accepts worker connections (port 0: any free).
  std::string listen = "127.0.0.1:0";
  /// Path of the `chat-worker` binary; empty: next to the running `chatd`.
  std::string binary;
  /// First restart delay after a worker died; doubles up to the maximum.
  int restart_backoff_ms = 200;
  /// Upper bound of the restart delay.
  int restart_backoff_max_ms = 10000;
};

/// Settings of one `chat-worker` process.
struct worker_config {
  /// HOST:PORT of the `chatd` that this worker registers with.
  std::string connect = "127.0.0.1:0";
  /// Device this worker runs on ("cpu", "cuda", "cuda:N").
  std::string device = "cpu";
  /// "auto" (fp32 on CPU, bf16 on CUDA), "fp32", "bf16" or "fp16" (CUDA).
  /// bf16 on CPU stores the matmul weights and the KV cache in bf16 and
  /// computes in fp32: half the bytes each decode step reads, half the
  /// cache's memory.
  std::string precision = "auto";
  /// Name reported to `chatd`; empty: derived from host and pid.
  std::string name;
  /// Checkpoint directory the worker serves.
  std::string model;
  /// Most sequences decoded together in one step.
  int max_batch = 16;
  /// Most sequences waiting for a batch slot; more are refused.
  int max_queue = 64;
  /// Most prompt tokens prefilled per step: a long prompt is spread over
  /// steps instead of stalling the running streams for its whole prefill.
  int prefill_chunk = 128;
  /// KV-cache slots per model beyond max_batch that keep finished
  /// sequences' prefixes for the next turn; 0 turns prefix reuse off.
  int prefix_cache_slots = 4;
  /// Threads the CPU decode kernels split each step over; 0: one per
  /// hardware thread. Lower it when other busy processes share the cores.
  int compute_threads = 0;
  /// Speculative decoding: most tokens a sequence drafts per step from its
  /// own context, checked together in one forward; 0 (the default) turns
  /// it off. Pays where replies repeat their context (code edits, quotes).
  int draft_tokens = 0;
  /// Sequences draft only while at most this many decode in one step.
  int draft_max_batch = 2;
  /// PEM certificate chain, its key and the CA that signs every party's
  /// certificate; all three set: chatd and workers talk over CAF's OpenSSL
  /// transport and refuse a peer whose certificate that CA did not sign.
  /// Read by chatd (which passes them to the workers it starts) and by
  /// chat-worker.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
};

/// Training jobs (`POST /admin/jobs`), which `chatd` runs one at a time as
/// `chat-train` children.
struct jobs_config {
  /// Path of the `chat-train` binary; empty: next to the running `chatd`.
  std::string binary;
  /// Device for jobs that ask for "auto": "auto" (chat-train picks),
  /// "cpu", "cuda" or "cuda:N".
  std::string device = "auto";
};

/// Prompt filter and abuse detection. A threshold of 0 turns its signal off;
/// a key that crosses one is suspended until an admin lifts it.
struct safety_config {
  /// Filter hits (input or output) of one key within the window.
  int filter_hits_threshold = 5;
  int filter_hits_window_s = 3600;
  /// Rate-limit refusals (429) of one key within the window.
  int rate_limit_hits_threshold = 100;
  int rate_limit_hits_window_s = 600;
  /// Share of a key's answers that are errors (status >= 400, percent), once
  /// it made at least error_min_requests within the window.
  int error_ratio_percent = 90;
  int error_min_requests = 100;
  int error_window_s = 600;
  /// Failed authentications from one address within the window; more are
  /// refused with 429 before any key is checked.
  int auth_failures_per_address = 50;
  int auth_failures_window_s = 60;
  /// Code points of generated text held back while a regex screens output.
  int output_holdback_chars = 32;
  /// Code points of already sent text scanned again with new text.
  int output_window_chars = 256;
};

/// The model `chatd` serves.
struct model_config {
  /// Checkpoint directory of the model served at start; empty: the bundled
  /// default model.
  std::string path;
};

/// Logging to stderr.
struct log_config {
  /// One of: debug, info, warn, error.
  std::string level = "info";
};

/// The whole tree.
struct config {
  /// Directory for the SQLite file, models, datasets and logs.
  std::string data_dir = "./data";
  server_config server;
  limits_config limits;
  workers_config workers;
  worker_config worker;
  jobs_config jobs;
  safety_config safety;
  model_config model;
  log_config log;
};

} // namespace chat
