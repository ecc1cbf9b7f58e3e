#include "actors/safety/abuse_monitor.hpp"

#include <catch2/catch.hpp>

using namespace chat::safety;
using namespace std::chrono_literals;

namespace {

chat::safety_config limits() {
  chat::safety_config c;
  c.filter_hits_threshold = 3;
  c.filter_hits_window_s = 60;
  c.rate_limit_hits_threshold = 2;
  c.rate_limit_hits_window_s = 10;
  c.error_ratio_percent = 50;
  c.error_min_requests = 4;
  c.error_window_s = 60;
  c.auth_failures_per_address = 5;
  c.auth_failures_window_s = 60;
  return c;
}

} // namespace

TEST_CASE("filter hits cross the threshold only within the window",
          "[unit]") {
  abuse_monitor m(limits());
  auto t = abuse_monitor::clock::now();
  CHECK_FALSE(m.note_filter_hit("k", t));
  CHECK_FALSE(m.note_filter_hit("k", t + 1s));
  CHECK_FALSE(m.note_filter_hit("other", t + 1s));
  CHECK(m.note_filter_hit("k", t + 2s));
  // The first two have left the window a minute later.
  CHECK_FALSE(m.note_filter_hit("k", t + 61s));
}

TEST_CASE("rate-limit hits and error ratio are per key", "[unit]") {
  abuse_monitor m(limits());
  auto t = abuse_monitor::clock::now();
  CHECK_FALSE(m.note_rate_limited("k", t));
  CHECK(m.note_rate_limited("k", t + 1s));
  CHECK_FALSE(m.note_answer("e", 200, t));
  CHECK_FALSE(m.note_answer("e", 400, t));
  CHECK_FALSE(m.note_answer("e", 429, t));
  // Server failures count neither way.
  for (int i = 0; i < 10; ++i)
    CHECK_FALSE(m.note_answer("e", 503, t));
  // Four answers, three errors: 75% >= 50% once the minimum is reached.
  CHECK(m.note_answer("e", 404, t));
  CHECK_FALSE(m.note_answer("fine", 200, t));
}

TEST_CASE("failed authentications throttle one address for the window",
          "[unit]") {
  abuse_monitor m(limits());
  auto t = abuse_monitor::clock::now();
  for (int i = 0; i < 4; ++i)
    m.note_auth_failure("10.0.0.1", t);
  CHECK_FALSE(m.auth_throttled("10.0.0.1", t));
  m.note_auth_failure("10.0.0.1", t + 5s);
  auto wait = m.auth_throttled("10.0.0.1", t + 5s);
  REQUIRE(wait);
  CHECK(*wait == 55);
  CHECK_FALSE(m.auth_throttled("10.0.0.2", t + 5s));
  CHECK_FALSE(m.auth_throttled("10.0.0.1", t + 61s));
}

TEST_CASE("a threshold of 0 turns a signal off", "[unit]") {
  auto c = limits();
  c.filter_hits_threshold = 0;
  c.auth_failures_per_address = 0;
  abuse_monitor m(c);
  for (int i = 0; i < 10; ++i) {
    CHECK_FALSE(m.note_filter_hit("k"));
    m.note_auth_failure("a");
  }
  CHECK_FALSE(m.auth_throttled("a"));
}
