#include "model/gpt_config.hpp"

#include "model/device.hpp"

// LibTorch pulls in glog, whose CHECK aborts; Catch's CHECK must win.
#undef CHECK
#include <catch2/catch.hpp>

using namespace chat::model;

TEST_CASE("gpt_config round-trips through JSON", "[unit]") {
  gpt_config c;
  c.vocab_size = 100;
  c.n_layer = 3;
  c.dropout = 0.25;
  auto back = gpt_config_from_json(gpt_config_to_json(c));
  CHECK(back.same_architecture(c));
  CHECK(back.dropout == 0.25);
}

TEST_CASE("gpt_config errors name the key", "[unit]") {
  CHECK_THROWS_WITH(gpt_config_from_json({{"n_layers", 2}}),
                    Catch::Contains("unknown key 'n_layers'"));
  CHECK_THROWS_WITH(gpt_config_from_json({{"d_model", "big"}}),
                    Catch::Contains("'d_model' has the wrong type"));
  CHECK_THROWS_WITH(gpt_config_from_json({{"d_model", 2.5}}),
                    Catch::Contains("'d_model' must be an integer"));
  CHECK_THROWS_WITH(gpt_config_from_json({{"d_model", 100}, {"n_head", 3}}),
                    Catch::Contains("multiple of n_head"));
  CHECK_THROWS_WITH(gpt_config_from_json({{"dropout", 1.0}}),
                    Catch::Contains("dropout"));
  CHECK_THROWS_WITH(gpt_config_from_json({{"vocab_size", 1LL << 40}}),
                    Catch::Contains("vocab_size"));
  CHECK_THROWS_WITH(gpt_config_from_json(nlohmann::json::array()),
                    Catch::Contains("expected a JSON object"));
}

TEST_CASE("device choice on this machine", "[unit]") {
  auto cpu = choose_device("cpu", "auto");
  CHECK(cpu.device.is_cpu());
  CHECK(cpu.dtype == c10::kFloat);
  CHECK_THROWS_WITH(choose_device("cpu", "bf16"),
                    Catch::Contains("needs CUDA"));
  CHECK_THROWS_WITH(choose_device("tpu", "auto"), Catch::Contains("unknown"));
  CHECK_THROWS_WITH(choose_device("cpu", "fp8"), Catch::Contains("unknown"));
  CHECK(precision_name(c10::kBFloat16) == "bf16");
}

TEST_CASE("serving on the CPU offers bf16 weights and cache, fp32 compute",
          "[unit]") {
  auto bf16 = choose_inference_device("cpu", "bf16");
  CHECK(bf16.device.is_cpu());
  CHECK(bf16.dtype == c10::kFloat);
  CHECK(bf16.weights == c10::kBFloat16);
  CHECK(bf16.cache == c10::kBFloat16);
  auto fp32 = choose_inference_device("cpu", "auto");
  CHECK(fp32.dtype == c10::kFloat);
  CHECK(fp32.weights == c10::kFloat);
  CHECK(fp32.cache == c10::kFloat);
  // Training has no bf16 CPU path.
  CHECK_THROWS_WITH(choose_device("cpu", "bf16"),
                    Catch::Contains("needs CUDA"));
  CHECK_THROWS_WITH(choose_inference_device("cpu", "fp16"),
                    Catch::Contains("needs CUDA"));
}
