#include "actors/model_activation.hpp"

#include "actors/protocol/errc.hpp"
#include "actors/protocol/type_ids.hpp"
#include "actors/store.hpp"
#include "test_model.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <future>

using namespace chat;

namespace {

constexpr auto timeout = std::chrono::seconds(10);

/// A pool whose workers all switch, except to model "refused".
pool_actor::behavior_type fake_pool(pool_actor::pointer) {
  return {
    [](atom::join, worker_info&, caf::actor&) { return std::string(); },
    [](atom::get) { return std::vector<worker_info>{}; },
    [](atom::generate, generate_request&,
       token_sink_actor&) -> caf::result<generation_result> {
      return make_error(errc::no_model, "no worker");
    },
    [](atom::cancel, std::uint64_t) {},
    [](atom::status) { return std::vector<worker_row>{}; },
    [](atom::activate, model_ref& ref) -> caf::result<std::string> {
      if (ref.id == "refused")
        return make_error(errc::model_load_failed, "model.pt: bad magic");
      return ref.id;
    },
  };
}

struct system_config : caf::actor_system_config {
  system_config() {
    add_message_types<caf::id_block::chat>();
  }
};

struct fixture {
  fixture() {
    deps.system = &sys;
    deps.store = sys.spawn<caf::detached>(store, std::string(":memory:"));
    deps.pool = sys.spawn(fake_pool);
    deps.model = std::make_shared<model_slot>(test::tiny_served_model());
    // A checkpoint as chatd reads it: config.json and the tokenizer.
    std::ofstream(tmp.file("config.json"))
      << R"({"context":64,"vocab_size":512,"d_model":8,"n_layer":1})";
    tokenizer::test::shakespeare_tokenizer().save(tmp.file("tokenizer.model"));
    checkpoint = std::filesystem::path(tmp.file("config.json")).parent_path();
    in_store([](store_context& db) {
      storage::model_record old;
      old.id = "tiny";
      old.status = "active";
      old.path = "/nowhere/tiny";
      db.models.insert(old);
      db.models.activate("tiny");
    });
    for (const char* id : {"new", "refused"})
      register_model(id, checkpoint.string());
  }

  ~fixture() {
    caf::anon_send_exit(deps.pool, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(deps.store, caf::exit_reason::user_shutdown);
  }

  /// Runs `task` on the store and waits for it.
  void in_store(std::function<void(store_context&)> task) {
    std::promise<void> ran;
    run_in_store(deps.store, [&](store_context& db) {
      task(db);
      ran.set_value();
    });
    REQUIRE(ran.get_future().wait_for(timeout) == std::future_status::ready);
  }

  void register_model(const std::string& id, const std::string& path) {
    in_store([&](store_context& db) {
      storage::model_record m;
      m.id = id;
      m.path = path;
      db.models.insert(m);
    });
  }

  std::string status_of(const std::string& id) {
    std::string status;
    in_store([&](store_context& db) { status = db.models.find(id)->status; });
    return status;
  }

  activation_outcome activate(const std::string& id) {
    auto outcome = std::make_shared<std::promise<activation_outcome>>();
    activate_model(deps, id, [outcome](activation_outcome o) {
      outcome->set_value(std::move(o));
    });
    auto ended = outcome->get_future();
    REQUIRE(ended.wait_for(timeout) == std::future_status::ready);
    return ended.get();
  }

  tokenizer::test::temp_dir tmp;
  std::filesystem::path checkpoint;
  system_config cfg;
  caf::actor_system sys{cfg};
  gateway_deps deps;
};

} // namespace

TEST_CASE("an activation swaps chatd's model after the workers and marks "
          "it active",
          "[unit]") {
  fixture f;
  auto outcome = f.activate("new");
  REQUIRE_FALSE(outcome.error);
  REQUIRE(outcome.model);
  CHECK(outcome.model->id == "new");
  CHECK(outcome.model->status == "active");
  auto served = f.deps.model->get();
  CHECK(served->id == "new");
  CHECK(served->context == 64);
  CHECK(served->tokenizer->vocab_size() == 512);
  CHECK(f.status_of("tiny") == "ready");
}

TEST_CASE("a failed activation says why and changes nothing", "[unit]") {
  fixture f;
  auto error_of = [&](const std::string& id) {
    auto outcome = f.activate(id);
    REQUIRE(outcome.error);
    CHECK_FALSE(outcome.model);
    // Never a file path or a worker's own words.
    CHECK(std::string(outcome.error->what()).find('/') == std::string::npos);
    CHECK(std::string(outcome.error->what()).find("magic")
          == std::string::npos);
    return *outcome.error;
  };
  auto unknown = error_of("nope");
  CHECK(unknown.status == 404);
  CHECK(unknown.code == "model_not_found");

  f.register_model("broken", (f.checkpoint / "missing").string());
  auto broken = error_of("broken");
  CHECK(broken.status == 422);
  CHECK(broken.code == "model_unloadable");

  auto refused = error_of("refused");
  CHECK(refused.status == 503);
  CHECK(refused.code == "activation_failed");

  REQUIRE(f.deps.model->begin_swap());
  auto busy = error_of("new");
  CHECK(busy.status == 409);
  CHECK(busy.code == "activation_in_progress");
  f.deps.model->end_swap();

  CHECK(f.deps.model->get()->id == "tiny");
  CHECK(f.status_of("tiny") == "active");
  CHECK(f.status_of("refused") == "ready");
  // The failures gave the right to swap back.
  CHECK_FALSE(f.activate("new").error);
}
