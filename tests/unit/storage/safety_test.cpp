#include "storage/api_keys.hpp"
#include "storage/database.hpp"
#include "storage/safety.hpp"
#include "storage/users.hpp"

#include <catch2/catch.hpp>

using namespace chat::storage;

TEST_CASE("filter rules are stored, listed oldest first and removed",
          "[unit]") {
  auto db = open_database(":memory:");
  safety_repo safety(db);
  auto a = safety.add_rule("phrase", "secret", "both");
  auto b = safety.add_rule("regex", "x\\d+", "output");
  CHECK(a.id.rfind("flt_", 0) == 0);
  auto all = safety.rules();
  REQUIRE(all.size() == 2);
  CHECK(all[0].id == a.id);
  CHECK(all[1].pattern == "x\\d+");
  CHECK(all[1].applies_to == "output");
  CHECK(safety.remove_rule(a.id));
  CHECK_FALSE(safety.remove_rule(a.id));
  CHECK(safety.rules().size() == 1);
}

TEST_CASE("token usage adds up per key and day", "[unit]") {
  auto db = open_database(":memory:");
  users_repo users(db);
  api_keys_repo keys(db);
  safety_repo safety(db);
  auto u = users.create("alice");
  auto k = keys.create({u->id, {"chat"}, "", {}, {}, {}, 1000}).key;
  CHECK(k.token_quota_daily == 1000);
  CHECK(keys.find(k.id)->token_quota_daily == 1000);
  CHECK(safety.tokens_used(k.id, 20000) == 0);
  safety.add_tokens(k.id, 20000, 30);
  safety.add_tokens(k.id, 20000, 12);
  safety.add_tokens(k.id, 20001, 5);
  CHECK(safety.tokens_used(k.id, 20000) == 42);
  CHECK(safety.tokens_used(k.id, 20001) == 5);
  CHECK(utc_day(86400 * 3 + 5) == 3);
}

TEST_CASE("suspension and alerts: raised, listed, lifted", "[unit]") {
  auto db = open_database(":memory:");
  users_repo users(db);
  api_keys_repo keys(db);
  safety_repo safety(db);
  auto u = users.create("alice");
  auto created = keys.create({u->id, {"chat"}, "", {}, {}, {}});
  const auto& id = created.key.id;
  CHECK_FALSE(created.key.suspended_at);
  CHECK(keys.suspend(id, "filter_hits"));
  CHECK_FALSE(keys.suspend(id, "filter_hits"));
  auto found = keys.find_by_secret(created.secret);
  REQUIRE(found);
  CHECK(found->suspended_at);
  CHECK(found->suspended_reason == "filter_hits");
  safety.raise_alert(id, u->id, "filter_hits", "rule flt_x");
  auto open = safety.alerts(false, 10);
  REQUIRE(open.size() == 1);
  CHECK(open[0].key_id == id);
  CHECK(open[0].signal == "filter_hits");
  CHECK_FALSE(open[0].lifted_at);
  CHECK(keys.lift_suspension(id));
  CHECK_FALSE(keys.lift_suspension(id));
  CHECK(safety.lift_alerts(id) == 1);
  CHECK(safety.alerts(false, 10).empty());
  auto all = safety.alerts(true, 10);
  REQUIRE(all.size() == 1);
  CHECK(all[0].lifted_at);
  CHECK_FALSE(keys.find(id)->suspended_at);
}
