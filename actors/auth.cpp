#include "actors/auth.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace chat {

bool principal::has_scope(const std::string& scope) const {
  return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
}

std::pair<std::string, std::string> describe(auth_failure failure) {
  switch (failure) {
    case auth_failure::missing:
      return {"missing_api_key",
              "no API key; send 'Authorization: Bearer <key>'"};
    case auth_failure::malformed:
      return {"invalid_api_key", "the API key is malformed"};
    case auth_failure::unknown:
      return {"invalid_api_key", "the API key is not valid"};
    case auth_failure::revoked:
      return {"revoked_api_key", "the API key has been revoked"};
    case auth_failure::expired:
      return {"expired_api_key", "the API key has expired"};
    case auth_failure::suspended:
      return {"key_suspended",
              "the API key is suspended for abuse; an administrator can "
              "lift the suspension"};
  }
  return {"invalid_api_key", "the API key is not valid"};
}

int status_of(auth_failure failure) {
  return failure == auth_failure::suspended ? 403 : 401;
}

std::string presented_key(const http::request& req) {
  const auto& auth = req.header("authorization");
  if (!auth.empty()) {
    const std::string bearer = "bearer ";
    if (auth.size() > bearer.size()
        && std::equal(bearer.begin(), bearer.end(), auth.begin(),
                      [](char a, char b) {
                        return a == std::tolower(static_cast<unsigned char>(b));
                      })) {
      auto key = auth.substr(bearer.size());
      key.erase(0, key.find_first_not_of(' '));
      return key.empty() ? " " : key;
    }
    return " ";
  }
  return req.header("x-api-key");
}

bool well_formed_key(const std::string& text) {
  const std::string prefix = "sk-chat-";
  if (text.size() != prefix.size() + 48 || text.rfind(prefix, 0) != 0)
    return false;
  return std::all_of(text.begin() + prefix.size(), text.end(), [](char ch) {
    return std::isdigit(static_cast<unsigned char>(ch))
           || (ch >= 'a' && ch <= 'f');
  });
}

auth_result authenticate(storage::api_keys_repo& keys,
                         const std::string& secret, std::int64_t now) {
  if (secret.empty())
    return {std::nullopt, auth_failure::missing};
  if (!well_formed_key(secret))
    return {std::nullopt, auth_failure::malformed};
  auto key = keys.find_by_secret(secret);
  if (!key)
    return {std::nullopt, auth_failure::unknown};
  if (key->revoked_at)
    return {std::nullopt, auth_failure::revoked};
  if (key->expires_at && *key->expires_at <= now)
    return {std::nullopt, auth_failure::expired};
  if (key->suspended_at)
    return {std::nullopt, auth_failure::suspended};
  return {principal{key->user_id, key->id, key->scopes, key->rate_limit_rpm,
                    key->max_streams, key->token_quota_daily},
          auth_failure::unknown};
}

std::optional<int> rate_limiter::admit_request(const principal& who,
                                               clock::time_point now) {
  if (!who.rate_limit_rpm)
    return std::nullopt;
  const double capacity = static_cast<double>(*who.rate_limit_rpm);
  const double per_second = capacity / 60.0;
  std::lock_guard<std::mutex> guard(mutex_);
  auto [it, fresh] = buckets_.try_emplace(who.key_id, bucket{capacity, now});
  auto& b = it->second;
  if (!fresh) {
    std::chrono::duration<double> elapsed = now - b.refreshed;
    b.tokens = std::min(capacity, b.tokens + elapsed.count() * per_second);
    b.refreshed = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return std::nullopt;
  }
  if (per_second <= 0)
    return 60;
  return std::max(1, static_cast<int>(std::ceil((1.0 - b.tokens) / per_second)));
}

bool rate_limiter::take(counts& held, const std::string& key_id,
                        std::int64_t cap) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto& open = held[key_id];
  if (cap > 0 && open >= cap)
    return false;
  ++open;
  return true;
}

void rate_limiter::give_back(counts& held, const std::string& key_id) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = held.find(key_id);
  if (it != held.end() && --it->second <= 0)
    held.erase(it);
}

bool rate_limiter::open_stream(const principal& who) {
  return take(streams_, who.key_id,
              who.max_streams.value_or(default_max_streams_));
}

void rate_limiter::close_stream(const std::string& key_id) {
  give_back(streams_, key_id);
}

bool rate_limiter::open_socket(const principal& who) {
  return take(sockets_, who.key_id, max_sockets_);
}

void rate_limiter::close_socket(const std::string& key_id) {
  give_back(sockets_, key_id);
}

} // namespace chat
