#include "tools/worker_transport.hpp"

#include "config/config_loader.hpp"

#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/openssl/remote_actor.hpp>
#include <openssl/ssl.h>

#include <memory>

namespace chat {

namespace {

[[noreturn]] void fail(const std::string& key, const std::string& file,
                       const std::string& what) {
  throw config_error("config key '" + key + "': '" + file + "' " + what);
}

/// Loads the files as CAF's OpenSSL session will, so a bad one stops the
/// process at start with a message naming it (CAF would only fail at the
/// first connection, inside its I/O thread).
void check_tls_files(const worker_config& cfg) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(
    SSL_CTX_new(TLS_method()), SSL_CTX_free);
  if (!ctx)
    throw config_error("worker transport: cannot create an OpenSSL context");
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cfg.tls_cert.c_str())
      != 1)
    fail("worker.tls_cert", cfg.tls_cert, "is not a PEM certificate chain");
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), cfg.tls_key.c_str(),
                                  SSL_FILETYPE_PEM)
      != 1)
    fail("worker.tls_key", cfg.tls_key, "is not a PEM private key");
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    fail("worker.tls_key", cfg.tls_key,
         "does not match worker.tls_cert '" + cfg.tls_cert + "'");
  if (SSL_CTX_load_verify_locations(ctx.get(), cfg.tls_ca.c_str(), nullptr)
      != 1)
    fail("worker.tls_ca", cfg.tls_ca, "holds no PEM CA certificate");
}

} // namespace

bool worker_tls_enabled(const worker_config& cfg) {
  return !cfg.tls_cert.empty();
}

void configure_worker_transport(caf::actor_system_config& sys_cfg,
                                const worker_config& cfg) {
  sys_cfg.load<caf::io::middleman>();
  if (!worker_tls_enabled(cfg))
    return;
  check_tls_files(cfg);
  // With any of these set, CAF requires a certificate from the peer that
  // the CA signed (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT), on
  // both the publishing and the connecting side.
  sys_cfg.openssl_certificate = cfg.tls_cert;
  sys_cfg.openssl_key = cfg.tls_key;
  sys_cfg.openssl_cafile = cfg.tls_ca;
  sys_cfg.load<caf::openssl::manager>();
}

caf::expected<std::uint16_t> publish_registrar(caf::actor_system& system,
                                               const registrar_actor& pool,
                                               const std::string& host,
                                               std::uint16_t port,
                                               const worker_config& cfg) {
  if (worker_tls_enabled(cfg))
    return caf::openssl::publish(pool, port, host.c_str(), true);
  return system.middleman().publish(pool, port, host.c_str(), true);
}

caf::expected<registrar_actor> connect_registrar(caf::actor_system& system,
                                                 const std::string& host,
                                                 std::uint16_t port,
                                                 const worker_config& cfg) {
  if (worker_tls_enabled(cfg))
    return caf::openssl::remote_actor<registrar_actor>(system, host, port);
  return system.middleman().remote_actor<registrar_actor>(host, port);
}

} // namespace chat
