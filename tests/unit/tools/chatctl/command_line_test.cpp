#include "tools/chatctl/cli.hpp"

#include <catch2/catch.hpp>

using chat::cli::cli_error;
using chat::cli::command_line;
using chat::cli::parse_command_line;

namespace {

command_line parse(std::vector<std::string> args) {
  return parse_command_line(args, nullptr, nullptr);
}

} // namespace

TEST_CASE("chatctl parses global options, words and flags", "[unit]") {
  auto cl = parse({"--url", "http://h:1", "--json", "datasets", "upload",
                   "f.txt", "--kind", "text", "--key", "k"});
  CHECK(cl.url == "http://h:1");
  CHECK(cl.key == "k");
  CHECK(cl.json);
  CHECK_FALSE(cl.help);
  CHECK(cl.words == std::vector<std::string>{"datasets", "upload", "f.txt"});
  CHECK(cl.flag("kind") == "text");
  CHECK(cl.flag("name", "fallback") == "fallback");
  CHECK(cl.arg(1, "FILE") == "f.txt");
  CHECK_THROWS_AS(cl.arg(2, "MORE"), cli_error);
}

TEST_CASE("chatctl takes the URL and key from the environment unless given",
          "[unit]") {
  auto env = parse_command_line({"status"}, "http://env:2", "envkey");
  CHECK(env.url == "http://env:2");
  CHECK(env.key == "envkey");
  auto given = parse_command_line({"--key", "flag", "status"}, nullptr,
                                  "envkey");
  CHECK(given.key == "flag");
  CHECK(given.url == "http://127.0.0.1:8080");
}

TEST_CASE("chatctl keeps every value of a repeated flag", "[unit]") {
  auto cl = parse({"jobs", "submit", "--dataset", "ds_a", "--lr", "1",
                   "--dataset", "ds_b"});
  CHECK(cl.values("dataset") == std::vector<std::string>{"ds_a", "ds_b"});
  CHECK(cl.flag("dataset") == "ds_b");
  CHECK(cl.values("seed").empty());
}

TEST_CASE("chatctl switches take no value", "[unit]") {
  auto cl = parse({"jobs", "submit", "--auto-activate", "--type", "pretrain",
                   "--watch"});
  CHECK(cl.has("auto-activate"));
  CHECK(cl.has("watch"));
  CHECK(cl.flag("type") == "pretrain");
  CHECK_FALSE(cl.has("spec"));
}

TEST_CASE("chatctl rejects a flag without its value", "[unit]") {
  CHECK_THROWS_WITH(parse({"jobs", "show", "--lr"}), "--lr needs a value");
}

TEST_CASE("chatctl checks numeric flags", "[unit]") {
  auto cl = parse({"x", "--n", "12", "--bad", "12x", "--lr", "3e-4",
                   "--inf", "inf"});
  CHECK(chat::cli::int_flag(cl, "n") == 12);
  CHECK_FALSE(chat::cli::int_flag(cl, "absent"));
  CHECK_THROWS_WITH(chat::cli::int_flag(cl, "bad"),
                    "--bad must be an integer (got '12x')");
  CHECK(chat::cli::number_flag(cl, "lr") == Approx(3e-4));
  CHECK_THROWS_AS(chat::cli::number_flag(cl, "inf"), cli_error);
  CHECK_THROWS_AS(chat::cli::number_flag(cl, "bad"), cli_error);
}

TEST_CASE("chatctl names an unknown flag", "[unit]") {
  auto cl = parse({"datasets", "upload", "f", "--knd", "text"});
  CHECK_THROWS_WITH(
    chat::cli::reject_unknown_flags(cl, {"kind", "name"}),
    Catch::Contains("unknown flag --knd for 'datasets upload'"));
  CHECK_NOTHROW(chat::cli::reject_unknown_flags(cl, {"knd"}));
}

TEST_CASE("chatctl percent-encodes path segments and query values",
          "[unit]") {
  CHECK(chat::cli::percent_encode("ds_1-a.b") == "ds_1-a.b");
  CHECK(chat::cli::percent_encode("a b/c&d=é") == "a%20b%2Fc%26d%3D%C3%A9");
}
