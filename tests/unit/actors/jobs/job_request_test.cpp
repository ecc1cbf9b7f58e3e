#include "actors/api/api_error.hpp"
#include "actors/jobs/job_request.hpp"

#include <catch2/catch.hpp>

using chat::parse_job_request;
using json = nlohmann::json;

namespace {

/// The 422's param and message for `body`.
std::pair<std::string, std::string> rejection(const json& body) {
  try {
    parse_job_request(body);
  } catch (const chat::api::api_error& e) {
    CHECK(e.status == 422);
    CHECK(e.code == "invalid_job");
    return {e.param.value_or(""), e.what()};
  }
  FAIL("accepted " << body.dump());
  return {};
}

json finetune() {
  return {{"type", "finetune"}, {"dataset_ids", {"ds_1"}}};
}

json pretrain() {
  return {{"type", "pretrain"},
          {"dataset_ids", {"ds_1", "ds_2"}},
          {"model",
           {{"n_layer", 2},
            {"n_head", 2},
            {"d_model", 64},
            {"context", 64},
            {"vocab_size", 512}}}};
}

} // namespace

TEST_CASE("valid job requests parse and survive a round trip", "[unit]") {
  auto body = pretrain();
  body["hyper"] = {{"max_steps", 10}, {"lr", 1e-3}, {"precision", "fp32"}};
  body["auto_activate"] = true;
  auto r = parse_job_request(body);
  CHECK(r.type == "pretrain");
  CHECK(r.dataset_ids == std::vector<std::string>{"ds_1", "ds_2"});
  CHECK(r.auto_activate);
  CHECK(r.model["vocab_size"] == 512);
  auto again = parse_job_request(r.to_json());
  CHECK(again.to_json() == r.to_json());

  auto f = finetune();
  f["base_model_id"] = "model_x";
  auto ft = parse_job_request(f);
  CHECK(ft.base_model_id == "model_x");
  CHECK(ft.model.is_null());
  CHECK(ft.hyper == json::object());
}

TEST_CASE("unknown fields and bad values are 422s naming the field",
          "[unit]") {
  auto with = [](json body, const std::string& key, json value) {
    body[key] = std::move(value);
    return body;
  };
  CHECK(rejection(with(finetune(), "lr", 1)).first == "lr");
  CHECK(rejection(with(finetune(), "type", "distill")).first == "type");
  CHECK(rejection(with(finetune(), "dataset_ids", json::array())).first
        == "dataset_ids");
  CHECK(rejection(with(finetune(), "dataset_ids", {"ds_1", "ds_1"})).first
        == "dataset_ids");
  CHECK(rejection(with(finetune(), "auto_activate", "yes")).first
        == "auto_activate");
  CHECK(rejection(with(finetune(), "model", pretrain()["model"])).first
        == "model");
  CHECK(rejection(with(pretrain(), "base_model_id", "m")).first
        == "base_model_id");
  CHECK(rejection(with(finetune(), "hyper", 5)).first == "hyper");

  // The trainer's own rules, with the key named.
  auto lr = rejection(with(finetune(), "hyper", {{"lr", -1}}));
  CHECK(lr.first == "hyper.lr");
  CHECK(lr.second.find("'lr'") != std::string::npos);
  auto unknown = rejection(with(finetune(), "hyper", {{"lr_max", 1}}));
  CHECK(unknown.first == "hyper.lr_max");
  CHECK(rejection(with(finetune(), "hyper", {{"precision", "fp8"}})).first
        == "hyper.precision");
  CHECK(rejection(with(finetune(), "hyper", {{"max_steps", "ten"}})).first
        == "hyper.max_steps");
  // Mixing text into a fine-tune is chat-train's spec only (text_mix), not
  // a request field or a hyperparameter.
  CHECK(rejection(with(finetune(), "text_mix", {{"fraction", 0.25}})).first
        == "text_mix");
  CHECK(rejection(with(finetune(), "hyper", {{"text_mix", 0.25}})).first
        == "hyper.text_mix");

  auto model = pretrain();
  model["model"]["n_head"] = 3;
  auto heads = rejection(model);
  CHECK(heads.first == "model");
  CHECK(heads.second.find("n_head") != std::string::npos);
  model = pretrain();
  model["model"]["dropout"] = 0.1;
  CHECK(rejection(model).first == "model.dropout");
  model = pretrain();
  model["model"]["vocab_size"] = 200;
  CHECK(rejection(model).first == "model.vocab_size");
  model = pretrain();
  model.erase("model");
  CHECK(rejection(model).first == "model");
}
