#include "tools/chatctl/bench_options.hpp"

#include <catch2/catch.hpp>

using namespace chat::cli;

namespace {

command_line with_flags(std::multimap<std::string, std::string> flags,
                        std::string url = "http://127.0.0.1:8080") {
  command_line cl;
  cl.url = std::move(url);
  cl.words = {"bench"};
  cl.flags = std::move(flags);
  return cl;
}

/// The message of the cli_error that parsing `cl` throws.
std::string error_of(const command_line& cl) {
  try {
    parse_bench_options(cl);
  } catch (const cli_error& e) {
    return e.what();
  }
  FAIL("no cli_error was thrown");
  return {};
}

} // namespace

TEST_CASE("parse_base_url reads scheme, host, port and API path", "[unit]") {
  auto plain = parse_base_url("http://127.0.0.1:8080");
  CHECK(plain.to.host == "127.0.0.1");
  CHECK(plain.to.port == 8080);
  CHECK_FALSE(plain.to.tls);
  CHECK(plain.api_path == "/v1");

  auto tls = parse_base_url("https://api.example.com/v1/");
  CHECK(tls.to.host == "api.example.com");
  CHECK(tls.to.port == 443);
  CHECK(tls.to.tls);
  CHECK(tls.api_path == "/v1");

  CHECK(parse_base_url("http://h/openai").api_path == "/openai/v1");
  CHECK(parse_base_url("http://h").to.port == 80);
}

TEST_CASE("parse_base_url refuses what it cannot use", "[unit]") {
  CHECK_THROWS_AS(parse_base_url("ftp://h"), cli_error);
  CHECK_THROWS_AS(parse_base_url("127.0.0.1:8080"), cli_error);
  CHECK_THROWS_AS(parse_base_url("http://:80"), cli_error);
  CHECK_THROWS_AS(parse_base_url("http://h:0"), cli_error);
  CHECK_THROWS_AS(parse_base_url("http://h:65536"), cli_error);
  CHECK_THROWS_AS(parse_base_url("http://h:80x"), cli_error);
  CHECK_THROWS_AS(parse_base_url("http://h:"), cli_error);
}

TEST_CASE("parse_bench_options has defaults for every flag", "[unit]") {
  auto cl = with_flags({});
  cl.key = "sk-test";
  auto o = parse_bench_options(cl);
  CHECK(o.concurrency == 1);
  CHECK(o.requests == 16);
  CHECK(o.output_tokens == 128);
  CHECK(o.ignore_eos);
  CHECK(o.chat);
  CHECK(o.temperature == 0);
  CHECK(o.top_p == 1);
  CHECK(o.key == "sk-test");
  CHECK(o.model.empty());
}

TEST_CASE("parse_bench_options reads every flag", "[unit]") {
  auto cl = with_flags(
    {{"concurrency", "16"}, {"requests", "64"}, {"prompt-words", "100"},
     {"output-tokens", "32"}, {"ignore-eos", "off"}, {"temperature", "0.7"},
     {"top-p", "0.9"}, {"api", "completions"}, {"model", "m"}, {"timeout", "5"}},
    "https://h:8443");
  cl.ca_file = "/tmp/ca.pem";
  auto o = parse_bench_options(cl);
  CHECK(o.concurrency == 16);
  CHECK(o.requests == 64);
  CHECK(o.prompt_words == 100);
  CHECK(o.output_tokens == 32);
  CHECK_FALSE(o.ignore_eos);
  CHECK(o.temperature == Approx(0.7));
  CHECK(o.top_p == Approx(0.9));
  CHECK_FALSE(o.chat);
  CHECK(o.model == "m");
  CHECK(o.timeout_s == 5);
  CHECK(o.server.to.tls);
  CHECK(o.server.to.port == 8443);
  CHECK(o.server.to.ca_file == "/tmp/ca.pem");
}

TEST_CASE("parse_bench_options names the flag that is wrong", "[unit]") {
  CHECK_THAT(error_of(with_flags({{"concurrency", "0"}})),
             Catch::Contains("--concurrency"));
  CHECK_THAT(error_of(with_flags({{"requests", "ten"}})),
             Catch::Contains("--requests"));
  CHECK_THAT(error_of(with_flags({{"output-tokens", "12x"}})),
             Catch::Contains("--output-tokens"));
  CHECK_THAT(error_of(with_flags({{"temperature", "3"}})),
             Catch::Contains("--temperature"));
  CHECK_THAT(error_of(with_flags({{"temperature", "nan"}})),
             Catch::Contains("--temperature"));
  CHECK_THAT(error_of(with_flags({{"top-p", "0"}})),
             Catch::Contains("--top-p"));
  CHECK_THAT(error_of(with_flags({{"top-p", "1.5"}})),
             Catch::Contains("--top-p"));
  CHECK_THAT(error_of(with_flags({{"ignore-eos", "yes"}})),
             Catch::Contains("--ignore-eos"));
  CHECK_THAT(error_of(with_flags({{"api", "embeddings"}})),
             Catch::Contains("--api"));
  CHECK_THAT(error_of(with_flags({{"concurency", "4"}})),
             Catch::Contains("unknown flag --concurency"));
  CHECK_THAT(error_of(with_flags({}, "localhost:8080")),
             Catch::Contains("--url"));
}
