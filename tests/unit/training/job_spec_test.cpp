#include "training/job_spec.hpp"

#include <catch2/catch.hpp>

using namespace chat::training;
using nlohmann::json;

namespace {

json pretrain_spec() {
  return {{"type", "pretrain"},
          {"data_dir", "/data"},
          {"out_dir", "/out"},
          {"extra_files", {"/data/tokenizer.model"}},
          {"model", {{"vocab_size", 256}, {"n_layer", 2}}},
          {"hyper", {{"max_steps", 10}, {"lr", 1e-3}, {"min_lr", 1e-4},
                     {"activation_checkpointing", true}}}};
}

std::string error_of(const json& j) {
  try {
    parse_job_spec(j);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("a valid pretrain spec parses", "[unit]") {
  auto spec = parse_job_spec(pretrain_spec());
  CHECK(spec.type == job_type::pretrain);
  CHECK(spec.model.vocab_size == 256);
  CHECK(spec.model.n_layer == 2);
  CHECK(spec.hyper.max_steps == 10);
  CHECK(spec.hyper.batch_size == 8);  // default
  CHECK(spec.hyper.activation_checkpointing);
  CHECK(spec.extra_files.size() == 1);
}

TEST_CASE("job spec errors name the key", "[unit]") {
  auto j = pretrain_spec();
  j["outdir"] = "x";
  CHECK_THAT(error_of(j), Catch::Contains("unknown key 'outdir'"));

  j = pretrain_spec();
  j["hyper"]["learning_rate"] = 1;
  CHECK_THAT(error_of(j), Catch::Contains("'hyper': unknown key "
                                          "'learning_rate'"));
  j = pretrain_spec();
  j["model"]["layers"] = 1;
  CHECK_THAT(error_of(j), Catch::Contains("'model': unknown key 'layers'"));

  j = pretrain_spec();
  j.erase("data_dir");
  CHECK_THAT(error_of(j), Catch::Contains("missing required key 'data_dir'"));

  j = pretrain_spec();
  j["hyper"]["max_steps"] = "ten";
  CHECK_THAT(error_of(j), Catch::Contains("'max_steps' has the wrong type"));

  j = pretrain_spec();
  j["hyper"]["batch_size"] = 0;
  CHECK_THAT(error_of(j), Catch::Contains("'batch_size' must be >= 1"));

  j = pretrain_spec();
  j["hyper"]["min_lr"] = 1.0;
  CHECK_THAT(error_of(j), Catch::Contains("'min_lr'"));

  j = pretrain_spec();
  j["hyper"]["precision"] = "fp8";
  CHECK_THAT(error_of(j), Catch::Contains("'precision'"));

  j = pretrain_spec();
  j["hyper"]["activation_checkpointing"] = 1;
  CHECK_THAT(error_of(j), Catch::Contains("'activation_checkpointing'"));

  j = pretrain_spec();
  j["type"] = "distill";
  CHECK_THAT(error_of(j), Catch::Contains("'type' is 'distill'"));

  j = pretrain_spec();
  j.erase("model");
  CHECK_THAT(error_of(j), Catch::Contains("'model' is required"));
}

TEST_CASE("finetune specs need a base checkpoint and no model", "[unit]") {
  auto j = pretrain_spec();
  j["type"] = "finetune";
  CHECK_THAT(error_of(j), Catch::Contains("'base_checkpoint' is required"));
  j["base_checkpoint"] = "/models/base";
  CHECK_THAT(error_of(j), Catch::Contains("'model' is not allowed"));
  j.erase("model");
  auto spec = parse_job_spec(j);
  CHECK(spec.type == job_type::finetune);
  CHECK(spec.base_checkpoint == "/models/base");
}
