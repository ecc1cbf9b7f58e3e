#include "http/server.hpp"

#include "http/api_error.hpp"
#include "http/request_conversion.hpp"
#include "http/tls_context.hpp"
#include "http/ws_session.hpp"
#include "log/log.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

namespace chat::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

using dispatch_fn = std::function<void(request&, const route&, responder_ptr)>;

using counter = std::shared_ptr<std::atomic<std::uint32_t>>;

/// Counts one in `count` for as long as the returned token lives.
std::shared_ptr<void> count_while_alive(const counter& count) {
  count->fetch_add(1);
  return std::shared_ptr<void>(static_cast<void*>(count.get()),
                               [count](void*) { count->fetch_sub(1); });
}

using tls_stream = beast::ssl_stream<beast::tcp_stream>;

/// What a responder needs of its connection; every call may come from any
/// thread and is posted onto the connection's strand.
class http_connection {
public:
  virtual ~http_connection() = default;
  virtual void deliver(response r, bool keep_alive, unsigned version) = 0;
  virtual void start_stream(std::string content_type, header_list headers,
                            unsigned version) = 0;
  virtual void stream_write(std::string data) = 0;
  virtual void stream_finish() = 0;
  virtual void on_close(std::function<void()> callback) = 0;
};

responder_ptr make_responder(std::shared_ptr<http_connection> connection,
                             bool keep_alive, unsigned version);

/// One HTTP connection over `Stream` (plain TCP or TLS): reads a request,
/// dispatches it, writes the answer (whole, or streamed in chunks), repeats
/// while keep-alive. Upgrades to a WebSocket hand the stream over to a
/// ws_session.
template <class Stream>
class http_session : public http_connection,
                     public std::enable_shared_from_this<http_session<Stream>> {
  static constexpr bool tls = std::is_same_v<Stream, tls_stream>;

public:
  /// `slot` is null when the server is at max_connections: the session
  /// then only answers 503.
  http_session(Stream&& stream, const server_limits& limits,
               std::shared_ptr<const router> routes, dispatch_fn dispatch,
               std::shared_ptr<const websocket_routes> websockets,
               connection_slot slot, counter answering)
    : stream_(std::move(stream)), limits_(limits), routes_(std::move(routes)),
      dispatch_(std::move(dispatch)), websockets_(std::move(websockets)),
      slot_(std::move(slot)), answering_(std::move(answering)) {
  }

  void run() {
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (tls)
        self->do_handshake();
      else
        self->start_reading();
    });
  }

  // -- called through the responder, from any thread -------------------------

  void deliver(response r, bool keep_alive, unsigned version) override {
    post([this, r = std::move(r), keep_alive, version]() mutable {
      do_write(std::move(r), keep_alive, version);
    });
  }

  void start_stream(std::string content_type, header_list headers,
                    unsigned version) override {
    post([this, content_type = std::move(content_type),
          headers = std::move(headers), version]() mutable {
      do_start_stream(std::move(content_type), std::move(headers), version);
    });
  }

  void stream_write(std::string data) override {
    post([this, data = std::move(data)]() mutable {
      enqueue(std::move(data));
    });
  }

  void stream_finish() override {
    post([this] {
      finishing_ = true;
      pump();
    });
  }

  void on_close(std::function<void()> callback) override {
    post([this, callback = std::move(callback)]() mutable {
      if (closed_)
        callback();
      else
        close_callback_ = std::move(callback);
    });
  }

