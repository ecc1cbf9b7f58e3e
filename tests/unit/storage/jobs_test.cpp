#include "storage/database.hpp"
#include "storage/datasets.hpp"
#include "storage/jobs.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace chat::storage;
using json = nlohmann::json;

namespace {

struct fixture {
  SQLite::Database db = open_database(":memory:");
  datasets_repo datasets{db};
  jobs_repo jobs{db};

  fixture() {
    datasets.insert({"ds_a", "a", "chat", 10, "00", 1});
    datasets.insert({"ds_b", "b", "text", 10, "00", 1});
  }

  job_record submit(const std::string& id, std::int64_t created_at) {
    job_record j;
    j.id = id;
    j.type = "finetune";
    j.request = R"({"type":"finetune"})";
    j.created_at = created_at;
    jobs.insert(j, {"ds_b", "ds_a"});
    return j;
  }

  std::vector<std::string> statuses(const std::string& id) {
    std::vector<std::string> out;
    for (const auto& e : jobs.events_after(id, 0))
      if (e.type == "status")
        out.push_back(json::parse(e.payload)["status"]);
    return out;
  }
};

} // namespace

TEST_CASE("a job goes from queued to succeeded with a status event per "
          "step",
          "[unit]") {
  fixture f;
  f.submit("job_1", 5);
  auto queued = f.jobs.find("job_1");
  REQUIRE(queued);
  CHECK(queued->status == "queued");
  CHECK_FALSE(queued->started_at);
  CHECK(f.jobs.dataset_ids("job_1")
        == std::vector<std::string>{"ds_b", "ds_a"});
  CHECK(f.datasets.in_use("ds_a"));

  f.jobs.set_status("job_1", "preparing");
  auto preparing = f.jobs.find("job_1");
  CHECK(preparing->started_at);
  CHECK(f.jobs.unfinished().size() == 1);
  f.jobs.set_status("job_1", "running");
  f.jobs.record("job_1", {{"step", R"({"step":1})"}}, R"({"step":1})");
  f.jobs.set_status("job_1", "succeeded", std::nullopt, "model_1");

  auto done = f.jobs.find("job_1");
  CHECK(done->status == "succeeded");
  CHECK(done->finished_at);
  CHECK(done->result_model_id == "model_1");
  CHECK(done->progress == R"({"step":1})");
  CHECK_FALSE(f.datasets.in_use("ds_a"));
  CHECK(f.jobs.unfinished().empty());
  CHECK(f.statuses("job_1")
        == std::vector<std::string>{"queued", "preparing", "running",
                                    "succeeded"});
  auto events = f.jobs.events_after("job_1", 0);
  for (std::size_t i = 0; i < events.size(); ++i)
    CHECK(events[i].seq == static_cast<std::int64_t>(i + 1));
  CHECK(f.jobs.events_after("job_1", 4).size() == 1);
  CHECK(json::parse(events.back().payload)["result_model_id"] == "model_1");
}

TEST_CASE("the oldest queued job comes next; cancel ends only queued ones "
          "at once",
          "[unit]") {
  fixture f;
  f.submit("job_new", 9);
  f.submit("job_old", 3);
  CHECK(f.jobs.next_queued()->id == "job_old");

  CHECK(f.jobs.cancel_if_queued("job_old"));
  CHECK(f.jobs.find("job_old")->status == "cancelled");
  CHECK(f.jobs.find("job_old")->finished_at);
  CHECK_FALSE(f.jobs.cancel_if_queued("job_old"));
  CHECK(f.jobs.next_queued()->id == "job_new");

  f.jobs.set_status("job_new", "preparing");
  CHECK_FALSE(f.jobs.cancel_if_queued("job_new"));
  CHECK_FALSE(f.jobs.find("job_new")->cancel_requested);
  f.jobs.request_cancel("job_new");
  CHECK(f.jobs.find("job_new")->cancel_requested);
  CHECK_FALSE(f.jobs.next_queued());

  f.jobs.set_status("job_new", "failed", std::string("it \"broke\"\n"));
  CHECK(f.jobs.find("job_new")->error == "it \"broke\"\n");
  CHECK(json::parse(f.jobs.events_after("job_new", 0).back().payload)["error"]
        == "it \"broke\"\n");
  auto counts = f.jobs.count_by_status();
  CHECK(counts["cancelled"] == 1);
  CHECK(counts["failed"] == 1);
  CHECK(counts.count("queued") == 0);
  CHECK(f.jobs.list().front().id == "job_new");
}
