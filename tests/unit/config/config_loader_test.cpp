#include "config/config_loader.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

using chat::config_error;
using chat::config_sources;
using chat::load_config;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string error_of(const config_sources& sources) {
  try {
    load_config(sources);
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST_CASE("defaults are the documented ones", "[unit]") {
  auto cfg = load_config({});
  CHECK(cfg.server.listen == "127.0.0.1:8080");
  CHECK(cfg.data_dir == "./data");
  CHECK(cfg.workers.devices == std::vector<std::string>{"cpu"});
  CHECK(cfg.log.level == "info");
}

TEST_CASE("file, then environment, then flags", "[unit]") {
  config_sources src;
  src.json_text = R"({"server":{"listen":"127.0.0.1:1","io_threads":3},
                      "data_dir":"/from/file","log":{"level":"warn"}})";
  src.env = {{"CHATD_LISTEN", "127.0.0.1:2"},
             {"CHATD_DATA_DIR", "/from/env"},
             {"PATH", "/bin"}};
  src.args = {"--listen", "127.0.0.1:3"};
  auto cfg = load_config(src);
  CHECK(cfg.server.listen == "127.0.0.1:3");
  CHECK(cfg.data_dir == "/from/env");
  CHECK(cfg.server.io_threads == 3);
  CHECK(cfg.log.level == "warn");

  src.args = {"--data-dir=/from/flag", "--server.io_threads", "5"};
  cfg = load_config(src);
  CHECK(cfg.server.listen == "127.0.0.1:2");
  CHECK(cfg.data_dir == "/from/flag");
  CHECK(cfg.server.io_threads == 5);
}

TEST_CASE("full environment names and list values", "[unit]") {
  config_sources src;
  src.env = {{"CHATD_SERVER_LISTEN", "[::1]:9000"},
             {"CHATD_WORKERS_DEVICES", "cpu,cuda:1"}};
  auto cfg = load_config(src);
  CHECK(cfg.server.listen == "[::1]:9000");
  CHECK(cfg.workers.devices == std::vector<std::string>{"cpu", "cuda:1"});
  auto hp = chat::parse_host_port("k", cfg.server.listen);
  CHECK(hp.first == "::1");
  CHECK(hp.second == 9000);
}

TEST_CASE("every error names the key and the problem", "[unit]") {
  config_sources src;
  SECTION("unknown file key") {
    src.json_text = R"({"server":{"lisen":"x"}})";
    CHECK_THAT(error_of(src), Catch::Contains("unknown config key 'server.lisen'"));
  }
  SECTION("unknown top-level key") {
    src.json_text = R"({"nope":1})";
    CHECK_THAT(error_of(src), Catch::Contains("'nope'"));
  }
  SECTION("section given a scalar") {
    src.json_text = R"({"server":5})";
    CHECK_THAT(error_of(src), Catch::Contains("server") && Catch::Contains("object"));
  }
  SECTION("invalid JSON") {
    src.json_text = "{";
    CHECK_THAT(error_of(src), Catch::Contains("invalid JSON"));
  }
  SECTION("a number too large for a double (found by fuzz/config)") {
    src.json_text = R"({"server":{"io_threads":1e999}})";
    CHECK_THAT(error_of(src), Catch::Contains("invalid JSON"));
  }
  SECTION("not an object") {
    src.json_text = "[1]";
    CHECK_THAT(error_of(src), Catch::Contains("expected a JSON object"));
  }
  SECTION("wrong type") {
    src.json_text = R"({"server":{"io_threads":"many"}})";
    CHECK_THAT(error_of(src), Catch::Contains("server.io_threads")
                                && Catch::Contains("not an integer"));
  }
  SECTION("wrong JSON type for a string") {
    src.json_text = R"({"data_dir":7})";
    CHECK_THAT(error_of(src), Catch::Contains("data_dir")
                                && Catch::Contains("expected a string"));
  }
  SECTION("out of range") {
    src.args = {"--server.io_threads=0"};
    CHECK_THAT(error_of(src), Catch::Contains("--server.io_threads")
                                && Catch::Contains("out of range"));
  }
  SECTION("bad listen address") {
    src.env = {{"CHATD_LISTEN", "localhost"}};
    CHECK_THAT(error_of(src), Catch::Contains("CHATD_LISTEN")
                                && Catch::Contains("HOST:PORT"));
  }
  SECTION("port out of range") {
    src.args = {"--listen=127.0.0.1:70000"};
    CHECK_THAT(error_of(src), Catch::Contains("out of range"));
  }
  SECTION("bad log level") {
    src.args = {"--log-level", "loud"};
    CHECK_THAT(error_of(src), Catch::Contains("log-level") && Catch::Contains("loud"));
  }
  SECTION("bad device") {
    src.json_text = R"({"workers":{"devices":["cpu","tpu"]}})";
    CHECK_THAT(error_of(src), Catch::Contains("workers.devices")
                                && Catch::Contains("tpu"));
  }
  SECTION("bad precision") {
    src.args = {"--worker.precision", "fp8"};
    CHECK_THAT(error_of(src), Catch::Contains("worker.precision")
                                && Catch::Contains("fp8"));
  }
  SECTION("unknown environment variable") {
    src.env = {{"CHATD_LISTN", "x"}};
    CHECK_THAT(error_of(src), Catch::Contains("CHATD_LISTN"));
  }
  SECTION("unknown flag") {
    src.args = {"--lsten=1"};
    CHECK_THAT(error_of(src), Catch::Contains("--lsten"));
  }
  SECTION("flag without value") {
    src.args = {"--listen"};
    CHECK_THAT(error_of(src), Catch::Contains("missing value"));
  }
  SECTION("positional argument") {
    src.args = {"stray"};
    CHECK_THAT(error_of(src), Catch::Contains("stray"));
  }
  SECTION("inconsistent backoff") {
    src.args = {"--workers.restart_backoff_ms=500",
                "--workers.restart_backoff_max_ms=100"};
    CHECK_THAT(error_of(src), Catch::Contains("restart_backoff_max_ms"));
  }
  SECTION("worker TLS without its CA") {
    src.args = {"--worker.tls_cert=c.pem", "--worker.tls_key=k.pem"};
    CHECK_THAT(error_of(src), Catch::Contains("worker.tls_ca"));
  }
  SECTION("a limit out of range") {
    src.args = {"--limits.max_tokens=0"};
    CHECK_THAT(error_of(src), Catch::Contains("limits.max_tokens"));
  }
  SECTION("a draft longer than 64 tokens") {
    src.args = {"--worker.draft_tokens=65"};
    CHECK_THAT(error_of(src), Catch::Contains("worker.draft_tokens"));
  }
}

TEST_CASE("the example config is valid and equals the defaults", "[unit]") {
  config_sources src;
  src.json_text = read_file(CHAT_SOURCE_DIR "/config/chatd.example.jsonc");
  REQUIRE_FALSE(src.json_text.empty());
  auto cfg = load_config(src);
  CHECK(chat::config_to_json(cfg) == chat::config_to_json(chat::config{}));
}

TEST_CASE("help lists every key with its variable", "[unit]") {
  auto help = chat::config_help();
  CHECK_THAT(help, Catch::Contains("--listen") && Catch::Contains("CHATD_LISTEN")
                     && Catch::Contains("CHATD_DATA_DIR"));
}
