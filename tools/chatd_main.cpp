// chatd: the gateway process. Wires config, storage, the actor system, the
// worker pool (published for workers through CAF's middleman) and the HTTP
// gateway; then waits for SIGINT/SIGTERM.

#include "actors/gateway.hpp"
#include "actors/model_activation.hpp"
#include "actors/model_registry.hpp"
#include "actors/served_model.hpp"
#include "actors/store.hpp"
#include "actors/protocol/type_ids.hpp"
#include "actors/supervisor.hpp"
#include "actors/worker_pool.hpp"
#include "config/config_loader.hpp"
#include "http/server.hpp"
#include "log/log.hpp"
#include "storage/bootstrap.hpp"
#include "storage/database.hpp"
#include "storage/models.hpp"
#include "tools/process_signals.hpp"
#include "tools/service_main.hpp"
#include "tools/worker_transport.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>
#include <thread>
#include <unistd.h>

namespace {

/// Polls `done` until it holds or `limit` passes.
void wait_until(const std::function<bool()>& done,
                std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

/// The path of `name` next to the running chatd.
std::string sibling_binary(const char* name) {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (self.parent_path() / name).string();
}

int run(const chat::config& cfg) {
  chat::log::set_level(cfg.log.level);
  std::filesystem::create_directories(cfg.data_dir);
  auto db = chat::storage::open_database(cfg.data_dir + "/chat.db");
  if (auto secret = chat::storage::bootstrap_admin(db, cfg.data_dir))
    std::cerr << "\n  First start: created user 'admin' with API key\n\n    "
              << *secret << "\n\n  (also saved to " << cfg.data_dir
              << "/admin.key, mode 0600; it is not shown again)\n\n";
  chat::storage::models_repo models(db);
  auto serve_dir = chat::startup_model_dir(models, cfg.model.path,
                                           CHAT_DEFAULT_MODEL_DIR);
  std::shared_ptr<const chat::served_model> model;
  try {
    model = chat::load_served_model(serve_dir);
    chat::register_active_model(models, *model);
    chat::log::info("chatd", "model loaded")
      .kv("model", model->id)
      .kv("context", model->context)
      .kv("vocab", model->vocab_size);
  } catch (const std::exception& e) {
    chat::log::error("chatd", "cannot load the model; serving none")
      .kv("what", e.what());
  }

  auto status = std::make_shared<chat::service_state>();
  caf::actor_system_config sys_cfg;
  sys_cfg.set("scheduler.max-threads", 2);
  // Blocking hand-off, not work stealing: stealing threads poll between
  // messages and took CPU from the worker's compute threads.
  sys_cfg.set("scheduler.policy", caf::atom("sharing"));
  sys_cfg.set("logger.console", caf::atom("none"));
  chat::configure_worker_transport(sys_cfg, cfg.worker);
  sys_cfg.add_message_types<caf::id_block::chat>();
  caf::actor_system system{sys_cfg};

  auto store = system.spawn<caf::detached>(chat::store, cfg.data_dir);
  auto pool = system.spawn(chat::worker_pool, status);
  // The pool learns the model before any worker joins, so it can switch a
  // worker that joins with another one.
  if (model)
    caf::anon_send(pool, chat::atom::activate::value,
                   chat::model_ref{model->id, model->path});
  auto [worker_host, worker_port]
    = chat::parse_host_port("workers.listen", cfg.workers.listen);
  auto published = chat::publish_registrar(
    system, caf::actor_cast<chat::registrar_actor>(pool), worker_host,
    worker_port, cfg.worker);
  if (!published) {
    chat::log::error("chatd", "cannot accept workers")
      .kv("listen", cfg.workers.listen)
      .kv("reason", system.render(published.error()));
    caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
    return 1;
  }
  auto connect = worker_host + ":" + std::to_string(*published);
  chat::log::info("chatd", "accepting workers")
    .kv("address", connect)
    .kv("tls", chat::worker_tls_enabled(cfg.worker) ? "on" : "off");

  chat::local_workers_spec spec;
  spec.binary = cfg.workers.binary.empty() ? sibling_binary("chat-worker")
                                           : cfg.workers.binary;
  spec.devices = cfg.workers.devices;
  spec.connect = connect;
  spec.extra_args = {"--log-level", cfg.log.level, "--model", serve_dir,
                     "--worker.max_batch",
                     std::to_string(cfg.worker.max_batch),
                     "--worker.max_queue",
                     std::to_string(cfg.worker.max_queue),
                     "--worker.prefill_chunk",
                     std::to_string(cfg.worker.prefill_chunk),
                     "--worker.prefix_cache_slots",
                     std::to_string(cfg.worker.prefix_cache_slots),
                     "--worker.compute_threads",
                     std::to_string(cfg.worker.compute_threads),
                     "--worker.draft_tokens",
                     std::to_string(cfg.worker.draft_tokens),
                     "--worker.draft_max_batch",
                     std::to_string(cfg.worker.draft_max_batch),
                     "--worker.precision", cfg.worker.precision};
  if (chat::worker_tls_enabled(cfg.worker))
    spec.extra_args.insert(spec.extra_args.end(),
                           {"--worker.tls_cert", cfg.worker.tls_cert,
                            "--worker.tls_key", cfg.worker.tls_key,
                            "--worker.tls_ca", cfg.worker.tls_ca});
  spec.backoff = std::chrono::milliseconds(cfg.workers.restart_backoff_ms);
  spec.backoff_max
    = std::chrono::milliseconds(cfg.workers.restart_backoff_max_ms);
  chat::gateway_deps deps;
  deps.system = &system;
  deps.store = store;
  deps.pool = pool;
  deps.status = status;
  deps.model = std::make_shared<chat::model_slot>(model);
  deps.limiter = std::make_shared<chat::rate_limiter>(
    cfg.limits.max_streams_per_key, cfg.limits.max_sockets_per_key);
  deps.metrics = std::make_shared<chat::service_metrics>();
  deps.safety = std::make_shared<chat::safety_guard>(cfg.safety);
  deps.limits = cfg.limits;
  // Queued before any request can reach the store, so the first one is
  // already screened.
  chat::run_in_store(store, [safety = deps.safety](chat::store_context& db) {
    safety->load_rules(db);
  });

  chat::job_runner_spec jobs;
  jobs.data_dir = cfg.data_dir;
  jobs.trainer = cfg.jobs.binary.empty() ? sibling_binary("chat-train")
                                         : cfg.jobs.binary;
  jobs.device = cfg.jobs.device;
  jobs.store = store;
  jobs.activate = [deps](std::string model_id, auto done) {
    chat::activate_model(deps, std::move(model_id),
                         [done](chat::activation_outcome outcome) {
                           if (outcome.error)
                             done(std::string(outcome.error->what()));
                           else
                             done(std::nullopt);
                         });
  };
  auto root = system.spawn(chat::supervisor, pool, spec, jobs);

  auto [host, port] = chat::parse_host_port("server.listen", cfg.server.listen);
  std::unique_ptr<chat::http::server> gateway;
  try {
    chat::http::server_limits limits;
    limits.max_body_bytes = cfg.server.max_body_bytes;
    limits.max_upload_bytes = cfg.server.max_upload_bytes;
    limits.upload_paths = {"/admin/datasets"};
    limits.max_header_bytes = cfg.server.max_header_bytes;
    limits.read_timeout_s = cfg.server.read_timeout_s;
    limits.max_connections
      = static_cast<std::uint32_t>(cfg.server.max_connections);
    limits.max_ws_message_bytes = cfg.server.max_ws_message_bytes;
    gateway = std::make_unique<chat::http::server>(
      host, port, cfg.server.io_threads, limits,
      chat::make_gateway_routes(deps),
      [](chat::http::request& req, const chat::http::route& r,
         chat::http::responder_ptr done) { r.handle(req, std::move(done)); },
      chat::make_websocket_routes(deps),
      chat::http::tls_files{cfg.server.tls_cert, cfg.server.tls_key});
  } catch (const std::exception& e) {
    chat::log::error("chatd", e.what());
    caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(store, caf::exit_reason::user_shutdown);
    return 1;
  }
  chat::log::info("chatd", "listening")
    .kv("address", host + ":" + std::to_string(gateway->port()))
    .kv("tls", cfg.server.tls_cert.empty() ? "off" : "on")
    .kv("pid", ::getpid());

  // SIGTERM drains: no new connections, running answers get up to the grace
  // period to finish, then workers and the job runner stop (a running
  // trainer checkpoints) and what is still streaming ends with an error
  // event before the gateway closes.
  const auto grace = std::chrono::seconds(cfg.server.shutdown_grace_s);
  chat::on_shutdown_signal([&](int sig) {
    chat::log::info("chatd", "shutting down")
      .kv("signal", sig)
      .kv("in_progress", gateway->requests_in_progress())
      .kv("grace_s", cfg.server.shutdown_grace_s);
    gateway->stop_accepting();
    wait_until([&] { return gateway->requests_in_progress() == 0; }, grace);
    caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
  });
  caf::scoped_actor self{system};
  self->monitor(root);
  caf::error reason;
  self->receive([&](caf::down_msg& msg) { reason = msg.reason; });
  wait_until([&] { return gateway->requests_in_progress() == 0; },
             std::chrono::seconds(2));
  gateway->stop();
  caf::anon_send_exit(store, caf::exit_reason::user_shutdown);
  bool clean = reason == caf::exit_reason::user_shutdown;
  chat::log::info("chatd", "stopped").kv("reason", system.render(reason));
  return clean ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  return chat::service_main(argc, argv, "chatd",
                            "Usage: chatd [--config FILE] [flags]",
                            run);
}
