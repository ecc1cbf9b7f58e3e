#include "training/lr_schedule.hpp"

#include <catch2/catch.hpp>

using namespace chat::training;

TEST_CASE("lr warms up linearly, then decays by cosine to min_lr", "[unit]") {
  hyper_params h;
  h.lr = 1e-3;
  h.min_lr = 1e-4;
  h.warmup_steps = 10;
  h.max_steps = 110;
  // Warmup: strictly increasing, reaching lr at the end.
  for (int64_t s = 1; s < 10; ++s) CHECK(lr_at(s, h) > lr_at(s - 1, h));
  CHECK(lr_at(0, h) == Approx(1e-3 / 11));
  CHECK(lr_at(10, h) == Approx(1e-3));
  // Cosine: non-increasing, halfway at the midpoint, min_lr at the end.
  for (int64_t s = 11; s <= 110; ++s) CHECK(lr_at(s, h) <= lr_at(s - 1, h));
  CHECK(lr_at(60, h) == Approx(0.5 * (1e-3 + 1e-4)));
  CHECK(lr_at(110, h) == Approx(1e-4));
  CHECK(lr_at(500, h) == Approx(1e-4));
  h.warmup_steps = 0;
  CHECK(lr_at(0, h) == Approx(1e-3));
}
