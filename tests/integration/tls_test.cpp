// HTTPS and WSS: a real chatd serving TLS with a certificate generated at
// test time; trusted clients chat over both, others are turned away.

#include "service_harness.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <sstream>

using chat::testing::chatd_process;
using chat::testing::eventually;
using chat::testing::temp_dir;
using json = nlohmann::json;

namespace beast = boost::beast;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace websocket = boost::beast::websocket;
using tcp = net::ip::tcp;

namespace {

/// A self-signed P-256 certificate for 127.0.0.1 (and localhost).
struct certificate {
  temp_dir dir;
  std::string cert = (dir.path / "cert.pem").string();
  std::string key = (dir.path / "key.pem").string();

  certificate() {
    auto cmd = "openssl req -x509 -newkey ec -pkeyopt "
               "ec_paramgen_curve:prime256v1 -nodes -days 1 -subj "
               "/CN=localhost -addext "
               "subjectAltName=IP:127.0.0.1,DNS:localhost -keyout '"
               + key + "' -out '" + cert + "' 2>/dev/null";
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
};

/// Runs one asynchronous step; fails the test when it does not end within
/// ten seconds.
template <class Initiate>
beast::error_code step(net::io_context& ioc, Initiate&& initiate) {
  beast::error_code result;
  bool finished = false;
  initiate([&](beast::error_code ec, auto&&...) {
    result = ec;
    finished = true;
  });
  ioc.restart();
  ioc.run_for(std::chrono::seconds(10));
  REQUIRE(finished);
  return result;
}

/// A TLS connection to the gateway made with `context`; the handshake's
/// error, if any, in `handshake_error`.
struct tls_connection {
  net::io_context ioc;
  beast::ssl_stream<beast::tcp_stream> stream;
  beast::error_code handshake_error;

  tls_connection(std::uint16_t port, ssl::context& context)
    : stream(ioc, context) {
    auto& lowest = beast::get_lowest_layer(stream);
    REQUIRE_FALSE(step(ioc, [&](auto done) {
      lowest.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"),
                                         port),
                           done);
    }));
    handshake_error = step(ioc, [&](auto done) {
      stream.async_handshake(ssl::stream_base::client, done);
    });
  }
};

ssl::context trusting(const std::string& cert) {
  ssl::context context(ssl::context::tls_client);
  context.load_verify_file(cert);
  context.set_verify_mode(ssl::verify_peer);
  return context;
}

} // namespace

TEST_CASE("chatd serves HTTPS and WSS with a configured certificate",
          "[integration]") {
  certificate tls;
  chatd_process chatd({"--tls-cert", tls.cert, "--tls-key", tls.key});
  chatd.start();
  const chat::http::endpoint https{"127.0.0.1", chatd.port(), true, tls.cert};
  REQUIRE(eventually([&] {
    return chat::http::fetch(https, "GET", "/readyz").status == 200;
  }));
  const auto admin = chatd.admin_key();
  const chat::http::header_map auth{{"Authorization", "Bearer " + admin},
                                    {"Content-Type", "application/json"}};

  SECTION("a completion over HTTPS, whole and streamed") {
    json request{{"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                 {"max_tokens", 6},
                 {"temperature", 0}};
    auto whole = chat::http::fetch(https, "POST", "/v1/chat/completions",
                                   request.dump(), auth);
    INFO(whole.body);
    REQUIRE(whole.status == 200);
    CHECK(json::parse(whole.body)["object"] == "chat.completion");

    request["stream"] = true;
    std::string events;
    chat::http::fetch_stream(https, "POST", "/v1/chat/completions",
                             request.dump(), auth,
                             {nullptr, [&](const std::string& data) {
                                events += data;
                                return true;
                              }});
    CHECK(events.find("data: [DONE]") != std::string::npos);
  }

  SECTION("a chat over WSS") {
    auto context = trusting(tls.cert);
    tls_connection conn(chatd.port(), context);
    REQUIRE_FALSE(conn.handshake_error);
    websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(
      std::move(conn.stream));
    REQUIRE_FALSE(step(conn.ioc, [&](auto done) {
      ws.async_handshake("127.0.0.1", "/v1/ws", done);
    }));
    auto send = [&](const json& frame) {
      auto text = frame.dump();
      REQUIRE_FALSE(step(conn.ioc, [&](auto done) {
        ws.async_write(net::buffer(text), done);
      }));
    };
    auto receive = [&] {
      beast::flat_buffer buffer;
      REQUIRE_FALSE(step(conn.ioc, [&](auto done) {
        ws.async_read(buffer, done);
      }));
      return json::parse(beast::buffers_to_string(buffer.data()));
    };
    send({{"type", "auth"}, {"api_key", admin}});
    CHECK(receive()["type"] == "ready");
    send({{"type", "chat"},
          {"id", "c1"},
          {"message", "Hello"},
          {"params", {{"max_tokens", 6}, {"temperature", 0}}}});
    CHECK(receive()["type"] == "start");
    json frame;
    do
      frame = receive();
    while (frame["type"] == "token");
    CHECK(frame["type"] == "done");
    CHECK(frame["id"] == "c1");
  }

  SECTION("clients that do not trust the certificate are refused") {
    const chat::http::endpoint system_store{"127.0.0.1", chatd.port(), true,
                                            ""};
    CHECK_THROWS_WITH(chat::http::fetch(system_store, "GET", "/healthz"),
                      Catch::Contains("TLS handshake"));
  }

  SECTION("plain HTTP gets no answer on the TLS port") {
    const chat::http::endpoint plain{"127.0.0.1", chatd.port()};
    CHECK_THROWS(chat::http::fetch(plain, "GET", "/healthz", {}, {},
                                   std::chrono::seconds(5)));
  }

  SECTION("TLS 1.1 is refused") {
    auto context = trusting(tls.cert);
    // Let the client offer TLS 1.1 (OpenSSL's own floor would refuse it
    // first), so the refusal comes from the server.
    SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_VERSION);
    SSL_CTX_set_max_proto_version(context.native_handle(), TLS1_1_VERSION);
    SSL_CTX_set_cipher_list(context.native_handle(), "DEFAULT:@SECLEVEL=0");
    tls_connection conn(chatd.port(), context);
    CHECK(conn.handshake_error);
  }

  // The server still serves after every refusal above.
  CHECK(chat::http::fetch(https, "GET", "/healthz").status == 200);
}
