#include "stream_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <cctype>
#include <limits>

namespace chat::testing {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return s;
}

tcp::endpoint loopback(std::uint16_t port) {
  return {net::ip::make_address("127.0.0.1"), port};
}

/// Runs `ioc` until `finished` turns true or `end` passes. On a timeout
/// `cancel` aborts the pending operation, whose handler is then run, and
/// `timeout_error` is thrown.
template <class Cancel>
void run_until(net::io_context& ioc, const bool& finished,
               steady::time_point end, Cancel cancel, const std::string& what) {
  ioc.restart();
  while (!finished) {
    auto now = steady::now();
    if (now >= end)
      break;
    ioc.run_one_for(end - now);
    if (ioc.stopped() && !finished)
      ioc.restart();
  }
  if (finished)
    return;
  cancel();
  ioc.restart();
  ioc.run();
  throw timeout_error(what + " did not finish in time");
}

steady::time_point deadline_from(std::chrono::milliseconds d) {
  return steady::now() + d;
}

} // namespace

// -- http_stream ----------------------------------------------------------

struct http_stream::impl {
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::buffer_body> parser;
  std::map<std::string, std::string> headers;
  int status = 0;
  bool done = false;
  bool closed = false;
  char body[16 * 1024];

  void cancel() {
    beast::error_code ec;
    stream.socket().cancel(ec);
  }

  template <class Start>
  beast::error_code run(Start start, steady::time_point end,
                        const std::string& what) {
    bool finished = false;
    beast::error_code result;
    start([&](beast::error_code ec, std::size_t) {
      result = ec;
      finished = true;
    });
    run_until(ioc, finished, end, [this] { cancel(); }, what);
    return result;
  }
};

http_stream::http_stream(std::uint16_t port, const std::string& method,
                         const std::string& target, const std::string& body,
                         const header_pairs& headers,
                         std::chrono::milliseconds deadline)
  : impl_(std::make_unique<impl>()) {
  auto end = deadline_from(deadline);
  auto& s = *impl_;
  s.parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  bool connected = false;
  beast::error_code ec;
  s.stream.socket().async_connect(loopback(port), [&](beast::error_code e) {
    ec = e;
    connected = true;
  });
  run_until(s.ioc, connected, end, [&] { s.cancel(); }, "connect");
  if (ec)
    throw std::runtime_error("connect to port " + std::to_string(port)
                             + ": " + ec.message());

  bhttp::request<bhttp::string_body> req;
  req.version(11);
  req.method_string(method);
  req.target(target);
  req.set(bhttp::field::host, "127.0.0.1:" + std::to_string(port));
  for (const auto& [name, value] : headers)
    req.set(name, value);
  if (!body.empty() || method == "POST" || method == "PUT"
      || method == "PATCH") {
    if (req.find(bhttp::field::content_type) == req.end())
      req.set(bhttp::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  ec = s.run([&](auto handler) { bhttp::async_write(s.stream, req, handler); },
             end, "writing the request");
  if (ec)
    throw std::runtime_error("write request: " + ec.message());
  ec = s.run(
    [&](auto handler) {
      bhttp::async_read_header(s.stream, s.buffer, s.parser, handler);
    },
    end, "reading the response header");
  if (ec)
    throw std::runtime_error("read response header: " + ec.message());
  const auto& res = s.parser.get();
  s.status = static_cast<int>(res.result_int());
  for (const auto& field : res)
    s.headers[lower(std::string(field.name_string()))]
      = std::string(field.value());
  s.done = s.parser.is_done();
}

http_stream::~http_stream() {
  close();
}

int http_stream::status() const {
  return impl_->status;
}

std::string http_stream::header(const std::string& name) const {
  auto it = impl_->headers.find(lower(name));
  return it == impl_->headers.end() ? std::string() : it->second;
}

const std::map<std::string, std::string>& http_stream::headers() const {
  return impl_->headers;
}

std::optional<std::string> http_stream::read_some(
  std::chrono::milliseconds deadline) {
  auto& s = *impl_;
  if (s.done)
    return std::nullopt;
  if (s.closed)
    throw std::runtime_error("read on a closed http_stream");
  auto end = deadline_from(deadline);
  std::string out;
  while (out.empty() && !s.parser.is_done()) {
    s.parser.get().body().data = s.body;
    s.parser.get().body().size = sizeof s.body;
    auto ec = s.run(
      [&](auto handler) {
        bhttp::async_read_some(s.stream, s.buffer, s.parser, handler);
      },
      end, "reading the response body");
    if (ec == bhttp::error::need_buffer)
      ec = {};
    if (ec)
      throw std::runtime_error("read response body: " + ec.message());
    out.append(s.body, sizeof s.body - s.parser.get().body().size);
  }
  if (s.parser.is_done())
    s.done = true;
  if (out.empty())
    return std::nullopt;
  return out;
}

std::string http_stream::read_all(std::chrono::milliseconds deadline) {
  auto end = deadline_from(deadline);
  std::string out;
  while (auto piece = read_some(std::chrono::duration_cast<
                                std::chrono::milliseconds>(end - steady::now())))
    out += *piece;
  return out;
}

bool http_stream::done() const {
  return impl_->done;
}

void http_stream::close() {
  auto& s = *impl_;
  if (s.closed)
    return;
  s.closed = true;
  beast::error_code ec;
  s.stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  s.stream.socket().close(ec);
}

// -- sse_reader ------------------------------------------------------------

sse_reader::sse_reader(http_stream& stream) : stream_(stream) {
}

std::optional<sse_event> sse_reader::take_event() {
  auto at = buffer_.find("\n\n");
  if (at == std::string::npos)
    return std::nullopt;
  auto block = buffer_.substr(0, at);
  buffer_.erase(0, at + 2);
  sse_event ev;
  bool has_data = false;
  size_t pos = 0;
  while (pos <= block.size()) {
    auto nl = block.find('\n', pos);
    auto line = block.substr(pos, nl == std::string::npos ? std::string::npos
                                                          : nl - pos);
    pos = nl == std::string::npos ? block.size() + 1 : nl + 1;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.empty() || line[0] == ':')
      continue;
    auto colon = line.find(':');
    auto field = line.substr(0, colon);
    std::string value;
    if (colon != std::string::npos) {
      value = line.substr(colon + 1);
      if (!value.empty() && value[0] == ' ')
        value.erase(0, 1);
    }
    if (field == "event") {
      ev.event = value;
    } else if (field == "data") {
      if (has_data)
        ev.data += "\n";
      ev.data += value;
      has_data = true;
    }
  }
  return ev;
}

std::optional<sse_event> sse_reader::next(std::chrono::milliseconds deadline) {
  auto end = deadline_from(deadline);
  for (;;) {
    if (auto ev = take_event())
      return ev;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      end - steady::now());
    auto piece = stream_.read_some(std::max(left, std::chrono::milliseconds(1)));
    if (!piece)
      return std::nullopt;
    raw_ += *piece;
    buffer_ += *piece;
  }
}

