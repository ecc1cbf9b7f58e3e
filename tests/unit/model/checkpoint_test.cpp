#include "model/checkpoint.hpp"

#include <cstring>
#include <fstream>

#include <torch/torch.h>

#include "model/tensor_file.hpp"
#include "tests/unit/model/temp_dir.hpp"

// LibTorch pulls in glog, whose CHECK aborts; Catch's CHECK must win.
#undef CHECK
#include <catch2/catch.hpp>

using namespace chat::model;
namespace fs = std::filesystem;

namespace {

gpt_config tiny_config() {
  gpt_config c;
  c.vocab_size = 40;
  c.context = 16;
  c.n_layer = 2;
  c.n_head = 2;
  c.d_model = 16;
  return c;
}

fs::path saved_checkpoint(const chat::test::temp_dir& tmp) {
  torch::manual_seed(1337);
  gpt model(tiny_config());
  const auto dir = tmp / "ckpt";
  write_checkpoint(dir, model, {{"step", 7}});
  return dir;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_all(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
}

std::string load_error(const fs::path& dir) {
  try {
    load_gpt(dir, {});
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("checkpoint round trip is bit-exact", "[unit]") {
  chat::test::temp_dir tmp;
  write_all(tmp / "tokenizer.model", "spm bytes");
  torch::manual_seed(1337);
  gpt model(tiny_config());
  const nlohmann::json meta = {{"parent", nullptr}, {"job", "j1"},
                               {"step", 100}, {"metrics", {{"loss", 1.5}}}};
  checkpoint_extras extras;
  extras.copy_files = {tmp / "tokenizer.model"};
  extras.write_files = [](const fs::path& dir) {
    std::ofstream(dir / "note.txt") << "hello";
  };
  const auto dir = tmp / "out" / "ckpt-100";
  write_checkpoint(dir, model, meta, extras);

  CHECK(read_all(dir / "tokenizer.model") == "spm bytes");
  CHECK(read_all(dir / "note.txt") == "hello");
  CHECK(read_checkpoint_meta(dir) == meta);
  CHECK(read_checkpoint_config(dir).same_architecture(tiny_config()));
  // No temporary directory is left behind.
  CHECK(std::distance(fs::directory_iterator(tmp / "out"),
                      fs::directory_iterator()) == 1);

  auto loaded = load_gpt(dir, {});
  auto a = model->named_parameters();
  auto b = loaded->named_parameters();
  REQUIRE(a.size() == b.size());
  for (const auto& p : a) CHECK(torch::equal(p.value(), b[p.key()]));

  CHECK_THROWS_WITH(write_checkpoint(dir, model, meta),
                    Catch::Contains("already exists"));
  CHECK_THROWS_WITH(write_checkpoint(tmp / "x", model, nlohmann::json(3)),
                    Catch::Contains("JSON object"));
}

TEST_CASE("tensor file keeps every dtype bit-exactly", "[unit]") {
  chat::test::temp_dir tmp;
  named_tensors in = {
      {"f32", torch::randn({3, 4})},
      {"bf16", torch::randn({5}).to(torch::kBFloat16)},
      {"f16", torch::randn({2, 2}).to(torch::kHalf)},
      {"i64", torch::arange(7)},
      {"u8", torch::randint(255, {9}, torch::kByte)},
      {"empty", torch::zeros({0, 3})},
      {"scalar", torch::tensor(2.5)}};
  write_tensor_file((tmp / "t.pt").string(), in);
  auto out = read_tensor_file((tmp / "t.pt").string());
  REQUIRE(out.size() == in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    CHECK(out[i].first == in[i].first);
    CHECK(out[i].second.scalar_type() == in[i].second.scalar_type());
    CHECK(torch::equal(out[i].second, in[i].second));
  }
}

TEST_CASE("a truncated model.pt is refused", "[unit]") {
  chat::test::temp_dir tmp;
  const auto dir = saved_checkpoint(tmp);
  const auto bytes = read_all(dir / "model.pt");
  for (size_t keep : {size_t(0), size_t(5), size_t(30), bytes.size() / 2,
                      bytes.size() - 1}) {
    write_all(dir / "model.pt", bytes.substr(0, keep));
    INFO("kept " << keep << " bytes");
    CHECK_THAT(load_error(dir), Catch::Contains("model.pt") &&
                                    Catch::Contains("HINT"));
  }
  write_all(dir / "model.pt", bytes.substr(0, bytes.size() / 2));
  CHECK_THAT(load_error(dir), Catch::Contains("truncated"));
}

TEST_CASE("an edited model.pt fails its checksum", "[unit]") {
  chat::test::temp_dir tmp;
  const auto dir = saved_checkpoint(tmp);
  auto bytes = read_all(dir / "model.pt");
  bytes[bytes.size() - 100] ^= 0x01;  // one bit of the last tensor's data
  write_all(dir / "model.pt", bytes);
  CHECK_THAT(load_error(dir), Catch::Contains("checksum mismatch"));
}

TEST_CASE("wrong magic or version is refused", "[unit]") {
  chat::test::temp_dir tmp;
  const auto dir = saved_checkpoint(tmp);
  const auto bytes = read_all(dir / "model.pt");
  auto bad = bytes;
  bad[0] = 'X';
  write_all(dir / "model.pt", bad);
  CHECK_THAT(load_error(dir), Catch::Contains("magic is 'XHATTNSR'") &&
                                  Catch::Contains("expected 'CHATTNSR'"));
  bad = bytes;
  bad[8] = 9;
  write_all(dir / "model.pt", bad);
  CHECK_THAT(load_error(dir),
             Catch::Contains("format version 9, expected 1"));
}

TEST_CASE("huge sizes in the header are refused without allocating",
          "[unit]") {
  chat::test::temp_dir tmp;
  const auto path = (tmp / "t.pt").string();
  write_tensor_file(path, {{"w", torch::zeros({4})}});
  auto bytes = read_all(path);
  // Entry layout after the 24-byte preamble: u32 name_len, "w", u8 dtype,
  // u8 ndim, u64 dim0.
  const size_t dim0 = 24 + 4 + 1 + 1 + 1;
  const uint64_t huge = uint64_t(1) << 60;
  std::memcpy(&bytes[dim0], &huge, sizeof huge);
  write_all(path, bytes);
  CHECK_THROWS_WITH(read_tensor_file(path),
                    Catch::Contains("larger than the file"));
  bytes = read_all(path);
  const uint32_t huge_name = 1u << 31;
  std::memcpy(&bytes[24], &huge_name, sizeof huge_name);
  write_all(path, bytes);
  CHECK_THROWS_WITH(read_tensor_file(path), Catch::Contains("-byte name"));
}

TEST_CASE("weights that do not match config.json are refused", "[unit]") {
  chat::test::temp_dir tmp;
  const auto dir = saved_checkpoint(tmp);
  auto config = gpt_config_to_json(tiny_config());
  config["d_model"] = 32;
  std::ofstream(dir / "config.json", std::ios::trunc) << config.dump();
  CHECK_THAT(load_error(dir), Catch::Contains("has shape") &&
                                  Catch::Contains("expects") &&
                                  Catch::Contains("HINT"));
  config = gpt_config_to_json(tiny_config());
  config["n_layer"] = 3;
  std::ofstream(dir / "config.json", std::ios::trunc) << config.dump();
  CHECK_THAT(load_error(dir), Catch::Contains("the model expects"));
  config["n_layer"] = 2;
  config["bogus"] = 1;
  std::ofstream(dir / "config.json", std::ios::trunc) << config.dump();
  CHECK_THAT(load_error(dir), Catch::Contains("unknown key 'bogus'"));
  std::ofstream(dir / "config.json", std::ios::trunc) << "{not json";
  CHECK_THAT(load_error(dir), Catch::Contains("not valid JSON"));
}
