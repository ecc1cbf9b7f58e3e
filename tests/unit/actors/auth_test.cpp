#include "actors/auth.hpp"
#include "storage/api_keys.hpp"
#include "storage/database.hpp"
#include "storage/users.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <set>
#include <string>

using namespace chat;
using std::chrono::seconds;

namespace {

http::request with_headers(http::header_map headers) {
  http::request req;
  req.method = "GET";
  req.path = "/v1/models";
  req.headers = std::move(headers);
  return req;
}

/// A database with one user and a repo of their keys.
struct key_store {
  SQLite::Database db = storage::open_database(":memory:");
  storage::users_repo users{db};
  storage::api_keys_repo keys{db};
  std::string user_id = users.create("alice")->id;

  storage::created_api_key make(storage::api_key_spec spec = {}) {
    spec.user_id = user_id;
    if (spec.scopes.empty())
      spec.scopes = {"chat"};
    return keys.create(spec);
  }
};

const std::int64_t now = 1'700'000'000;

principal limited(std::string key_id, std::optional<std::int64_t> rpm,
                  std::optional<std::int64_t> streams = {}) {
  principal p;
  p.user_id = "user_1";
  p.key_id = std::move(key_id);
  p.scopes = {"chat"};
  p.rate_limit_rpm = rpm;
  p.max_streams = streams;
  return p;
}

} // namespace

TEST_CASE("presented_key reads an Authorization Bearer key", "[unit]") {
  CHECK(presented_key(with_headers({{"authorization", "Bearer sk-chat-abc"}}))
        == "sk-chat-abc");
  CHECK(presented_key(with_headers({{"authorization", "bearer sk-chat-abc"}}))
        == "sk-chat-abc");
  CHECK(presented_key(with_headers({{"authorization", "BEARER sk-chat-abc"}}))
        == "sk-chat-abc");
  CHECK(presented_key(with_headers({{"authorization", "Bearer   sk-chat-abc"}}))
        == "sk-chat-abc");
}

TEST_CASE("presented_key falls back to X-API-Key", "[unit]") {
  CHECK(presented_key(with_headers({{"x-api-key", "sk-chat-xyz"}}))
        == "sk-chat-xyz");
}

TEST_CASE("presented_key prefers Authorization over X-API-Key", "[unit]") {
  CHECK(presented_key(with_headers({{"authorization", "Bearer from-auth"},
                                    {"x-api-key", "from-header"}}))
        == "from-auth");
}

TEST_CASE("presented_key is empty without any key header", "[unit]") {
  CHECK(presented_key(with_headers({})).empty());
  CHECK(presented_key(with_headers({{"content-type", "application/json"}}))
          .empty());
}

TEST_CASE("presented_key turns a non-Bearer Authorization into a malformed "
          "key, not a missing one",
          "[unit]") {
  for (const char* value : {"Basic dXNlcjpwYXNz", "Bearer", "Bearer ",
                            "Bearer    ", "Token sk-chat-abc"}) {
    INFO(value);
    auto key = presented_key(with_headers({{"authorization", value}}));
    CHECK_FALSE(key.empty());
    CHECK_FALSE(well_formed_key(key));
  }
}

TEST_CASE("well_formed_key accepts only sk-chat- and 48 lowercase hex digits",
          "[unit]") {
  const std::string hex48(48, 'a');
  CHECK(well_formed_key("sk-chat-" + hex48));
  CHECK(well_formed_key("sk-chat-0123456789abcdef0123456789abcdef"
                        "0123456789abcdef"));
  CHECK_FALSE(well_formed_key(""));
  CHECK_FALSE(well_formed_key("sk-chat-" + std::string(47, 'a')));
  CHECK_FALSE(well_formed_key("sk-chat-" + std::string(49, 'a')));
  CHECK_FALSE(well_formed_key("sk-chat-" + std::string(48, 'A')));
  CHECK_FALSE(well_formed_key("sk-chat-" + std::string(47, 'a') + "g"));
  CHECK_FALSE(well_formed_key("sk-open-" + hex48));
  CHECK_FALSE(well_formed_key("xsk-chat" + hex48));
  CHECK_FALSE(well_formed_key(" sk-chat-" + std::string(47, 'a')));
}

TEST_CASE("keys the repo creates are well formed", "[unit]") {
  key_store store;
  for (int i = 0; i < 5; ++i)
    CHECK(well_formed_key(store.make().secret));
}

TEST_CASE("authenticate resolves a valid key to its principal", "[unit]") {
  key_store store;
  storage::api_key_spec spec;
  spec.scopes = {"chat", "admin"};
  spec.rate_limit_rpm = 30;
  spec.max_streams = 2;
  spec.expires_at = now + 3600;
  auto created = store.make(spec);
  auto result = authenticate(store.keys, created.secret, now);
  REQUIRE(result.who);
  CHECK(result.who->user_id == store.user_id);
  CHECK(result.who->key_id == created.key.id);
  CHECK(result.who->scopes == std::vector<std::string>{"chat", "admin"});
  CHECK(result.who->has_scope("admin"));
  CHECK_FALSE(result.who->has_scope("root"));
  CHECK(result.who->rate_limit_rpm == 30);
  CHECK(result.who->max_streams == 2);
}

