#pragma once

#include "http/message.hpp"
#include "storage/api_keys.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace chat {

/// Who is calling: resolved from an API key for every non-public request.
struct principal {
  std::string user_id;
  std::string key_id;
  std::vector<std::string> scopes;
  std::optional<std::int64_t> rate_limit_rpm;
  std::optional<std::int64_t> max_streams;
  std::optional<std::int64_t> token_quota_daily;

  bool has_scope(const std::string& scope) const;
};

/// Why authentication failed; each case answers with its own code.
enum class auth_failure {
  missing,
  malformed,
  unknown,
  revoked,
  expired,
  suspended
};

/// The `code` and message of the answer for `failure`.
std::pair<std::string, std::string> describe(auth_failure failure);

/// The HTTP status for `failure`: 403 for a suspended key, else 401.
int status_of(auth_failure failure);

/// The key a request presents: `Authorization: Bearer <key>` or
/// `X-API-Key: <key>`. Empty when there is none.
std::string presented_key(const http::request& req);

/// Whether `text` has the shape of one of our keys (cheap check before any
/// database work).
bool well_formed_key(const std::string& text);

/// Resolves `secret` to a principal, or says why not, as of `now` (Unix s).
struct auth_result {
  std::optional<principal> who;
  auth_failure failure = auth_failure::unknown;
};
auth_result authenticate(storage::api_keys_repo& keys,
                         const std::string& secret, std::int64_t now);

/// Per-key limits: requests per minute (token bucket), concurrent streams
/// and open WebSocket connections. Thread-safe; state lives in memory.
class rate_limiter {
public:
  using clock = std::chrono::steady_clock;

  /// `default_max_streams` caps keys without their own max_streams,
  /// `max_sockets` every key's WebSocket connections; 0: no cap.
  explicit rate_limiter(std::int64_t default_max_streams = 0,
                        std::int64_t max_sockets = 0)
    : default_max_streams_(default_max_streams), max_sockets_(max_sockets) {
  }

  /// Takes one request token for `who`. Returns nullopt when allowed, else
  /// the seconds to wait (for Retry-After).
  std::optional<int> admit_request(const principal& who,
                                   clock::time_point now = clock::now());

  /// Takes a stream slot; false when `who` already runs its max_streams
  /// (or the default).
  bool open_stream(const principal& who);

  /// Gives back a slot taken by open_stream.
  void close_stream(const std::string& key_id);

  /// Takes a WebSocket place; false when `who` already holds max_sockets.
  bool open_socket(const principal& who);

  /// Gives back a place taken by open_socket.
  void close_socket(const std::string& key_id);

private:
  struct bucket {
    double tokens = 0;
    clock::time_point refreshed;
  };
  using counts = std::map<std::string, std::int64_t>;
  /// Counts one more for `key_id` unless it holds `cap` (0: no cap).
  bool take(counts& held, const std::string& key_id, std::int64_t cap);
  void give_back(counts& held, const std::string& key_id);

  const std::int64_t default_max_streams_;
  const std::int64_t max_sockets_;
  std::mutex mutex_;
  std::map<std::string, bucket> buckets_;
  counts streams_;
  counts sockets_;
};

} // namespace chat
