#include "http/client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/http/buffer_body.hpp>

#include <cctype>
#include <stdexcept>

namespace chat::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

/// A request that closes its connection after the answer.
bhttp::request<bhttp::string_body>
make_request(const std::string& host, const std::string& method,
             const std::string& target, const std::string& body,
             const header_map& headers) {
  bhttp::request<bhttp::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(bhttp::field::host, host);
  req.set(bhttp::field::connection, "close");
  for (const auto& [name, value] : headers)
    req.set(name, value);
  req.body() = body;
  if (!body.empty() || method == "POST" || method == "PUT"
      || method == "PATCH")
    req.prepare_payload();
  return req;
}

} // namespace

client_response fetch(const std::string& host, std::uint16_t port,
                      const std::string& method, const std::string& target,
                      const std::string& body, const header_map& headers,
                      std::chrono::milliseconds timeout) {
  net::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  auto req = make_request(host, method, target, body, headers);

  client_response out;
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64ull << 20);
  beast::error_code failure;
  stream.expires_after(timeout);
  resolver.async_resolve(
    host, std::to_string(port),
    [&](beast::error_code ec, tcp::resolver::results_type results) {
      if (ec)
        return void(failure = ec);
      stream.async_connect(results, [&](beast::error_code ec,
                                        const tcp::endpoint&) {
        if (ec)
          return void(failure = ec);
        bhttp::async_write(stream, req, [&](beast::error_code ec,
                                            std::size_t) {
          if (ec)
            return void(failure = ec);
          bhttp::async_read(stream, buffer, parser,
                            [&](beast::error_code ec, std::size_t) {
                              if (ec)
                                failure = ec;
                            });
        });
      });
    });
  ioc.run();
  if (failure)
    throw std::runtime_error(method + " " + target + " on " + host + ":"
                             + std::to_string(port) + ": "
                             + failure.message());
  auto res = parser.release();
  out.status = static_cast<int>(res.result_int());
  for (const auto& field : res) {
    std::string name(field.name_string());
    for (auto& ch : name)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    out.headers[name] = std::string(field.value());
  }
  out.body = std::move(res.body());
  return out;
}

void fetch_stream(const std::string& host, std::uint16_t port,
                  const std::string& method, const std::string& target,
                  const std::string& body, const header_map& headers,
                  const stream_handlers& handlers,
                  std::chrono::milliseconds idle_timeout) {
  auto where = method + " " + target + " on " + host + ":"
               + std::to_string(port);
  net::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  beast::error_code ec;
  auto results = resolver.resolve(host, std::to_string(port), ec);
  if (!ec) {
    stream.expires_after(idle_timeout);
    stream.connect(results, ec);
  }
  if (ec)
    throw std::runtime_error(where + ": " + ec.message());
  auto req = make_request(host, method, target, body, headers);
  bhttp::write(stream, req, ec);
  if (ec)
    throw std::runtime_error(where + ": " + ec.message());

  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(boost::none);
  stream.expires_after(idle_timeout);
  bhttp::read_header(stream, buffer, parser, ec);
  if (ec)
    throw std::runtime_error(where + ": " + ec.message());
  header_map got;
  for (const auto& field : parser.get()) {
    std::string name(field.name_string());
    for (auto& ch : name)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    got[name] = std::string(field.value());
  }
  if (handlers.on_headers)
    handlers.on_headers(static_cast<int>(parser.get().result_int()), got);
  char chunk[4096];
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    stream.expires_after(idle_timeout);
    bhttp::read(stream, buffer, parser, ec);
    if (ec == bhttp::error::need_buffer)
      ec = {};
    if (ec)
      throw std::runtime_error(where + ": " + ec.message());
    auto size = sizeof chunk - parser.get().body().size;
    if (size > 0 && handlers.on_data
        && !handlers.on_data(std::string(chunk, size)))
      return;
  }
}

} // namespace chat::http
