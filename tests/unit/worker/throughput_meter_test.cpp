#include "actors/worker/throughput_meter.hpp"

#include <catch2/catch.hpp>

using chat::worker::throughput_meter;
using namespace std::chrono_literals;

TEST_CASE("throughput counts the tokens of the steps inside the window",
          "[unit]") {
  throughput_meter meter(5s);
  const throughput_meter::clock::time_point t0{};
  CHECK(meter.tokens_per_sec(t0) == 0.0);
  meter.record(t0, 10);
  meter.record(t0 + 1s, 30);
  meter.record(t0 + 1500ms, 0);  // steps without tokens are not recorded
  CHECK(meter.tokens_per_sec(t0 + 2s) == Approx(20.0));  // 40 over 2 s
  // At 6 s the step at 0 s has left the window: 30 tokens over 5 s.
  CHECK(meter.tokens_per_sec(t0 + 6s) == Approx(6.0));
  CHECK(meter.tokens_per_sec(t0 + 7s) == 0.0);
}
