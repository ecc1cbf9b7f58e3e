// The worker transport over CAF's OpenSSL: with a CA and certificates made
// at test time, a remote worker with a certificate the CA signed (and
// chatd's own) joins and serves; a worker with a self-signed certificate,
// and one speaking the plain transport, never join.

#include "service_harness.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdlib>
#include <string>
#include <sys/wait.h>

using chat::testing::chatd_process;
using chat::testing::eventually;
using chat::testing::temp_dir;
using json = nlohmann::json;

namespace {

/// A P-256 key and a PEM certificate for it.
struct credentials {
  std::string cert;
  std::string key;
};

void run(const std::string& command) {
  INFO(command);
  REQUIRE(std::system((command + " 2>/dev/null").c_str()) == 0);
}

/// A private CA, and certificates it signed or that sign themselves.
class test_pki {
public:
  test_pki() {
    run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
        "-nodes -days 1 -subj /CN=chat-test-ca -keyout '" + path("ca.key")
        + "' -out '" + ca() + "'");
  }

  std::string ca() const {
    return path("ca.pem");
  }

  /// A certificate for `name` that the CA signed.
  credentials issue(const std::string& name) const {
    credentials out{path(name + ".pem"), path(name + ".key")};
    run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-subj /CN=" + name + " -keyout '" + out.key + "' -out '"
        + path(name + ".csr") + "'");
    run("openssl x509 -req -days 1 -in '" + path(name + ".csr") + "' -CA '"
        + ca() + "' -CAkey '" + path("ca.key") + "' -CAcreateserial -out '"
        + out.cert + "'");
    return out;
  }

  /// A certificate for `name` that signs itself (no CA vouches for it).
  credentials self_signed(const std::string& name) const {
    credentials out{path(name + ".pem"), path(name + ".key")};
    run("openssl req -x509 -newkey ec -pkeyopt "
        "ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=" + name
        + " -keyout '" + out.key + "' -out '" + out.cert + "'");
    return out;
  }

private:
  std::string path(const std::string& file) const {
    return (dir_.path / file).string();
  }

  temp_dir dir_;
};

std::vector<std::string> tls_flags(const credentials& own,
                                   const std::string& ca) {
  return {"--worker.tls_cert", own.cert, "--worker.tls_key", own.key,
          "--worker.tls_ca", ca};
}

/// A chat-worker joining `chatd` as `name` with `flags`; its log is
/// `<data_dir>/<name>.log`.
chat::child_process start_worker(const chatd_process& chatd,
                                 const std::string& name,
                                 const std::vector<std::string>& flags) {
  std::vector<std::string> argv{CHAT_BINARY_DIR "/tools/chat-worker",
                                "--connect", chatd.worker_address(),
                                "--name", name,
                                "--model", CHAT_TINY_MODEL_DIR};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return chat::testing::spawn_logged(argv,
                                     chatd.data_dir() / (name + ".log"));
}

std::size_t joined(const chatd_process& chatd) {
  return chatd.log_values("pool: worker joined", "name").size();
}

} // namespace

TEST_CASE("over the TLS worker transport a worker with a CA-signed "
          "certificate serves, while a self-signed or plain one never joins",
          "[integration]") {
  test_pki pki;
  auto flags = tls_flags(pki.issue("chatd"), pki.ca());
  flags.insert(flags.end(), {"--devices", ""});
  chatd_process chatd(flags);
  chatd.start();
  CHECK(chatd.log_values("chatd: accepting workers", "tls").back() == "on");

  auto rogue = start_worker(chatd, "rogue",
                            tls_flags(pki.self_signed("rogue"), pki.ca()));
  auto plain = start_worker(chatd, "plain", {});
  // Both are refused at the handshake: their connection fails and they exit
  // with an error instead of joining.
  std::optional<int> rogue_status, plain_status;
  CHECK(eventually([&] {
    if (!rogue_status)
      rogue_status = rogue.try_wait();
    if (!plain_status)
      plain_status = plain.try_wait();
    return rogue_status && plain_status;
  }));
  CHECK(chat::testing::read_file(chatd.data_dir() / "rogue.log")
          .find("cannot reach chatd")
        != std::string::npos);
  CHECK(chat::testing::read_file(chatd.data_dir() / "plain.log")
          .find("cannot reach chatd")
        != std::string::npos);
  CHECK(joined(chatd) == 0);
  CHECK(chatd.get("/readyz").status == 503);

  auto remote = start_worker(chatd, "remote",
                             tls_flags(pki.issue("remote"), pki.ca()));
  REQUIRE(eventually([&] { return chatd.get("/readyz").status == 200; }));
  CHECK(chatd.log_values("pool: worker joined", "name")
        == std::vector<std::string>{"remote"});
  const json body{{"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                  {"max_tokens", 8}};
  auto reply = chatd.request("POST", "/v1/chat/completions", body.dump(),
                             {{"Authorization", "Bearer " + chatd.admin_key()},
                              {"Content-Type", "application/json"}});
  INFO(reply.body);
  REQUIRE(reply.status == 200);
  CHECK(json::parse(reply.body)["usage"]["completion_tokens"] > 0);

  // A second worker that dies without a goodbye leaves the first one
  // serving (CAF's TLS transport used to drop every link then).
  auto spare = start_worker(chatd, "spare",
                            tls_flags(pki.issue("spare"), pki.ca()));
  REQUIRE(eventually([&] { return joined(chatd) == 2; }));
  REQUIRE(::kill(spare.pid(), SIGKILL) == 0);
  REQUIRE(eventually([&] {
    return chatd.log_values("pool: worker left", "name").size() == 1;
  }));
  for (int i = 0; i < 3; ++i) {
    auto again = chatd.request("POST", "/v1/chat/completions", body.dump(),
                               {{"Authorization", "Bearer " + chatd.admin_key()},
                                {"Content-Type", "application/json"}});
    INFO(again.body);
    CHECK(again.status == 200);
  }
  CHECK(chatd.log_values("pool: worker left", "name")
        == std::vector<std::string>{"spare"});
  CHECK(chatd.get("/readyz").status == 200);
}

TEST_CASE("chatd's own workers join over the TLS worker transport with "
          "chatd's certificate",
          "[integration]") {
  test_pki pki;
  chatd_process chatd(tls_flags(pki.issue("chatd"), pki.ca()));
  chatd.start();
  REQUIRE(eventually([&] { return chatd.get("/readyz").status == 200; }));
  CHECK(joined(chatd) == 1);
}

TEST_CASE("chatd refuses to start when a worker TLS file cannot be used",
          "[integration]") {
  temp_dir dir;
  const auto missing = (dir.path / "missing.pem").string();
  auto log = dir.path / "chatd.log";
  auto p = chat::testing::spawn_logged(
    {CHAT_BINARY_DIR "/tools/chatd", "--data-dir", dir.path.string(),
     "--listen", "127.0.0.1:0", "--devices", "", "--worker.tls_cert", missing,
     "--worker.tls_key", missing, "--worker.tls_ca", missing},
    log);
  std::optional<int> status;
  REQUIRE(eventually([&] { return (status = p.try_wait()).has_value(); }));
  CHECK(WEXITSTATUS(*status) == 2);
  CHECK(chat::testing::read_file(log).find("worker.tls_cert")
        != std::string::npos);
}