private:
  template <class F>
  void post(F&& f) {
    net::post(stream_.get_executor(),
              [self = this->shared_from_this(),
               f = std::forward<F>(f)]() mutable {
                f();
              });
  }

  beast::tcp_stream& lowest() {
    return beast::get_lowest_layer(stream_);
  }

  void arm_deadline() {
    lowest().expires_after(std::chrono::seconds(limits_.read_timeout_s));
  }

  // -- reading requests -------------------------------------------------------

  void do_handshake() {
    arm_deadline();
    stream_.async_handshake(boost::asio::ssl::stream_base::server,
                            [self = this->shared_from_this()](
                              beast::error_code ec) {
                              if (ec)
                                return self->close();
                              self->start_reading();
                            });
  }

  void start_reading() {
    if (slot_)
      return do_read();
    auto busy = error_response(503, "too_many_connections",
                               "the server is at its connection limit; "
                               "retry shortly");
    busy.headers.emplace_back("Retry-After", "1");
    do_write(std::move(busy), false, 11);
  }

  void do_read() {
    parser_.emplace();
    parser_->header_limit(limits_.max_header_bytes);
    // Beast checks Content-Length against the limit while parsing the
    // header, before the route is known: allow the larger one until then.
    body_limit_ = std::max(limits_.max_body_bytes, limits_.max_upload_bytes);
    parser_->body_limit(body_limit_);
    arm_deadline();
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(
                               &http_session::on_header, this->shared_from_this()));
  }

  /// The body limit depends on the route: uploads may be larger.
  void on_header(beast::error_code ec, std::size_t bytes) {
    if (ec)
      return on_read(ec, bytes);
    std::string target(parser_->get().target());
    body_limit_ = limits_.max_body_bytes;
    for (const auto& prefix : limits_.upload_paths)
      if (target.rfind(prefix, 0) == 0)
        body_limit_ = limits_.max_upload_bytes;
    auto length = parser_->content_length();
    if (length && *length > body_limit_)
      return on_read(bhttp::error::body_limit, bytes);
    parser_->body_limit(body_limit_);
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&http_session::on_read,
                                                this->shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == bhttp::error::end_of_stream || ec == net::error::eof
        || ec == beast::error::timeout || ec == net::error::operation_aborted
        || ec == net::error::connection_reset)
      return close();
    if (ec == bhttp::error::body_limit)
      return reject(413, "body_too_large", "request body exceeds "
                      + std::to_string(body_limit_) + " bytes");
    if (ec == bhttp::error::header_limit)
      return reject(431, "headers_too_large", "request headers exceed "
                      + std::to_string(limits_.max_header_bytes) + " bytes");
    if (ec)
      return reject(400, "bad_request", "malformed HTTP request");
    // No read deadline while a request is handled (replies may stream for
    // minutes); writes and the next read set their own.
    lowest().expires_never();
    auto& raw = parser_->get();
    auto req = to_request(raw);
    beast::error_code peer_ec;
    auto peer = lowest().socket().remote_endpoint(peer_ec);
    if (!peer_ec)
      req.remote_address = peer.address().to_string();
    if (beast::websocket::is_upgrade(raw) && websockets_
        && std::find(websockets_->paths.begin(), websockets_->paths.end(),
                     req.path)
             != websockets_->paths.end()) {
      start_websocket(std::move(stream_), parser_->release(),
                      std::move(req), limits_, websockets_->accept,
                      std::move(slot_));
      return;
    }
    keep_alive_ = raw.keep_alive();
    version_ = raw.version();
    answering_token_ = count_while_alive(answering_);
    auto done = make_responder(this->shared_from_this(), keep_alive_,
                               version_);
    try {
      response error;
      const route* r = routes_->match(req, error);
      if (!r)
        return done->send(std::move(error));
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

  // -- whole responses --------------------------------------------------------

  void do_write(response r, bool keep_alive, unsigned version) {
    if (closed_)
      return;
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
      static_cast<bhttp::status>(r.status), version);
    res->set(bhttp::field::server, "chatd");
    res->set(bhttp::field::content_type, r.content_type);
    for (auto& [name, value] : r.headers)
      res->set(name, value);
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    arm_deadline();
    bhttp::async_write(stream_, *res,
                       [self = this->shared_from_this(), res](beast::error_code ec,
                                                        std::size_t) {
                         self->answering_token_.reset();
                         if (ec || res->need_eof())
                           return self->close();
                         self->do_read();
                       });
  }

  // -- streamed responses -----------------------------------------------------

  void do_start_stream(std::string content_type, header_list headers,
                       unsigned version) {
    if (closed_)
      return;
    auto res = std::make_shared<bhttp::response<bhttp::empty_body>>(
      bhttp::status::ok, version);
    res->set(bhttp::field::server, "chatd");
    res->set(bhttp::field::content_type, content_type);
    res->set(bhttp::field::cache_control, "no-cache");
    for (auto& [name, value] : headers)
      res->set(name, value);
    res->keep_alive(false);
    res->chunked(true);
    auto sr = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(
      *res);
    writing_ = true;
    arm_deadline();
    bhttp::async_write_header(
      stream_, *sr,
      [self = this->shared_from_this(), res, sr](beast::error_code ec,
                                                 std::size_t) {
        self->writing_ = false;
        if (ec)
          return self->close();
        self->lowest().expires_never();
        self->watch_for_disconnect();
        self->pump();
      });
  }

  /// While streaming nothing is read, so a read of one byte tells when the
  /// client goes away (EOF or reset) without waiting for a failed write.
  /// The deadline is armed only while a write is pending (a stream may idle
  /// between tokens), so this read never times out on its own.
  void watch_for_disconnect() {
    stream_.async_read_some(
      net::buffer(probe_),
      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec)
          self->close();
        else
          self->watch_for_disconnect();
      });
  }

  void enqueue(std::string data) {
    // An empty chunk would end the chunked body early.
    if (closed_ || data.empty())
      return;
    pending_bytes_ += data.size();
    if (pending_bytes_ > limits_.max_pending_bytes) {
      log::warn("http", "client too slow; dropping the stream");
      return close();
    }
    pending_.push_back(std::move(data));
    pump();
  }

  void pump() {
    if (closed_ || writing_)
      return;
    if (pending_.empty()) {
      if (finishing_) {
        writing_ = true;
        arm_deadline();
        net::async_write(stream_, bhttp::make_chunk_last(),
                         [self = this->shared_from_this()](beast::error_code,
                                                           std::size_t) {
                           self->writing_ = false;
                           self->ended_ = true;
                           self->close();
                         });
      }
      return;
    }
    writing_ = true;
    auto chunk = std::make_shared<std::string>(std::move(pending_.front()));
    pending_.pop_front();
    pending_bytes_ -= chunk->size();
    arm_deadline();
    net::async_write(stream_, bhttp::make_chunk(net::buffer(*chunk)),
                     [self = this->shared_from_this(),
                      chunk](beast::error_code ec, std::size_t) {
                       self->writing_ = false;
                       if (ec)
                         return self->close();
                       self->lowest().expires_never();
                       self->pump();
                     });
  }

  void close() {
    if (closed_)
      return;
    closed_ = true;
    pending_.clear();
    answering_token_.reset();
    if constexpr (tls) {
      // close_notify tells the client the body was not truncated; skipped
      // while a write is pending, which a TLS shutdown must not overlap.
      if (!writing_) {
        arm_deadline();
        stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) {
            self->lowest().close();
          });
      } else {
        lowest().close();
      }
    } else {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
      stream_.close();
    }
    if (!ended_ && close_callback_)
      close_callback_();
    close_callback_ = nullptr;
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  server_limits limits_;
  std::shared_ptr<const router> routes_;
  dispatch_fn dispatch_;
  std::shared_ptr<const websocket_routes> websockets_;
  connection_slot slot_;
  /// Counts requests being answered, server-wide; held from dispatch to the
  /// end of the answer.
  counter answering_;
  std::shared_ptr<void> answering_token_;
  std::uint64_t body_limit_ = 0;
  bool keep_alive_ = false;
  unsigned version_ = 11;
  std::deque<std::string> pending_;
  std::uint64_t pending_bytes_ = 0;
  bool writing_ = false;
  bool finishing_ = false;
  bool ended_ = false;
  bool closed_ = false;
  std::function<void()> close_callback_;
  char probe_[1];
};

