#include "training/train.hpp"

#include <fstream>

#include "model/checkpoint.hpp"
#include "model/shard/token_shard.hpp"
#include "model/tensor_file.hpp"
#include "tests/unit/model/temp_dir.hpp"

// LibTorch pulls in glog, whose CHECK aborts; Catch's CHECK must win.
#undef CHECK
#include <catch2/catch.hpp>

using namespace chat::training;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

/// Byte-level tinyshakespeare: train.bin and val.bin in `dir`.
void write_byte_corpus(const fs::path& dir, size_t train_bytes,
                       size_t val_bytes, bool with_mask = false) {
  std::ifstream in(std::string(CHAT_SHARED_DIR) + "/data/tinyshakespeare.txt",
                   std::ios::binary);
  REQUIRE(in);
  std::string text(train_bytes + val_bytes, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  auto shard_of = [&](size_t from, size_t n) {
    chat::shard::token_shard s;
    s.vocab_size = 256;
    for (size_t i = from; i < from + n; ++i) {
      s.tokens.push_back(static_cast<unsigned char>(text[i]));
      if (with_mask) s.loss_mask.push_back(text[i] == ' ' ? 0 : 1);
    }
    return s;
  };
  fs::create_directories(dir);
  chat::shard::write_shard((dir / "train.bin").string(),
                           shard_of(0, train_bytes));
  chat::shard::write_shard((dir / "val.bin").string(),
                           shard_of(train_bytes, val_bytes));
}

/// A byte corpus unlike Shakespeare ("0123456789" repeated) in `dir`.
void write_digit_corpus(const fs::path& dir) {
  auto shard_of = [](size_t n) {
    chat::shard::token_shard s;
    s.vocab_size = 256;
    for (size_t i = 0; i < n; ++i) s.tokens.push_back('0' + i % 10);
    return s;
  };
  fs::create_directories(dir);
  chat::shard::write_shard((dir / "train.bin").string(), shard_of(3000));
  chat::shard::write_shard((dir / "val.bin").string(), shard_of(600));
}

json tiny_spec(const fs::path& data, const fs::path& out) {
  return {{"type", "pretrain"},
          {"data_dir", data.string()},
          {"out_dir", out.string()},
          {"model",
           {{"vocab_size", 256}, {"context", 32}, {"n_layer", 2},
            {"n_head", 4}, {"d_model", 64}}},
          {"hyper",
           {{"max_steps", 12}, {"batch_size", 4}, {"grad_accum", 2},
            {"lr", 3e-3}, {"min_lr", 3e-4}, {"warmup_steps", 3},
            {"dropout", 0.1}, {"eval_interval", 4}, {"eval_steps", 2},
            {"checkpoint_interval", 5}, {"seed", 1337}, {"device", "cpu"}}}};
}

/// Runs a job and returns its events; `stop_at` requests a stop once that
/// step's event arrives.
std::vector<json> run(const json& spec, int64_t stop_at = -1,
                      train_result* result = nullptr) {
  std::vector<json> events;
  std::atomic<bool> stop{false};
  auto r = run_training_job(parse_job_spec(spec), [&](const json& e) {
    events.push_back(e);
    if (e["type"] == "step" && e["step"] == stop_at) stop = true;
  }, stop);
  if (result) *result = r;
  return events;
}

std::vector<json> of_type(const std::vector<json>& events,
                          const std::string& type) {
  std::vector<json> out;
  for (const auto& e : events)
    if (e["type"] == type) out.push_back(e);
  return out;
}

}  // namespace