std::vector<sse_event> sse_reader::rest(std::chrono::milliseconds deadline) {
  auto end = deadline_from(deadline);
  std::vector<sse_event> out;
  while (auto ev = next(std::max(
           std::chrono::duration_cast<std::chrono::milliseconds>(
             end - steady::now()),
           std::chrono::milliseconds(1))))
    out.push_back(std::move(*ev));
  return out;
}

// -- ws_client -------------------------------------------------------------

struct ws_client::impl {
  net::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buffer;
  std::optional<std::uint16_t> close_code;
  bool open = false;

  void cancel() {
    beast::error_code ec;
    beast::get_lowest_layer(ws).socket().cancel(ec);
  }

  template <class Start>
  beast::error_code run(Start start, steady::time_point end,
                        const std::string& what) {
    bool finished = false;
    beast::error_code result;
    start([&](beast::error_code ec, auto&&...) {
      result = ec;
      finished = true;
    });
    run_until(ioc, finished, end, [this] { cancel(); }, what);
    return result;
  }
};

ws_client::ws_client(std::uint16_t port, const std::string& target,
                     const header_pairs& headers,
                     std::chrono::milliseconds deadline)
  : impl_(std::make_unique<impl>()) {
  auto end = deadline_from(deadline);
  auto& s = *impl_;
  auto ec = s.run(
    [&](auto handler) {
      beast::get_lowest_layer(s.ws).socket().async_connect(
        loopback(port), [handler](beast::error_code e) mutable {
          handler(e);
        });
    },
    end, "connect");
  if (ec)
    throw std::runtime_error("connect to port " + std::to_string(port)
                             + ": " + ec.message());
  s.ws.set_option(websocket::stream_base::decorator(
    [headers](websocket::request_type& req) {
      for (const auto& [name, value] : headers)
        req.set(name, value);
    }));
  websocket::response_type res;
  ec = s.run(
    [&](auto handler) {
      s.ws.async_handshake(res, "127.0.0.1:" + std::to_string(port), target,
                           handler);
    },
    end, "websocket handshake");
  if (ec)
    throw std::runtime_error("websocket handshake to " + target + " failed ("
                             + ec.message() + "), status "
                             + std::to_string(res.result_int()));
  s.open = true;
}

ws_client::~ws_client() {
  drop();
}

void ws_client::send(const std::string& text,
                     std::chrono::milliseconds deadline) {
  auto& s = *impl_;
  if (!s.open)
    throw std::runtime_error("send on a closed websocket");
  s.ws.text(true);
  auto ec = s.run(
    [&](auto handler) { s.ws.async_write(net::buffer(text), handler); },
    deadline_from(deadline), "websocket send");
  if (ec)
    throw std::runtime_error("websocket send: " + ec.message());
}

std::optional<std::string> ws_client::receive(
  std::chrono::milliseconds deadline) {
  auto& s = *impl_;
  if (!s.open)
    return std::nullopt;
  s.buffer.clear();
  auto ec = s.run(
    [&](auto handler) { s.ws.async_read(s.buffer, handler); },
    deadline_from(deadline), "websocket receive");
  if (ec) {
    s.open = false;
    if (ec == websocket::error::closed)
      s.close_code = static_cast<std::uint16_t>(s.ws.reason().code);
    return std::nullopt;
  }
  return beast::buffers_to_string(s.buffer.data());
}

void ws_client::close(std::uint16_t code, std::chrono::milliseconds deadline) {
  auto& s = *impl_;
  if (!s.open)
    return;
  s.open = false;
  auto ec = s.run(
    [&](auto handler) {
      s.ws.async_close(websocket::close_reason(code), handler);
    },
    deadline_from(deadline), "websocket close");
  if (!ec && s.ws.reason().code != websocket::close_code::none)
    s.close_code = static_cast<std::uint16_t>(s.ws.reason().code);
}

void ws_client::drop() {
  auto& s = *impl_;
  s.open = false;
  beast::error_code ec;
  auto& sock = beast::get_lowest_layer(s.ws).socket();
  if (sock.is_open()) {
    sock.shutdown(tcp::socket::shutdown_both, ec);
    sock.close(ec);
  }
}

std::optional<std::uint16_t> ws_client::close_code() const {
  return impl_->close_code;
}

bool ws_client::is_open() const {
  return impl_->open;
}

} // namespace chat::testing