/// Completes a request through its session; each call posts onto the
/// session's strand.
class session_responder : public responder {
public:
  session_responder(std::shared_ptr<http_connection> session, bool keep_alive,
                    unsigned version)
    : session_(std::move(session)), keep_alive_(keep_alive),
      version_(version) {
  }

  void send(response r) override {
    if (!started_.exchange(true))
      session_->deliver(std::move(r), keep_alive_, version_);
  }

  void start_stream(std::string content_type, header_list headers) override {
    if (!started_.exchange(true))
      session_->start_stream(std::move(content_type), std::move(headers),
                             version_);
  }

  void write(std::string data) override {
    session_->stream_write(std::move(data));
  }

  void finish() override {
    session_->stream_finish();
  }

  void on_close(std::function<void()> callback) override {
    session_->on_close(std::move(callback));
  }

private:
  // Holding the session keeps the connection open until the handler answers;
  // a gone client is noticed through on_close.
  std::shared_ptr<http_connection> session_;
  bool keep_alive_;
  unsigned version_;
  std::atomic<bool> started_{false};
};

responder_ptr make_responder(std::shared_ptr<http_connection> connection,
                             bool keep_alive, unsigned version) {
  return std::make_shared<session_responder>(std::move(connection),
                                             keep_alive, version);
}

} // namespace

struct server::impl {
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  server_limits limits;
  std::shared_ptr<const router> routes;
  dispatch_fn dispatch;
  std::shared_ptr<const websocket_routes> websockets;
  /// Set when serving HTTPS/WSS.
  std::shared_ptr<boost::asio::ssl::context> tls;
  std::vector<std::thread> threads;
  std::once_flag stopped;

  /// Open connections, HTTP and WebSocket alike.
  counter open = std::make_shared<std::atomic<std::uint32_t>>(0);
  /// Requests being answered.
  counter answering = std::make_shared<std::atomic<std::uint32_t>>(0);

  /// A place in the connection count, or null when none is free.
  connection_slot take_slot() {
    if (open->load() >= limits.max_connections)
      return nullptr;
    return count_while_alive(open);
  }

  template <class Stream>
  void start_session(Stream&& stream) {
    std::make_shared<http_session<Stream>>(std::move(stream), limits, routes,
                                           dispatch, websockets, take_slot(),
                                           answering)
      ->run();
  }

  void do_accept() {
    acceptor.async_accept(net::make_strand(ioc),
                          [this](beast::error_code ec, tcp::socket socket) {
                            if (ec == net::error::operation_aborted)
                              return;
                            if (!ec && tls)
                              start_session(
                                tls_stream(std::move(socket), *tls));
                            else if (!ec)
                              start_session(
                                beast::tcp_stream(std::move(socket)));
                            do_accept();
                          });
  }
};

server::server(const std::string& host, std::uint16_t port, int threads,
               server_limits limits, std::shared_ptr<const router> routes,
               dispatch_fn dispatch, websocket_routes websockets,
               const tls_files& tls)
  : impl_(std::make_unique<impl>()) {
  if (!tls.cert_file.empty() || !tls.key_file.empty())
    impl_->tls = make_server_tls_context(tls.cert_file, tls.key_file);
  impl_->limits = limits;
  impl_->routes = std::move(routes);
  impl_->dispatch = std::move(dispatch);
  impl_->websockets
    = std::make_shared<const websocket_routes>(std::move(websockets));
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

void server::stop_accepting() {
  net::post(impl_->ioc, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
}

std::uint32_t server::requests_in_progress() const {
  return impl_->answering->load();
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