TEST_CASE("an interrupted and resumed run matches an uninterrupted one step "
          "for step", "[integration]") {
  chat::test::temp_dir tmp;
  write_byte_corpus(tmp / "data", 20000, 4000);
  train_result whole_result, first_result, rest_result;
  auto whole = run(tiny_spec(tmp / "data", tmp / "whole"), -1, &whole_result);
  auto first = run(tiny_spec(tmp / "data", tmp / "split"), 7, &first_result);
  CHECK(first_result.outcome == train_outcome::stopped);
  CHECK(first_result.step == 7);
  CHECK(fs::exists(tmp / "split" / "step-00000007" / "train_state.pt"));
  auto rest = run(tiny_spec(tmp / "data", tmp / "split"), -1, &rest_result);
  CHECK(rest_result.outcome == train_outcome::finished);
  CHECK(rest.front()["resumed_from"] ==
        (tmp / "split" / "step-00000007").string());

  auto expected = of_type(whole, "step");
  auto got = of_type(first, "step");
  for (const auto& e : of_type(rest, "step")) got.push_back(e);
  REQUIRE(expected.size() == 12);
  REQUIRE(got.size() == 12);
  for (size_t i = 0; i < 12; ++i) {
    INFO("step " << i + 1);
    CHECK(got[i]["step"] == expected[i]["step"]);
    CHECK(got[i]["train_loss"].get<double>() ==
          expected[i]["train_loss"].get<double>());
    CHECK(got[i]["grad_norm"].get<double>() ==
          expected[i]["grad_norm"].get<double>());
    CHECK(got[i]["lr"].get<double>() == expected[i]["lr"].get<double>());
  }
  auto expected_eval = of_type(whole, "eval");
  auto got_eval = of_type(first, "eval");
  for (const auto& e : of_type(rest, "eval")) got_eval.push_back(e);
  CHECK(got_eval == expected_eval);

  auto a = chat::model::read_tensor_file(
      (whole_result.checkpoint / "model.pt").string());
  auto b = chat::model::read_tensor_file(
      (rest_result.checkpoint / "model.pt").string());
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i)
    CHECK(torch::equal(a[i].second, b[i].second));
  // Periodic checkpoints of the whole run: 5, 10 and the final 12.
  CHECK(of_type(whole, "checkpoint").size() == 3);
  CHECK(of_type(whole, "done").empty());  // "done" is the main's to print
}

TEST_CASE("validation loss falls on a tiny corpus", "[integration]") {
  chat::test::temp_dir tmp;
  write_byte_corpus(tmp / "data", 200000, 20000);
  auto spec = tiny_spec(tmp / "data", tmp / "out");
  spec["model"]["context"] = 64;
  spec["hyper"] = {{"max_steps", 300}, {"batch_size", 16}, {"lr", 3e-3},
                   {"min_lr", 3e-4}, {"warmup_steps", 20},
                   {"eval_interval", 100}, {"eval_steps", 8},
                   {"checkpoint_interval", 1000}, {"device", "cpu"}};
  auto evals = of_type(run(spec), "eval");
  REQUIRE(evals.size() == 4);  // steps 0, 100, 200, 300
  const double first = evals.front()["val_loss"];
  const double last = evals.back()["val_loss"];
  INFO("val loss " << first << " -> " << last);
  CHECK(first > 5.0);          // ~ln(256) untrained
  CHECK(last < first - 2.0);   // a clear margin
  CHECK(evals.back()["perplexity"].get<double>() ==
        Approx(std::exp(last)));
}

TEST_CASE("fine-tuning starts from the base checkpoint with masked data",
          "[integration]") {
  chat::test::temp_dir tmp;
  write_byte_corpus(tmp / "data", 20000, 4000);
  write_byte_corpus(tmp / "chat", 20000, 4000, /*with_mask=*/true);
  std::ofstream(tmp / "tokenizer.model") << "spm";
  train_result base;
  run(tiny_spec(tmp / "data", tmp / "base"), -1, &base);

  json spec = tiny_spec(tmp / "chat", tmp / "ft");
  spec.erase("model");
  spec["type"] = "finetune";
  spec["base_checkpoint"] = base.checkpoint.string();
  spec["extra_files"] = {(tmp / "tokenizer.model").string()};
  spec["hyper"]["max_steps"] = 3;
  train_result ft;
  auto events = run(spec, -1, &ft);
  CHECK(events.front()["job_type"] == "finetune");
  auto meta = chat::model::read_checkpoint_meta(ft.checkpoint);
  CHECK(meta["parent"] == base.checkpoint.string());
  CHECK(meta["step"] == 3);
  CHECK(fs::exists(ft.checkpoint / "tokenizer.model"));
  // The base's fitted model starts well below an untrained one.
  CHECK(of_type(events, "eval").front()["val_loss"].get<double>() < 5.0);

  // Pretrain data has no mask: a fine-tune on it is refused.
  spec["data_dir"] = (tmp / "data").string();
  spec["out_dir"] = (tmp / "ft2").string();
  CHECK_THROWS_WITH(run(spec), Catch::Contains("no loss mask"));
}

