#include "storage/api_keys.hpp"
#include "storage/database.hpp"
#include "storage/users.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace chat::storage;

TEST_CASE("users round trip and names are unique", "[unit]") {
  auto db = open_database(":memory:");
  users_repo users(db);
  auto alice = users.create("alice");
  REQUIRE(alice);
  CHECK(alice->id.rfind("user_", 0) == 0);
  CHECK_FALSE(users.create("alice"));
  auto bob = users.create("bob");
  REQUIRE(bob);
  CHECK(users.find(alice->id)->name == "alice");
  CHECK(users.find_by_name("bob")->id == bob->id);
  CHECK_FALSE(users.find("user_missing"));
  auto all = users.list();
  REQUIRE(all.size() == 2);
  CHECK(all.front().name == "bob");
  CHECK(users.remove(bob->id));
  CHECK_FALSE(users.remove(bob->id));
  CHECK(users.count() == 1);
}

TEST_CASE("keys are found by secret only, stored as hashes", "[unit]") {
  auto db = open_database(":memory:");
  users_repo users(db);
  api_keys_repo keys(db);
  auto u = users.create("alice");
  auto created = keys.create({u->id, {"chat"}, "laptop", 5, 2, 4102444800});
  CHECK(created.secret.size() == 8 + 48);
  CHECK(created.key.prefix == created.secret.substr(0, 16));
  auto found = keys.find_by_secret(created.secret);
  REQUIRE(found);
  CHECK(found->id == created.key.id);
  CHECK(found->scopes == std::vector<std::string>{"chat"});
  CHECK(found->has_scope("chat"));
  CHECK_FALSE(found->has_scope("admin"));
  CHECK(found->rate_limit_rpm == 5);
  CHECK(found->max_streams == 2);
  CHECK(found->expires_at == 4102444800);
  CHECK_FALSE(found->revoked_at);

  auto wrong = created.secret;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  CHECK_FALSE(keys.find_by_secret(wrong));
  CHECK_FALSE(keys.find_by_secret(""));

  CHECK(keys.revoke(created.key.id));
  CHECK_FALSE(keys.revoke(created.key.id));
  CHECK(keys.find_by_secret(created.secret)->revoked_at);
  CHECK(keys.list(u->id).size() == 1);
  CHECK(keys.list(std::string("user_other")).empty());
}

TEST_CASE("key secrets and ids are distinct", "[unit]") {
  auto db = open_database(":memory:");
  users_repo users(db);
  api_keys_repo keys(db);
  auto u = users.create("alice");
  std::set<std::string> secrets, ids;
  for (int i = 0; i < 50; ++i) {
    auto k = keys.create({u->id, {"chat"}, "", {}, {}, {}});
    secrets.insert(k.secret);
    ids.insert(k.key.id);
  }
  CHECK(secrets.size() == 50);
  CHECK(ids.size() == 50);
}

TEST_CASE("deleting a user deletes their keys", "[unit]") {
  auto db = open_database(":memory:");
  users_repo users(db);
  api_keys_repo keys(db);
  auto u = users.create("alice");
  auto k = keys.create({u->id, {"chat"}, "", {}, {}, {}});
  users.remove(u->id);
  CHECK_FALSE(keys.find_by_secret(k.secret));
}
