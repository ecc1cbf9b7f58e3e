#include "model/shard/token_shard.hpp"

#include "test_tokenizer.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

using chat::shard::read_shard;
using chat::shard::token_shard;
using chat::shard::write_shard;
using chat::tokenizer::test::temp_dir;

namespace {

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// Recomputes the trailing checksum so that a test reaches the check after it.
std::string reseal(std::string bytes) {
  chat::shard::detail::fnv1a_64 sum;
  sum.update(reinterpret_cast<const unsigned char*>(bytes.data()),
             bytes.size() - 8);
  chat::shard::detail::put_u64(
      reinterpret_cast<unsigned char*>(bytes.data() + bytes.size() - 8),
      sum.value);
  return bytes;
}

void put_u32_at(std::string& bytes, size_t offset, uint32_t value) {
  chat::shard::detail::put_u32(
      reinterpret_cast<unsigned char*>(bytes.data() + offset), value);
}

void put_u64_at(std::string& bytes, size_t offset, uint64_t value) {
  chat::shard::detail::put_u64(
      reinterpret_cast<unsigned char*>(bytes.data() + offset), value);
}

token_shard sample(bool with_mask) {
  token_shard shard;
  shard.vocab_size = 100;
  shard.tokens = {0, 1, 42, 99, 7};
  if (with_mask)
    shard.loss_mask = {0, 1, 1, 0, 1};
  return shard;
}

// Lets `edit` damage a valid masked shard and expects read_shard to refuse
// it with a message naming the file and containing `reason`. The damaged
// copy is written without fsync to keep the test fast.
template <class Edit>
void expect_rejected(Edit edit, const std::string& reason) {
  static const std::string valid = [] {
    temp_dir dir;
    write_shard(dir.file("valid.bin"), sample(true));
    return read_bytes(dir.file("valid.bin"));
  }();
  temp_dir dir;
  const auto path = dir.file("s.bin");
  auto bytes = valid;
  edit(bytes);
  write_bytes(path, bytes);
  try {
    read_shard(path);
    FAIL("read_shard accepted a damaged file; expected: " << reason);
  } catch (const std::runtime_error& e) {
    CHECK_THAT(e.what(), Catch::Contains(path));
    CHECK_THAT(e.what(), Catch::Contains(reason));
  }
}

} // namespace

TEST_CASE("shard round trip with and without loss mask", "[unit]") {
  temp_dir dir;
  for (bool with_mask : {false, true}) {
    const auto path = dir.file("s.bin");
    const auto shard = sample(with_mask);
    write_shard(path, shard);
    auto back = read_shard(path);
    CHECK(back.tokens == shard.tokens);
    CHECK(back.loss_mask == shard.loss_mask);
    CHECK(back.vocab_size == shard.vocab_size);
    CHECK(std::filesystem::file_size(path) ==
          32 + shard.tokens.size() * (with_mask ? 5 : 4) + 8);
  }
}

TEST_CASE("shard layout is the documented little-endian format", "[unit]") {
  temp_dir dir;
  const auto path = dir.file("s.bin");
  write_shard(path, sample(true));
  const auto bytes = read_bytes(path);
  CHECK(bytes.substr(0, 8) == "CHATTOKS");
  CHECK(bytes[8] == 1);   // version
  CHECK(bytes[12] == 1);  // flags: has mask
  CHECK(bytes[16] == 100); // vocab size
  CHECK(bytes[24] == 5);  // n_tokens
  CHECK(bytes[32 + 4 * 2] == 42);
  CHECK(bytes[32 + 4 * 5 + 1] == 1); // mask[1]
}

TEST_CASE("empty shard round trips", "[unit]") {
  temp_dir dir;
  token_shard empty;
  empty.vocab_size = 3;
  write_shard(dir.file("e.bin"), empty);
  auto back = read_shard(dir.file("e.bin"));
  CHECK(back.tokens.empty());
  CHECK(back.loss_mask.empty());
}

TEST_CASE("write_shard is atomic and leaves no temp file", "[unit]") {
  temp_dir dir;
  write_shard(dir.file("s.bin"), sample(false));
  write_shard(dir.file("s.bin"), sample(true));
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(
           std::filesystem::path(dir.file("s.bin")).parent_path())) {
    (void)entry;
    ++files;
  }
  CHECK(files == 1);
  CHECK(read_shard(dir.file("s.bin")).loss_mask.size() == 5);
}

TEST_CASE("write_shard refuses inconsistent shards", "[unit]") {
  temp_dir dir;
  auto shard = sample(true);
  shard.tokens[1] = 100;
  CHECK_THROWS_AS(write_shard(dir.file("a.bin"), shard),
                  std::invalid_argument);
  shard = sample(true);
  shard.loss_mask.pop_back();
  CHECK_THROWS_AS(write_shard(dir.file("a.bin"), shard),
                  std::invalid_argument);
  shard = sample(true);
  shard.loss_mask[0] = 2;
  CHECK_THROWS_AS(write_shard(dir.file("a.bin"), shard),
                  std::invalid_argument);
  shard = sample(false);
  shard.vocab_size = 0;
  CHECK_THROWS_AS(write_shard(dir.file("a.bin"), shard),
                  std::invalid_argument);
  CHECK_THROWS_AS(write_shard(dir.file("missing/dir/a.bin"), sample(false)),
                  std::runtime_error);
  CHECK_FALSE(std::filesystem::exists(dir.file("a.bin")));
}

TEST_CASE("read_shard refuses every kind of damage", "[unit]") {
  expect_rejected([](std::string& b) { b[0] = 'X'; }, "bad magic");
  expect_rejected([](std::string& b) { put_u32_at(b, 8, 2); }, "version 2");
  expect_rejected([](std::string& b) { put_u32_at(b, 12, 3); },
                  "unknown flags");
  expect_rejected([](std::string& b) { put_u32_at(b, 16, 0); },
                  "vocab_size is 0");
  expect_rejected([](std::string& b) { put_u32_at(b, 20, 1); }, "reserved");
  expect_rejected([](std::string& b) { b.pop_back(); }, "truncated");
  expect_rejected([](std::string& b) { b.resize(20); }, "smaller than");
  expect_rejected([](std::string& b) { b += "xyz"; }, "3 trailing bytes");
  expect_rejected(
      [](std::string& b) { put_u64_at(b, 24, uint64_t(1) << 62); },
      "truncated or corrupt");
  expect_rejected(
      [](std::string& b) { put_u64_at(b, 24, ~uint64_t(0)); },
      "truncated or corrupt");
  expect_rejected([](std::string& b) { b[32 + 4] ^= 1; }, "checksum");
  expect_rejected(
      [](std::string& b) {
        put_u32_at(b, 32 + 4, 100);
        b = reseal(b);
      },
      "outside vocab");
  expect_rejected(
      [](std::string& b) {
        put_u32_at(b, 32, 0xFFFFFFFFu);
        b = reseal(b);
      },
      "token 0 is -1");
  expect_rejected(
      [](std::string& b) {
        b[32 + 4 * 5 + 2] = 2;
        b = reseal(b);
      },
      "mask byte 2 is 2");
  // Clearing the mask flag leaves five mask bytes the header no longer
  // accounts for.
  expect_rejected(
      [](std::string& b) {
        put_u32_at(b, 12, 0);
        b = reseal(b);
      },
      "trailing bytes");
}

TEST_CASE("read_shard names a missing file", "[unit]") {
  temp_dir dir;
  CHECK_THROWS_WITH(read_shard(dir.file("nope.bin")),
                    Catch::Contains("nope.bin") &&
                        Catch::Contains("cannot open"));
}
