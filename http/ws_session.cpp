#include "http/ws_session.hpp"

#include "log/log.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <deque>
#include <optional>

namespace chat::http {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace net = boost::asio;

namespace {

/// One WebSocket over `NextLayer` (plain TCP or TLS).
template <class NextLayer>
class ws_session
  : public std::enable_shared_from_this<ws_session<NextLayer>>,
    public ws_connection {
public:
  ws_session(NextLayer&& stream, const server_limits& limits,
             connection_slot slot)
    : ws_(std::move(stream)), limits_(limits), slot_(std::move(slot)) {
  }

  void run(beast::http::request<beast::http::string_body> upgrade,
           request req, const ws_acceptor& accept) {
    ws_.set_option(
      websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) {
        res.set(beast::http::field::server, "chatd");
      }));
    ws_.read_message_max(limits_.max_ws_message_bytes);
    callbacks_ = accept(req, this->shared_from_this());
    ws_.async_accept(upgrade,
                     [self = this->shared_from_this()](beast::error_code ec) {
                       if (ec)
                         return self->closed();
                       self->accepted_ = true;
                       self->pump();
                       self->do_read();
                     });
  }

  void send(std::string text) override {
    net::post(ws_.get_executor(), [self = this->shared_from_this(),
                                   text = std::move(text)]() mutable {
      self->enqueue(std::move(text));
    });
  }

  void close(std::uint16_t code, std::string reason) override {
    net::post(ws_.get_executor(), [self = this->shared_from_this(), code,
                                   reason = std::move(reason)] {
      self->close_after_ = websocket::close_reason(static_cast<websocket::close_code>(code), reason);
      self->pump();
    });
  }

private:
  void do_read() {
    ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec,
                                                        std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(beast::error_code ec) {
    if (ec == websocket::error::message_too_big) {
      close_after_ = websocket::close_reason(
        websocket::close_code::too_big, "message too big");
      return pump();
    }
    if (ec)
      return closed();
    auto text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    if (callbacks_.on_message)
      callbacks_.on_message(std::move(text));
    do_read();
  }

  void enqueue(std::string text) {
    if (done_)
      return;
    pending_bytes_ += text.size();
    if (pending_bytes_ > limits_.max_pending_bytes) {
      log::warn("http", "websocket client too slow; dropping it");
      beast::get_lowest_layer(ws_).close();
      return closed();
    }
    pending_.push_back(std::move(text));
    pump();
  }

  void pump() {
    // Frames queued by the application before the handshake ends wait.
    if (done_ || writing_ || !accepted_)
      return;
    if (pending_.empty()) {
      if (close_after_) {
        writing_ = true;
        ws_.async_close(*close_after_,
                        [self = this->shared_from_this()](beast::error_code) {
                          self->closed();
                        });
      }
      return;
    }
    writing_ = true;
    auto text = std::make_shared<std::string>(std::move(pending_.front()));
    pending_.pop_front();
    pending_bytes_ -= text->size();
    ws_.text(true);
    ws_.async_write(net::buffer(*text),
                    [self = this->shared_from_this(), text](beast::error_code ec,
                                                      std::size_t) {
                      self->writing_ = false;
                      if (ec)
                        return self->closed();
                      self->pump();
                    });
  }

  void closed() {
    if (done_)
      return;
    done_ = true;
    pending_.clear();
    if (callbacks_.on_close)
      callbacks_.on_close();
    // Drops the application's callbacks (and what they hold) now.
    callbacks_ = {};
  }

  websocket::stream<NextLayer> ws_;
  server_limits limits_;
  connection_slot slot_;
  beast::flat_buffer buffer_;
  ws_callbacks callbacks_;
  std::deque<std::string> pending_;
  std::uint64_t pending_bytes_ = 0;
  bool writing_ = false;
  bool accepted_ = false;
  bool done_ = false;
  std::optional<websocket::close_reason> close_after_;
};

template <class NextLayer>
void start(NextLayer&& stream, upgrade_request upgrade, request req,
           const server_limits& limits, const ws_acceptor& accept,
           connection_slot slot) {
  auto session = std::make_shared<ws_session<NextLayer>>(
    std::move(stream), limits, std::move(slot));
  session->run(std::move(upgrade), std::move(req), accept);
}

} // namespace

void start_websocket(beast::tcp_stream&& stream, upgrade_request upgrade,
                     request req, const server_limits& limits,
                     const ws_acceptor& accept, connection_slot slot) {
  start(std::move(stream), std::move(upgrade), std::move(req), limits, accept,
        std::move(slot));
}

void start_websocket(beast::ssl_stream<beast::tcp_stream>&& stream,
                     upgrade_request upgrade, request req,
                     const server_limits& limits, const ws_acceptor& accept,
                     connection_slot slot) {
  start(std::move(stream), std::move(upgrade), std::move(req), limits, accept,
        std::move(slot));
}

} // namespace chat::http
