#include "model/tokenizer/chat_jsonl.hpp"

#include "test_tokenizer.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace chat::tokenizer;
using chat::tokenizer::test::temp_dir;

namespace {

const std::string good_line =
    R"({"messages":[{"role":"system","content":"Be kind."},)"
    R"({"role":"user","content":"Hi"},)"
    R"({"role":"assistant","content":"Hello!"}]})";

// The reason parse_chat_line gives for `line`.
std::string reason_for(const std::string& line) {
  try {
    parse_chat_line(line);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

} // namespace

TEST_CASE("a valid chat line parses into messages", "[unit]") {
  auto messages = parse_chat_line(good_line);
  REQUIRE(messages.size() == 3);
  CHECK(messages[0].role == chat_role::system);
  CHECK(messages[2].content == "Hello!");
  CHECK(parse_chat_line(good_line + "\r").size() == 3);
}

TEST_CASE("malformed chat lines are refused with a reason", "[unit]") {
  using Catch::Contains;
  CHECK_THAT(reason_for(""), Contains("empty line"));
  CHECK_THAT(reason_for("{\"messages\":["), Contains("invalid JSON"));
  // Found by fuzzing: out_of_range, not parse_error, escaped the reader.
  CHECK_THAT(reason_for(R"({"messages":1e999})"), Contains("invalid JSON"));
  CHECK_THAT(reason_for("[1,2]"), Contains("expected an object"));
  CHECK_THAT(reason_for("{}"), Contains("missing field \"messages\""));
  CHECK_THAT(reason_for(R"({"messages":[],"x":1})"),
             Contains("unexpected field \"x\""));
  CHECK_THAT(reason_for(R"({"messages":"hi"})"),
             Contains("\"messages\" must be an array, got string"));
  CHECK_THAT(reason_for(R"({"messages":[]})"), Contains("is empty"));
  CHECK_THAT(reason_for(R"({"messages":[3]})"),
             Contains("message 1: expected an object"));
  CHECK_THAT(reason_for(R"({"messages":[{"role":"user"}]})"),
             Contains("message 1: missing field \"content\""));
  CHECK_THAT(reason_for(R"({"messages":[{"content":"x"}]})"),
             Contains("missing field \"role\""));
  CHECK_THAT(
      reason_for(R"({"messages":[{"role":"user","content":"x","name":"a"}]})"),
      Contains("unexpected field \"name\""));
  CHECK_THAT(reason_for(R"({"messages":[{"role":"user","content":5}]})"),
             Contains("\"content\" must be a string, got number"));
  CHECK_THAT(reason_for(R"({"messages":[{"role":7,"content":"x"}]})"),
             Contains("\"role\" must be a string"));
  CHECK_THAT(reason_for(R"({"messages":[{"role":"user","content":"x"},)"
                        R"({"role":"bot","content":"y"}]})"),
             Contains("message 2: unknown role \"bot\""));
  CHECK_THAT(reason_for(R"({"messages":[{"role":"user","content":"x"},)"
                        R"({"role":"system","content":"y"}]})"),
             Contains("system message may only come first"));
  CHECK_THAT(reason_for(R"({"messages":[{"role":"user","content":"x"}]})"),
             Contains("no assistant message"));
  CHECK_THAT(reason_for("{\"messages\":[{\"role\":\"user\",\"content\":\"\xC3"
                        "\x28\"}]}"),
             Contains("invalid UTF-8 at byte"));
  CHECK_THAT(
      reason_for(
          R"({"messages":[{"role":"assistant","content":"\ud800"}]})"),
      Contains("invalid JSON"));
  CHECK_THAT(reason_for(std::string(100000, '[')), Contains("nested deeper"));
}

TEST_CASE("streaming reader names the line of the first defect", "[unit]") {
  std::vector<size_t> sizes;
  chat_jsonl_reader reader("upload.jsonl",
                           [&](std::vector<chat_message>&& messages) {
                             sizes.push_back(messages.size());
                           });
  const std::string data = good_line + "\n" + good_line + "\n{\"x\":1}\n";
  // Byte-at-a-time feeding must see the same lines as one big chunk.
  try {
    for (char c : data)
      reader.feed(std::string_view(&c, 1));
    FAIL("bad third line accepted");
  } catch (const chat_data_error& e) {
    CHECK(e.source() == "upload.jsonl");
    CHECK(e.line() == 3);
    CHECK_THAT(e.what(), Catch::StartsWith("upload.jsonl:3: unexpected field"));
  }
  CHECK(sizes == std::vector<size_t>{3, 3});
}

TEST_CASE("streaming reader handles a missing final newline", "[unit]") {
  chat_jsonl_reader reader("x");
  reader.feed(good_line + "\n" + good_line);
  CHECK(reader.conversations() == 1);
  reader.finish();
  CHECK(reader.conversations() == 2);
}

TEST_CASE("streaming reader refuses empty data and huge lines", "[unit]") {
  chat_jsonl_reader empty("empty.jsonl");
  CHECK_THROWS_WITH(empty.finish(),
                    Catch::Contains("empty.jsonl:1: no conversations"));
  chat_jsonl_reader small("big.jsonl", {}, 64);
  CHECK_THROWS_WITH(small.feed(std::string(100, 'x')),
                    Catch::Contains("big.jsonl:1: line longer than 64"));
}

TEST_CASE("reading a JSONL file reports file and line", "[unit]") {
  temp_dir dir;
  const auto path = dir.file("chat.jsonl");
  std::ofstream(path) << good_line << "\n\n" << good_line << "\n";
  CHECK_THROWS_WITH(read_chat_jsonl_file(path, {}),
                    Catch::Contains(path + ":2: empty line"));
  CHECK_THROWS_WITH(read_chat_jsonl_file(dir.file("none.jsonl"), {}),
                    Catch::Contains("none.jsonl"));
}
