#include "storage/database.hpp"
#include "storage/ids.hpp"
#include "storage/sessions.hpp"
#include "storage/users.hpp"

#include <catch2/catch.hpp>

using namespace chat::storage;

namespace {

struct fixture {
  SQLite::Database db = open_database(":memory:");
  users_repo users{db};
  sessions_repo sessions{db};
  std::string alice = users.create("alice")->id;
  std::string bob = users.create("bob")->id;
};

} // namespace

TEST_CASE("sessions round trip", "[unit]") {
  fixture f;
  auto s = f.sessions.create(f.alice, "Plans", "Be brief.");
  auto got = f.sessions.find(f.alice, s.id);
  REQUIRE(got);
  CHECK(got->title == "Plans");
  CHECK(got->system_prompt == "Be brief.");
  CHECK(got->message_count == 0);

  auto changed = f.sessions.update(f.alice, s.id, std::string("New"), {});
  REQUIRE(changed);
  CHECK(changed->title == "New");
  CHECK(changed->system_prompt == "Be brief.");
  CHECK(f.sessions.remove(f.alice, s.id));
  CHECK_FALSE(f.sessions.find(f.alice, s.id));
}

TEST_CASE("another user's session behaves as a missing one", "[unit]") {
  fixture f;
  auto s = f.sessions.create(f.alice, "mine", "");
  CHECK_FALSE(f.sessions.find(f.bob, s.id));
  CHECK_FALSE(f.sessions.update(f.bob, s.id, std::string("x"), {}));
  CHECK_FALSE(f.sessions.remove(f.bob, s.id));
  CHECK_FALSE(f.sessions.append_exchange(
    f.bob, s.id, {new_id("msg"), new_id("msg"), "hi", 1, "yo", 1, "stop"}));
  CHECK(f.sessions.list(f.bob, 10).items.empty());
  CHECK(f.sessions.find(f.alice, s.id)->title == "mine");
}

TEST_CASE("exchanges are stored in order with their reply", "[unit]") {
  fixture f;
  auto s = f.sessions.create(f.alice, "", "");
  exchange first{new_id("msg"), new_id("msg"), "What is 2+2?", 7, "4.", 2,
                 "stop"};
  REQUIRE(f.sessions.append_exchange(f.alice, s.id, first));
  f.sessions.append_exchange(f.alice, s.id, {new_id("msg"), new_id("msg"),
                                             "And 3+3?", 6, "6", 1,
                                             "cancelled"});
  auto msgs = f.sessions.messages(s.id);
  REQUIRE(msgs.size() == 4);
  CHECK(msgs[0].id == first.user_message_id);
  CHECK(msgs[0].role == "user");
  CHECK(msgs[0].content == "What is 2+2?");
  CHECK_FALSE(msgs[0].finish_reason);
  CHECK(msgs[1].id == first.reply_message_id);
  CHECK(msgs[1].role == "assistant");
  CHECK(msgs[1].tokens == 2);
  CHECK(msgs[1].finish_reason == "stop");
  CHECK(msgs[3].finish_reason == "cancelled");
  CHECK(f.sessions.find(f.alice, s.id)->message_count == 4);
}

TEST_CASE("session lists page newest first", "[unit]") {
  fixture f;
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(f.sessions.create(f.alice, std::to_string(i), "").id);
  auto first = f.sessions.list(f.alice, 2);
  REQUIRE(first.items.size() == 2);
  CHECK(first.has_more);
  CHECK(first.items[0].id == ids[4]);
  CHECK(first.items[1].id == ids[3]);
  auto second = f.sessions.list(f.alice, 2, first.items.back().id);
  REQUIRE(second.items.size() == 2);
  CHECK(second.items[0].id == ids[2]);
  auto last = f.sessions.list(f.alice, 2, second.items.back().id);
  REQUIRE(last.items.size() == 1);
  CHECK_FALSE(last.has_more);
  CHECK(last.items[0].id == ids[0]);
}

TEST_CASE("deleting a session deletes its messages", "[unit]") {
  fixture f;
  auto s = f.sessions.create(f.alice, "", "");
  f.sessions.append_exchange(f.alice, s.id, {new_id("msg"), new_id("msg"), "a",
                                             1, "b", 1, "stop"});
  f.sessions.remove(f.alice, s.id);
  CHECK(f.sessions.messages(s.id).empty());
}

TEST_CASE("hostile text is stored verbatim, never as SQL", "[unit]") {
  fixture f;
  std::string nasty = "'); DROP TABLE users; -- \xF0\x9F\x98\x80";
  auto s = f.sessions.create(f.alice, nasty, nasty);
  CHECK(f.sessions.find(f.alice, s.id)->title == nasty);
  CHECK(f.users.count() == 2);
}
