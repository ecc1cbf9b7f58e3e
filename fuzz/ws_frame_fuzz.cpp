// Fuzzes a WebSocket connection after the upgrade: the input is what the
// client sends (masked frames, fragments, control frames), read by Beast on
// the server side with the server's message limit, and every complete
// message goes through the chat protocol's frame validation, as ws_chat
// does. Validation may fail only with api_error in the API's error shape.

#include "actors/api/api_error.hpp"
#include "actors/api/ws_frame.hpp"
#include "http/server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>

namespace {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using namespace chat;

constexpr const char* upgrade_request
  = "GET /v1/ws HTTP/1.1\r\n"
    "Host: localhost\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n";

void handle_message(const std::string& text) {
  try {
    auto frame = api::parse_ws_frame(text);
    if (frame["type"] == "chat")
      api::parse_ws_chat_fields(frame);
  } catch (const api::api_error& e) {
    auto r = e.to_response();
    if (r.status != 400 || r.body.empty())
      std::abort();
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  boost::asio::io_context ioc;
  beast::test::stream client(ioc);
  beast::test::stream server(ioc);
  server.connect(client);
  server.append(upgrade_request);
  server.append(
    beast::string_view(reinterpret_cast<const char*>(data), size));
  server.close_remote();

  websocket::stream<beast::test::stream&> ws(server);
  ws.read_message_max(http::server_limits{}.max_ws_message_bytes);
  beast::error_code ec;
  ws.accept(ec);
  if (ec)
    std::abort();
  beast::flat_buffer buffer;
  for (;;) {
    ws.read(buffer, ec);
    if (ec)
      break;
    handle_message(beast::buffers_to_string(buffer.data()));
    buffer.consume(buffer.size());
  }
  return 0;
}
