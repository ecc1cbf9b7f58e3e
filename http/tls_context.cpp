#include "http/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <stdexcept>

namespace chat::http {

namespace ssl = boost::asio::ssl;

namespace {

// TLS 1.2 suites with ECDHE and an AEAD cipher (TLS 1.3's defaults are all
// of that kind already).
constexpr const char* tls12_ciphers
  = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::shared_ptr<ssl::context> make_context(ssl::context::method method) {
  auto ctx = std::make_shared<ssl::context>(method);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2
                   | ssl::context::no_sslv3 | ssl::context::no_tlsv1
                   | ssl::context::no_tlsv1_1 | ssl::context::no_compression
                   | ssl::context::single_dh_use);
  auto* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_cipher_list(native, tls12_ciphers);
  return ctx;
}

[[noreturn]] void fail(const std::string& what, const std::string& file,
                       const boost::system::error_code& ec) {
  throw std::runtime_error(what + " '" + file + "': " + ec.message());
}

} // namespace

std::shared_ptr<ssl::context>
make_server_tls_context(const std::string& cert_file,
                        const std::string& key_file) {
  auto ctx = make_context(ssl::context::tls_server);
  SSL_CTX_set_options(ctx->native_handle(), SSL_OP_CIPHER_SERVER_PREFERENCE);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(cert_file, ec);
  if (ec)
    fail("cannot use the TLS certificate", cert_file, ec);
  ctx->use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec)
    fail("cannot use the TLS key", key_file, ec);
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
    throw std::runtime_error("the TLS key '" + key_file
                             + "' does not match the certificate '"
                             + cert_file + "'");
  return ctx;
}

std::shared_ptr<ssl::context> make_client_tls_context(const std::string& ca_file) {
  auto ctx = make_context(ssl::context::tls_client);
  boost::system::error_code ec;
  if (ca_file.empty())
    ctx->set_default_verify_paths(ec);
  else
    ctx->load_verify_file(ca_file, ec);
  if (ec)
    fail("cannot read the CA certificates", ca_file, ec);
  ctx->set_verify_mode(ssl::verify_peer);
  return ctx;
}

} // namespace chat::http