TEST_CASE("authenticate reports a missing key", "[unit]") {
  key_store store;
  auto result = authenticate(store.keys, "", now);
  CHECK_FALSE(result.who);
  CHECK(result.failure == auth_failure::missing);
}

TEST_CASE("authenticate reports a malformed key without a lookup", "[unit]") {
  key_store store;
  for (const char* secret : {" ", "not-a-key", "sk-chat-123"}) {
    INFO(secret);
    auto result = authenticate(store.keys, secret, now);
    CHECK_FALSE(result.who);
    CHECK(result.failure == auth_failure::malformed);
  }
}

TEST_CASE("authenticate reports a well-formed but unknown key", "[unit]") {
  key_store store;
  auto created = store.make();
  auto other = created.secret;
  other.back() = other.back() == 'a' ? 'b' : 'a';
  auto result = authenticate(store.keys, other, now);
  CHECK_FALSE(result.who);
  CHECK(result.failure == auth_failure::unknown);
  CHECK(authenticate(store.keys, "sk-chat-" + std::string(48, '0'), now).failure
        == auth_failure::unknown);
}

TEST_CASE("authenticate reports a revoked key", "[unit]") {
  key_store store;
  auto created = store.make();
  REQUIRE(store.keys.revoke(created.key.id));
  auto result = authenticate(store.keys, created.secret, now);
  CHECK_FALSE(result.who);
  CHECK(result.failure == auth_failure::revoked);
}

TEST_CASE("authenticate reports an expired key, at and after expiry",
          "[unit]") {
  key_store store;
  storage::api_key_spec spec;
  spec.expires_at = now;
  auto created = store.make(spec);
  CHECK(authenticate(store.keys, created.secret, now - 1).who);
  auto at = authenticate(store.keys, created.secret, now);
  CHECK_FALSE(at.who);
  CHECK(at.failure == auth_failure::expired);
  CHECK(authenticate(store.keys, created.secret, now + 10).failure
        == auth_failure::expired);
}

TEST_CASE("describe gives each auth failure its own code", "[unit]") {
  CHECK(describe(auth_failure::missing).first == "missing_api_key");
  CHECK(describe(auth_failure::malformed).first == "invalid_api_key");
  CHECK(describe(auth_failure::unknown).first == "invalid_api_key");
  CHECK(describe(auth_failure::revoked).first == "revoked_api_key");
  CHECK(describe(auth_failure::expired).first == "expired_api_key");
  std::set<std::string> messages;
  for (auto f : {auth_failure::missing, auth_failure::malformed,
                 auth_failure::unknown, auth_failure::revoked,
                 auth_failure::expired})
    messages.insert(describe(f).second);
  CHECK(messages.size() == 5);
}

TEST_CASE("rate_limiter admits every request of a key without a limit",
          "[unit]") {
  rate_limiter limiter;
  auto who = limited("key_free", std::nullopt);
  rate_limiter::clock::time_point t0{};
  for (int i = 0; i < 1000; ++i)
    REQUIRE_FALSE(limiter.admit_request(who, t0));
}

TEST_CASE("rate_limiter at 5 rpm refuses the 6th request with a Retry-After",
          "[unit]") {
  rate_limiter limiter;
  auto who = limited("key_a", 5);
  rate_limiter::clock::time_point t0{seconds(1000)};
  for (int i = 0; i < 5; ++i) {
    INFO(i);
    CHECK_FALSE(limiter.admit_request(who, t0));
  }
  auto wait = limiter.admit_request(who, t0);
  REQUIRE(wait);
  CHECK(*wait >= 1);
  CHECK(*wait >= 12);
  CHECK(*wait <= 13);
  // Refused requests take nothing: still refused, with the same wait.
  auto again = limiter.admit_request(who, t0);
  REQUIRE(again);
  CHECK(*again == *wait);
}

TEST_CASE("rate_limiter's Retry-After shrinks as the bucket refills",
          "[unit]") {
  rate_limiter limiter;
  auto who = limited("key_a", 5);
  rate_limiter::clock::time_point t0{seconds(1000)};
  for (int i = 0; i < 5; ++i)
    REQUIRE_FALSE(limiter.admit_request(who, t0));
  auto wait = limiter.admit_request(who, t0 + seconds(6));
  REQUIRE(wait);
  CHECK(*wait >= 1);
  CHECK(*wait <= 7);
}

