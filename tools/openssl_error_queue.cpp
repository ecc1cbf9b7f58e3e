// CAF 0.17.6's OpenSSL transport (caf/openssl/session.cpp) asks
// SSL_get_error() why SSL_read/SSL_write/SSL_accept/SSL_connect stopped
// without first emptying the thread's OpenSSL error queue, and leaves it
// full when a connection fails. One I/O thread serves every worker link, so
// what one dead worker leaves there (OpenSSL 3: "unexpected eof while
// reading") turns the next "would block" on every other link into a fatal
// error: every TLS worker dropped at once. SSL_get_error(3) requires an
// empty queue before the I/O call; these definitions take precedence over
// libssl's for the whole process (ELF symbol interposition), empty it and
// call libssl's. Boost.Asio empties it itself, so HTTPS is unaffected.

#include <dlfcn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstdlib>

namespace {

/// libssl's definition of `name`, the one this file hides.
template <class Function>
Function libssl(const char* name) {
  auto* found = dlsym(RTLD_NEXT, name);
  if (!found)
    std::abort();
  return reinterpret_cast<Function>(found);
}

} // namespace

extern "C" {

int SSL_read(SSL* ssl, void* buf, int num) {
  static const auto next = libssl<int (*)(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return next(ssl, buf, num);
}

int SSL_write(SSL* ssl, const void* buf, int num) {
  static const auto next
    = libssl<int (*)(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return next(ssl, buf, num);
}

int SSL_accept(SSL* ssl) {
  static const auto next = libssl<int (*)(SSL*)>("SSL_accept");
  ERR_clear_error();
  return next(ssl);
}

int SSL_connect(SSL* ssl) {
  static const auto next = libssl<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return next(ssl);
}

} // extern "C"
