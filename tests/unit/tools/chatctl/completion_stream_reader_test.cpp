#include "tools/chatctl/bench_command.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace chat::cli;

namespace {

std::string chat_chunk(const std::string& text) {
  return "data: "
         + nlohmann::json{{"object", "chat.completion.chunk"},
                          {"choices",
                           {{{"index", 0}, {"delta", {{"content", text}}}}}}}
             .dump()
         + "\n\n";
}

const std::string usage_chunk
  = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,"
    "\"completion_tokens\":4,\"total_tokens\":11}}\n\n";
const std::string done = "data: [DONE]\n\n";

} // namespace

TEST_CASE("the reader times text chunks and takes tokens from usage",
          "[unit]") {
  completion_stream_reader r;
  r.feed("data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":"
         "\"assistant\"}}]}\n\n",
         0.05);
  r.feed(chat_chunk("Hel"), 0.2);
  r.feed(chat_chunk("lo"), 0.25);
  r.feed(chat_chunk(""), 0.3);
  r.feed(chat_chunk("!"), 0.4);
  r.feed(usage_chunk + done, 0.41);
  auto s = r.finish(0.5);
  CHECK(s.ok);
  CHECK(s.error.empty());
  CHECK(s.ttft_s == Approx(0.2));
  REQUIRE(s.token_gaps_s.size() == 2);
  CHECK(s.token_gaps_s[0] == Approx(0.05));
  CHECK(s.token_gaps_s[1] == Approx(0.15));
  CHECK(s.prompt_tokens == 7);
  CHECK(s.completion_tokens == 4);
  CHECK(s.latency_s == Approx(0.5));
}

TEST_CASE("the reader joins events split across pieces and CRLF lines",
          "[unit]") {
  completion_stream_reader r;
  const std::string text = "data: {\"choices\":[{\"text\":\"a\"}]}\r\n\r\n"
                           "data: {\"choices\":[{\"text\":\"b\"}]}\r\n\r\n"
                           "data: [DONE]\r\n\r\n";
  for (std::size_t i = 0; i < text.size(); i += 5)
    r.feed(text.substr(i, 5), static_cast<double>(i));
  auto s = r.finish(100);
  CHECK(s.ok);
  // No usage chunk: one token per text chunk.
  CHECK(s.completion_tokens == 2);
  CHECK(s.token_gaps_s.size() == 1);
}

TEST_CASE("the reader reports a stream without [DONE] as failed", "[unit]") {
  completion_stream_reader r;
  r.feed(chat_chunk("partial"), 0.1);
  auto s = r.finish(0.2);
  CHECK_FALSE(s.ok);
  CHECK(s.error == "the stream ended without [DONE]");
}

TEST_CASE("the reader reports an error event and bad chunks", "[unit]") {
  completion_stream_reader with_error;
  with_error.feed("data: {\"error\":{\"message\":\"worker failed\"}}\n\n"
                  + done,
                  0.1);
  auto s = with_error.finish(0.2);
  CHECK_FALSE(s.ok);
  CHECK(s.error == "worker failed");

  completion_stream_reader garbage;
  garbage.feed("data: [1,2\n\n" + done, 0.1);
  CHECK_FALSE(garbage.finish(0.2).ok);

  completion_stream_reader empty;
  empty.feed(done, 0.1);
  CHECK(empty.finish(0.2).error == "the reply had no text");
}

TEST_CASE("bench_request_body asks for a fixed-length streamed reply",
          "[unit]") {
  bench_options o;
  o.output_tokens = 64;
  o.prompt_words = 5;
  auto body = bench_request_body(o, 3);
  CHECK(body["stream"] == true);
  CHECK(body["stream_options"]["include_usage"] == true);
  CHECK(body["max_tokens"] == 64);
  CHECK(body["ignore_eos"] == true);
  CHECK(body["temperature"] == 0.0);
  CHECK_FALSE(body.contains("top_p"));
  CHECK_FALSE(body.contains("model"));
  const auto prompt = body["messages"][0]["content"].get<std::string>();
  CHECK(prompt.rfind("3:", 0) == 0);
  CHECK(std::count(prompt.begin(), prompt.end(), ' ') == 5);
  CHECK(bench_request_body(o, 4)["messages"][0]["content"] != prompt);

  o.chat = false;
  o.ignore_eos = false;
  o.model = "m1";
  o.top_p = 0.95;
  auto raw = bench_request_body(o, 0);
  CHECK(raw["top_p"] == 0.95);
  CHECK(raw["prompt"].is_string());
  CHECK_FALSE(raw.contains("messages"));
  CHECK_FALSE(raw.contains("ignore_eos"));
  CHECK(raw["model"] == "m1");
}
