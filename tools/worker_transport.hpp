#pragma once

#include "actors/protocol/registrar.hpp"
#include "config/config.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/expected.hpp>

#include <cstdint>
#include <string>

/// How chatd and its workers reach each other: CAF's middleman over plain
/// TCP, or over CAF's OpenSSL transport with mutual certificate checks when
/// worker.tls_cert, worker.tls_key and worker.tls_ca are set (in both
/// processes: chatd passes its own to the workers it starts).
namespace chat {

/// True when the worker transport runs over TLS.
bool worker_tls_enabled(const worker_config& cfg);

/// Loads the middleman into `sys_cfg`, and with TLS the OpenSSL manager
/// with this process's certificate, key and the CA that must have signed
/// the peer's certificate.
/// @throws config_error naming the key whose file cannot be used.
void configure_worker_transport(caf::actor_system_config& sys_cfg,
                                const worker_config& cfg);

/// Publishes the pool's registrar on `host`:`port` (0: any free port);
/// returns the bound port.
caf::expected<std::uint16_t> publish_registrar(caf::actor_system& system,
                                               const registrar_actor& pool,
                                               const std::string& host,
                                               std::uint16_t port,
                                               const worker_config& cfg);

/// Connects to the registrar that chatd published on `host`:`port`.
caf::expected<registrar_actor> connect_registrar(caf::actor_system& system,
                                                 const std::string& host,
                                                 std::uint16_t port,
                                                 const worker_config& cfg);

} // namespace chat