TEST_CASE("a fine-tune with text_mix learns the chats and the text and "
          "resumes exactly", "[integration]") {
  chat::test::temp_dir tmp;
  write_byte_corpus(tmp / "data", 20000, 4000);
  write_byte_corpus(tmp / "chat", 20000, 4000, /*with_mask=*/true);
  write_digit_corpus(tmp / "digits");
  train_result base;
  run(tiny_spec(tmp / "data", tmp / "base"), -1, &base);

  auto mixed_spec = [&](const fs::path& out) {
    json spec = tiny_spec(tmp / "chat", out);
    spec.erase("model");
    spec["type"] = "finetune";
    spec["base_checkpoint"] = base.checkpoint.string();
    spec["text_mix"] = {{"data_dir", (tmp / "digits").string()},
                        {"fraction", 0.25}};
    spec["hyper"]["max_steps"] = 40;
    spec["hyper"]["eval_interval"] = 20;
    spec["hyper"]["checkpoint_interval"] = 100;
    return spec;
  };
  auto whole = run(mixed_spec(tmp / "whole"));
  auto evals = of_type(whole, "eval");
  REQUIRE(evals.size() == 3);  // steps 0, 20, 40
  // The digits appear only in the text rows: their loss falls only if the
  // text is trained on. The chat loss (masked) falls as well.
  const double text_first = evals.front()["text_val_loss"];
  const double text_last = evals.back()["text_val_loss"];
  INFO("text val loss " << text_first << " -> " << text_last);
  CHECK(text_last < text_first - 1.0);
  CHECK(evals.back()["val_loss"].get<double>() <
        evals.front()["val_loss"].get<double>());

  // The text sampler's RNG is part of the resume state.
  run(mixed_spec(tmp / "split"), 13);
  auto rest = run(mixed_spec(tmp / "split"));
  auto expected = of_type(whole, "step");
  auto resumed = of_type(rest, "step");
  REQUIRE(resumed.size() == 27);
  for (size_t i = 0; i < resumed.size(); ++i) {
    INFO("step " << i + 14);
    CHECK(resumed[i]["train_loss"].get<double>() ==
          expected[i + 13]["train_loss"].get<double>());
  }
}

TEST_CASE("a diverging run stops with an error naming the loss",
          "[integration]") {
  chat::test::temp_dir tmp;
  write_byte_corpus(tmp / "data", 20000, 4000);
  auto spec = tiny_spec(tmp / "data", tmp / "out");
  spec["hyper"]["lr"] = 1e12;
  spec["hyper"]["min_lr"] = 1e12;
  spec["hyper"]["warmup_steps"] = 0;
  spec["hyper"]["grad_clip"] = 0.0;
  spec["hyper"]["max_steps"] = 50;
  spec["hyper"]["eval_interval"] = 1000;
  CHECK_THROWS_WITH(run(spec), Catch::Contains("training loss is"));
}

TEST_CASE("resuming with a different model is refused", "[integration]") {
  chat::test::temp_dir tmp;
  write_byte_corpus(tmp / "data", 20000, 4000);
  auto spec = tiny_spec(tmp / "data", tmp / "out");
  spec["hyper"]["max_steps"] = 2;
  run(spec);
  spec["model"]["d_model"] = 32;
  CHECK_THROWS_WITH(run(spec), Catch::Contains("use a fresh out_dir"));
}
