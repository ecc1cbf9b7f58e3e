#include "actors/worker_pool.hpp"

#include "actors/protocol/errc.hpp"
#include "actors/protocol/type_ids.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <thread>

using namespace chat;

namespace {

constexpr auto timeout = std::chrono::seconds(10);

/// What a fake worker has loaded; the active model first.
struct fake_worker_state {
  std::vector<std::string> models;
};

/// A worker without an engine: loads any path but `bad_path`, activates
/// what it loaded and answers a generate with the model it would use.
inference_actor::behavior_type
fake_worker(inference_actor::stateful_pointer<fake_worker_state> self,
            std::string model, std::string bad_path) {
  self->state.models = {std::move(model)};
  return {
    [self](atom::generate, generate_request& req,
           token_sink_actor&) -> caf::result<generation_result> {
      auto& models = self->state.models;
      auto id = req.model_id.empty() ? models.front() : req.model_id;
      if (std::find(models.begin(), models.end(), id) == models.end())
        return make_error(errc::model_unavailable, id);
      return generation_result{req.id, 1, 0, "stop", id};
    },
    [](atom::cancel, std::uint64_t) {},
    [self](atom::get) {
      worker_status s;
      s.model_id = self->state.models.front();
      return s;
    },
    [self, bad_path](atom::load,
                     model_ref& ref) -> caf::result<std::string> {
      if (ref.path == bad_path)
        return make_error(errc::model_load_failed, ref.path);
      self->state.models.push_back(ref.id);
      return ref.id;
    },
    [self](atom::activate,
           std::string& id) -> caf::result<std::vector<std::string>> {
      auto& models = self->state.models;
      auto it = std::find(models.begin(), models.end(), id);
      if (it == models.end())
        return make_error(errc::model_unavailable, id);
      std::rotate(models.begin(), it, it + 1);
      models.resize(std::min<size_t>(models.size(), 2));
      return models;
    },
  };
}

struct system_config : caf::actor_system_config {
  system_config() {
    add_message_types<caf::id_block::chat>();
  }
};

struct fixture {
  ~fixture() {
    caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
    for (auto& w : workers)
      caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  }

  void join(const std::string& model, const std::string& bad_path = {}) {
    auto worker = sys.spawn(fake_worker, model, bad_path);
    workers.push_back(worker);
    worker_info info;
    info.name = "fake-" + std::to_string(workers.size());
    info.model_id = model;
    self->request(pool, timeout, atom::join::value, info,
                  caf::actor_cast<caf::actor>(worker))
      .receive([](std::string&) {},
               [&](caf::error& err) { FAIL(sys.render(err)); });
  }

  caf::expected<std::string> activate(const std::string& id,
                                      const std::string& path) {
    caf::expected<std::string> out{std::string()};
    self->request(pool, timeout, atom::activate::value, model_ref{id, path})
      .receive([&](std::string& r) { out = std::move(r); },
               [&](caf::error& err) { out = std::move(err); });
    return out;
  }

  /// The model each member serves, in join order.
  std::vector<std::string> served() {
    std::vector<std::string> out;
    self->request(pool, timeout, atom::get::value)
      .receive(
        [&](std::vector<worker_info>& infos) {
          for (auto& i : infos)
            out.push_back(i.model_id);
        },
        [&](caf::error& err) { FAIL(sys.render(err)); });
    return out;
  }

  caf::expected<generation_result> generate(const std::string& model_id) {
    generate_request req;
    req.id = ++next_request;
    req.model_id = model_id;
    caf::expected<generation_result> out{generation_result{}};
    self->request(pool, timeout, atom::generate::value, req,
                  token_sink_actor{})
      .receive([&](generation_result& r) { out = std::move(r); },
               [&](caf::error& err) { out = std::move(err); });
    return out;
  }

  system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  pool_actor pool = sys.spawn(worker_pool, std::make_shared<service_state>());
  std::vector<inference_actor> workers;
  std::uint64_t next_request = 0;
};

} // namespace

TEST_CASE("the pool activates a model on every worker and routes requests "
          "by their model",
          "[unit]") {
  fixture f;
  f.join("a");
  f.join("a");
  auto activated = f.activate("b", "/models/b");
  REQUIRE(activated);
  CHECK(*activated == "b");
  CHECK(f.served() == std::vector<std::string>{"b", "b"});
  CHECK(f.generate("b")->model_id == "b");
  // Requests prepared for the previous model still find it.
  CHECK(f.generate("a")->model_id == "a");
  CHECK(f.generate("")->model_id == "b");
  auto unknown = f.generate("c");
  REQUIRE(!unknown);
  CHECK(is_errc(unknown.error(), errc::model_unavailable));
}

TEST_CASE("when one worker cannot load the model no worker switches",
          "[unit]") {
  fixture f;
  f.join("a");
  f.join("a", "/models/broken");
  auto failed = f.activate("b", "/models/broken");
  REQUIRE(!failed);
  CHECK(is_errc(failed.error(), errc::model_load_failed));
  CHECK(f.served() == std::vector<std::string>{"a", "a"});
  CHECK(f.generate("")->model_id == "a");
}

TEST_CASE("a worker that joins with another model is switched to the "
          "active one",
          "[unit]") {
  fixture f;
  auto none = f.generate("");
  REQUIRE(!none);
  CHECK(is_errc(none.error(), errc::no_model));
  REQUIRE(f.activate("b", "/models/b")); // no worker yet: remembered
  f.join("a");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (f.served() != std::vector<std::string>{"b"}
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  CHECK(f.served() == std::vector<std::string>{"b"});
}
