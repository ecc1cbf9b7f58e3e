#pragma once

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>

namespace chat::http {

/// A server context for HTTPS and WSS: TLS 1.2 and 1.3 only, forward-secret
/// AEAD ciphers, no compression, no renegotiation.
/// @throws std::runtime_error naming the file that cannot be used.
std::shared_ptr<boost::asio::ssl::context>
make_server_tls_context(const std::string& cert_file,
                        const std::string& key_file);

/// A client context with the same protocol floor that verifies the server's
/// certificate against `ca_file` (PEM), or the system's store when empty.
/// @throws std::runtime_error when `ca_file` cannot be read.
std::shared_ptr<boost::asio::ssl::context>
make_client_tls_context(const std::string& ca_file);

} // namespace chat::http