TEST_CASE("rate_limiter refills one token every 60/rpm seconds", "[unit]") {
  rate_limiter limiter;
  auto who = limited("key_a", 5);
  rate_limiter::clock::time_point t0{seconds(1000)};
  for (int i = 0; i < 5; ++i)
    REQUIRE_FALSE(limiter.admit_request(who, t0));
  REQUIRE(limiter.admit_request(who, t0));
  auto t1 = t0 + seconds(13);
  CHECK_FALSE(limiter.admit_request(who, t1));
  CHECK(limiter.admit_request(who, t1));
}

TEST_CASE("rate_limiter refills no more than the per-minute capacity",
          "[unit]") {
  rate_limiter limiter;
  auto who = limited("key_a", 5);
  rate_limiter::clock::time_point t0{seconds(1000)};
  for (int i = 0; i < 5; ++i)
    REQUIRE_FALSE(limiter.admit_request(who, t0));
  auto later = t0 + seconds(3600);
  for (int i = 0; i < 5; ++i) {
    INFO(i);
    CHECK_FALSE(limiter.admit_request(who, later));
  }
  CHECK(limiter.admit_request(who, later));
}

TEST_CASE("rate_limiter keeps separate buckets per key", "[unit]") {
  rate_limiter limiter;
  auto a = limited("key_a", 5);
  auto b = limited("key_b", 5);
  rate_limiter::clock::time_point t0{seconds(1000)};
  for (int i = 0; i < 5; ++i)
    REQUIRE_FALSE(limiter.admit_request(a, t0));
  REQUIRE(limiter.admit_request(a, t0));
  for (int i = 0; i < 5; ++i) {
    INFO(i);
    CHECK_FALSE(limiter.admit_request(b, t0));
  }
  CHECK(limiter.admit_request(b, t0));
}

TEST_CASE("rate_limiter with 0 rpm refuses every request", "[unit]") {
  rate_limiter limiter;
  auto who = limited("key_zero", 0);
  rate_limiter::clock::time_point t0{seconds(1000)};
  auto wait = limiter.admit_request(who, t0);
  REQUIRE(wait);
  CHECK(*wait >= 1);
  CHECK(limiter.admit_request(who, t0 + seconds(3600)));
}

TEST_CASE("rate_limiter caps concurrent streams at max_streams", "[unit]") {
  rate_limiter limiter;
  auto who = limited("key_a", std::nullopt, 2);
  CHECK(limiter.open_stream(who));
  CHECK(limiter.open_stream(who));
  CHECK_FALSE(limiter.open_stream(who));
  limiter.close_stream("key_a");
  CHECK(limiter.open_stream(who));
  CHECK_FALSE(limiter.open_stream(who));
}

TEST_CASE("rate_limiter counts streams per key", "[unit]") {
  rate_limiter limiter;
  auto a = limited("key_a", std::nullopt, 1);
  auto b = limited("key_b", std::nullopt, 1);
  CHECK(limiter.open_stream(a));
  CHECK_FALSE(limiter.open_stream(a));
  CHECK(limiter.open_stream(b));
}

TEST_CASE("rate_limiter allows any number of streams without max_streams",
          "[unit]") {
  rate_limiter limiter;
  auto who = limited("key_a", std::nullopt);
  for (int i = 0; i < 100; ++i)
    REQUIRE(limiter.open_stream(who));
}

TEST_CASE("rate_limiter's default caps keys without their own max_streams",
          "[unit]") {
  rate_limiter limiter(2);
  auto plain = limited("key_plain", std::nullopt);
  auto own = limited("key_own", std::nullopt, 3);
  CHECK(limiter.open_stream(plain));
  CHECK(limiter.open_stream(plain));
  CHECK_FALSE(limiter.open_stream(plain));
  for (int i = 0; i < 3; ++i)
    CHECK(limiter.open_stream(own));
  CHECK_FALSE(limiter.open_stream(own));
  limiter.close_stream("key_plain");
  CHECK(limiter.open_stream(plain));
}

TEST_CASE("rate_limiter caps each key's WebSocket connections", "[unit]") {
  rate_limiter limiter(0, 2);
  auto a = limited("key_a", std::nullopt);
  auto b = limited("key_b", std::nullopt);
  CHECK(limiter.open_socket(a));
  CHECK(limiter.open_socket(a));
  CHECK_FALSE(limiter.open_socket(a));
  CHECK(limiter.open_socket(b));
  // Streams and sockets are counted apart.
  CHECK(limiter.open_stream(a));
  limiter.close_socket("key_a");
  CHECK(limiter.open_socket(a));
}

TEST_CASE("rate_limiter ignores closing a stream that was never opened",
          "[unit]") {
  rate_limiter limiter;
  auto who = limited("key_a", std::nullopt, 1);
  limiter.close_stream("key_a");
  limiter.close_stream("key_other");
  CHECK(limiter.open_stream(who));
  CHECK_FALSE(limiter.open_stream(who));
}
