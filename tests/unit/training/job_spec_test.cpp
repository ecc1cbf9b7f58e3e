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

TEST_CASE("text_mix is for finetune jobs and leaves room for both kinds of "
          "rows", "[unit]") {
  auto j = pretrain_spec();
  j["type"] = "finetune";
  j["base_checkpoint"] = "/models/base";
  j.erase("model");
  j["hyper"]["batch_size"] = 8;
  j["text_mix"] = {{"data_dir", "/text"}, {"fraction", 0.25}};
  auto spec = parse_job_spec(j);
  REQUIRE(spec.text_mix);
  CHECK(spec.text_mix->data_dir == "/text");
  CHECK(text_mix_rows(spec.text_mix->fraction, spec.hyper.batch_size) == 2);
  CHECK_FALSE(parse_job_spec(pretrain_spec()).text_mix);

  auto with_mix = [&](const json& mix) {
    auto k = j;
    k["text_mix"] = mix;
    return error_of(k);
  };
  CHECK_THAT(with_mix({{"data_dir", "/text"}, {"fraction", 0.0}}),
             Catch::Contains("'fraction' must be in (0, 1)"));
  CHECK_THAT(with_mix({{"data_dir", "/text"}, {"fraction", 1.0}}),
             Catch::Contains("'fraction' must be in (0, 1)"));
  CHECK_THAT(with_mix({{"data_dir", "/text"}, {"fraction", "half"}}),
             Catch::Contains("'fraction' has the wrong type"));
  // 0.05 of 8 rows rounds to no text row, 0.95 to no chat row.
  CHECK_THAT(with_mix({{"data_dir", "/text"}, {"fraction", 0.05}}),
             Catch::Contains("gives 0 text sequences in a batch of 8"));
  CHECK_THAT(with_mix({{"data_dir", "/text"}, {"fraction", 0.95}}),
             Catch::Contains("gives 8 text sequences"));
  CHECK_THAT(with_mix({{"fraction", 0.5}}),
             Catch::Contains("'text_mix': missing required key 'data_dir'"));
  CHECK_THAT(with_mix({{"data_dir", ""}, {"fraction", 0.5}}),
             Catch::Contains("'data_dir' must not be empty"));
  CHECK_THAT(with_mix({{"data_dir", "/t"}, {"fraction", 0.5}, {"w", 1}}),
             Catch::Contains("'text_mix': unknown key 'w'"));
  CHECK_THAT(with_mix(0.5), Catch::Contains("'text_mix': expected a JSON "
                                            "object"));

  auto pretrain = pretrain_spec();
  pretrain["text_mix"] = {{"data_dir", "/text"}, {"fraction", 0.25}};
  CHECK_THAT(error_of(pretrain),
             Catch::Contains("'text_mix' is only for finetune jobs"));
}
