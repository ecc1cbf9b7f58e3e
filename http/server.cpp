#include "http/server.hpp"

#include "http/api_error.hpp"
#include "log/log.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <cctype>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace chat::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

using dispatch_fn = std::function<void(request&, const route&, responder_ptr)>;

std::string lowercase(beast::string_view s) {
  std::string out(s.data(), s.size());
  for (auto& ch : out)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

request to_request(bhttp::request<bhttp::string_body>&& in) {
  request out;
  out.method = std::string(in.method_string());
  std::string target(in.target());
  auto q = target.find('?');
  out.path = target.substr(0, q);
  if (q != std::string::npos)
    out.query = parse_query(target.substr(q + 1));
  for (const auto& field : in)
    out.headers[lowercase(field.name_string())] = std::string(field.value());
  out.body = std::move(in.body());
  return out;
}

class http_session;

/// Completes a request by posting the response onto its session's strand.
class session_responder : public responder {
public:
  session_responder(std::weak_ptr<http_session> session, bool keep_alive,
                    unsigned version)
    : session_(std::move(session)), keep_alive_(keep_alive),
      version_(version) {
  }
  void send(response r) override;

private:
  std::weak_ptr<http_session> session_;
  bool keep_alive_;
  unsigned version_;
  std::atomic<bool> sent_{false};
};

class http_session : public std::enable_shared_from_this<http_session> {
public:
  http_session(tcp::socket&& socket, const server_limits& limits,
               std::shared_ptr<const router> routes, dispatch_fn dispatch)
    : stream_(std::move(socket)), limits_(limits), routes_(std::move(routes)),
      dispatch_(std::move(dispatch)) {
  }

  void run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&http_session::do_read,
                                            shared_from_this()));
  }

  void deliver(response r, bool keep_alive, unsigned version) {
    net::post(stream_.get_executor(),
              [self = shared_from_this(), r = std::move(r), keep_alive,
               version]() mutable {
                self->do_write(std::move(r), keep_alive, version);
              });
  }

private:
  void do_read() {
    parser_.emplace();
    parser_->body_limit(limits_.max_body_bytes);
    parser_->header_limit(limits_.max_header_bytes);
    stream_.expires_after(std::chrono::seconds(limits_.read_timeout_s));
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&http_session::on_read,
                                                shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == bhttp::error::end_of_stream || ec == net::error::eof)
      return close();
    if (ec == bhttp::error::body_limit)
      return reject(413, "body_too_large", "request body exceeds "
                      + std::to_string(limits_.max_body_bytes) + " bytes");
    if (ec == bhttp::error::header_limit)
      return reject(431, "headers_too_large", "request headers exceed "
                      + std::to_string(limits_.max_header_bytes) + " bytes");
    if (ec == beast::error::timeout)
      return close();
    if (ec) {
      if (ec != net::error::operation_aborted
          && ec != net::error::connection_reset)
        return reject(400, "bad_request", "malformed HTTP request");
      return close();
    }
    // A request is being handled: no read deadline while it runs (replies
    // may stream for minutes); the next read sets it again.
    stream_.expires_never();
    auto raw = parser_->release();
    bool keep_alive = raw.keep_alive();
    unsigned version = raw.version();
    auto req = to_request(std::move(raw));
    auto done = std::make_shared<session_responder>(weak_from_this(),
                                                    keep_alive, version);
    response error;
    const route* r = routes_->match(req, error);
    if (!r) {
      done->send(std::move(error));
      return;
    }
    try {
      dispatch_(req, *r, done);
    } catch (const std::exception& e) {
      log::error("http", "handler failed").kv("path", req.path).kv("what",
                                                                   e.what());
      done->send(error_response(500, "internal_error", "internal error"));
    }
  }

  void reject(int status, const std::string& code, const std::string& msg) {
    do_write(error_response(status, code, msg), false, 11);
  }

  void do_write(response r, bool keep_alive, unsigned version) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
      static_cast<bhttp::status>(r.status), version);
    res->set(bhttp::field::server, "chatd");
    res->set(bhttp::field::content_type, r.content_type);
    for (auto& [name, value] : r.headers)
      res->set(name, value);
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    stream_.expires_after(std::chrono::seconds(limits_.read_timeout_s));
    bhttp::async_write(stream_, *res,
                       [self = shared_from_this(), res](beast::error_code ec,
                                                        std::size_t) {
                         self->on_write(ec, res->need_eof());
                       });
  }

  void on_write(beast::error_code ec, bool close_after) {
    if (ec || close_after)
      return close();
    do_read();
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  server_limits limits_;
  std::shared_ptr<const router> routes_;
  dispatch_fn dispatch_;
};

void session_responder::send(response r) {
  if (sent_.exchange(true))
    return;
  if (auto s = session_.lock())
    s->deliver(std::move(r), keep_alive_, version_);
}

} // namespace

struct server::impl {
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  server_limits limits;
  std::shared_ptr<const router> routes;
  dispatch_fn dispatch;
  std::vector<std::thread> threads;
  std::once_flag stopped;

  void do_accept() {
    acceptor.async_accept(net::make_strand(ioc),
                          [this](beast::error_code ec, tcp::socket socket) {
                            if (ec == net::error::operation_aborted)
                              return;
                            if (!ec)
                              std::make_shared<http_session>(
                                std::move(socket), limits, routes, dispatch)
                                ->run();
                            do_accept();
                          });
  }
};

server::server(const std::string& host, std::uint16_t port, int threads,
               server_limits limits, std::shared_ptr<const router> routes,
               dispatch_fn dispatch)
  : impl_(std::make_unique<impl>()) {
  impl_->limits = limits;
  impl_->routes = std::move(routes);
  impl_->dispatch = std::move(dispatch);
  beast::error_code ec;
  auto address = net::ip::make_address(host, ec);
  if (ec)
    throw std::runtime_error("listen address '" + host + "' is not an IP");
  tcp::endpoint ep{address, port};
  auto& acc = impl_->acceptor;
  acc.open(ep.protocol(), ec);
  if (!ec)
    acc.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec)
    acc.bind(ep, ec);
  if (!ec)
    acc.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + host + ":"
                             + std::to_string(port) + ": " + ec.message());
  impl_->do_accept();
  for (int i = 0; i < threads; ++i)
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
}

server::~server() {
  stop();
}

std::uint16_t server::port() const {
  return impl_->acceptor.local_endpoint().port();
}

void server::stop() {
  std::call_once(impl_->stopped, [this] {
    net::post(impl_->ioc, [this] {
      beast::error_code ec;
      impl_->acceptor.close(ec);
    });
    impl_->ioc.stop();
    for (auto& t : impl_->threads)
      if (t.joinable())
        t.join();
  });
}

} // namespace chat::http
