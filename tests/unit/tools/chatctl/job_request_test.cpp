#include "tools/chatctl/job_request.hpp"

#include "tests/unit/model/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using chat::cli::cli_error;
using chat::cli::job_request;
using chat::cli::parse_command_line;
using json = nlohmann::json;

namespace {

json request(std::vector<std::string> flags) {
  flags.insert(flags.begin(), {"jobs", "submit"});
  return job_request(parse_command_line(flags, nullptr, nullptr));
}

} // namespace

TEST_CASE("jobs submit builds a pretrain request from flags", "[unit]") {
  auto body = request({"--type", "pretrain", "--dataset", "ds_a",
                       "--dataset", "ds_b", "--n-layer", "2", "--n-head",
                       "2", "--d-model", "64", "--context", "128",
                       "--vocab-size", "400", "--max-steps", "100",
                       "--lr", "3e-4", "--dropout", "0", "--precision",
                       "bf16", "--device", "cuda", "--auto-activate"});
  CHECK(body == json{{"type", "pretrain"},
                     {"dataset_ids", {"ds_a", "ds_b"}},
                     {"model",
                      {{"n_layer", 2},
                       {"n_head", 2},
                       {"d_model", 64},
                       {"context", 128},
                       {"vocab_size", 400}}},
                     {"hyper",
                      {{"max_steps", 100},
                       {"lr", 3e-4},
                       {"dropout", 0.0},
                       {"precision", "bf16"},
                       {"device", "cuda"}}},
                     {"auto_activate", true}});
  CHECK(body["model"]["n_layer"].is_number_integer());
  CHECK(body["hyper"]["dropout"].is_number_float());
}

TEST_CASE("jobs submit sends every hyper field under its API name",
          "[unit]") {
  auto body = request(
    {"--type", "finetune", "--base-model", "mdl_1", "--batch-size", "8",
     "--grad-accum", "2", "--min-lr", "1e-5", "--warmup-steps", "10",
     "--weight-decay", "0.1", "--grad-clip", "1.0", "--eval-interval", "50",
     "--eval-steps", "5", "--checkpoint-interval", "100", "--seed", "1337"});
  CHECK(body["base_model_id"] == "mdl_1");
  CHECK(body["hyper"] == json{{"batch_size", 8},
                              {"grad_accum", 2},
                              {"min_lr", 1e-5},
                              {"warmup_steps", 10},
                              {"weight_decay", 0.1},
                              {"grad_clip", 1.0},
                              {"eval_interval", 50},
                              {"eval_steps", 5},
                              {"checkpoint_interval", 100},
                              {"seed", 1337}});
  CHECK_FALSE(body.contains("model"));
  CHECK_FALSE(body.contains("auto_activate"));
}

TEST_CASE("jobs submit sets flags over the --spec file", "[unit]") {
  chat::test::temp_dir dir;
  auto spec = (dir / "job.json").string();
  std::ofstream(spec) << R"({"type":"finetune","dataset_ids":["ds_old"],
    "hyper":{"max_steps":10,"lr":0.001},"auto_activate":false})";
  auto body = request({"--spec", spec, "--max-steps", "20", "--dataset",
                       "ds_new"});
  CHECK(body == json{{"type", "finetune"},
                     {"dataset_ids", {"ds_new"}},
                     {"hyper", {{"max_steps", 20}, {"lr", 0.001}}},
                     {"auto_activate", false}});
  CHECK(request({"--spec", spec}) == json::parse(R"({"type":"finetune",
    "dataset_ids":["ds_old"],"hyper":{"max_steps":10,"lr":0.001},
    "auto_activate":false})"));
}

TEST_CASE("jobs submit refuses what it cannot send", "[unit]") {
  chat::test::temp_dir dir;
  CHECK_THROWS_WITH(request({"--dataset", "ds_a"}),
                    Catch::Contains("needs --type"));
  CHECK_THROWS_WITH(request({"--type", "pretrain", "--max-steps", "ten"}),
                    "--max-steps must be an integer (got 'ten')");
  CHECK_THROWS_WITH(request({"--type", "pretrain", "--lr", ""}),
                    "--lr needs a number");
  CHECK_THROWS_WITH(request({"--type", "pretrain", "--max-step", "10"}),
                    Catch::Contains("unknown flag --max-step"));
  CHECK_THROWS_WITH(request({"--spec", (dir / "missing.json").string()}),
                    Catch::Contains("cannot open"));
  auto list = (dir / "list.json").string();
  std::ofstream(list) << "[1,2]";
  CHECK_THROWS_WITH(request({"--spec", list}),
                    Catch::Contains("expected a JSON object"));
  auto broken = (dir / "broken.json").string();
  std::ofstream(broken) << "{\"type\":";
  CHECK_THROWS_WITH(request({"--spec", broken}),
                    Catch::Contains("not valid JSON"));
  auto bad_hyper = (dir / "hyper.json").string();
  std::ofstream(bad_hyper) << R"({"type":"pretrain","hyper":3})";
  CHECK_THROWS_AS(request({"--spec", bad_hyper, "--seed", "1"}), cli_error);
}
