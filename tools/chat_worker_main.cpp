// chat-worker: one inference worker. Loads a checkpoint, starts the engine,
// then connects to chatd through CAF's middleman, joins the pool and serves
// inference_actor until chatd goes away or it gets SIGINT/SIGTERM.

#include "actors/protocol/registrar.hpp"
#include "actors/protocol/type_ids.hpp"
#include "actors/worker/engine.hpp"
#include "actors/worker/worker_actor.hpp"
#include "config/config_loader.hpp"
#include "log/log.hpp"
#include "tools/process_signals.hpp"
#include "tools/service_main.hpp"
#include "tools/worker_transport.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <csignal>
#include <memory>
#include <unistd.h>

namespace {

std::string host_name() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

/// The worker's membership in the pool: joins with the serving actor's
/// handle and quits when chatd or the serving actor goes away.
caf::behavior membership(caf::event_based_actor* self,
                         chat::registrar_actor pool, chat::worker_info info,
                         chat::inference_actor serving) {
  self->monitor(pool);
  self->monitor(serving);
  self->set_down_handler([self, pool](caf::down_msg& msg) {
    if (msg.source == pool.address())
      chat::log::warn("worker", "chatd went away; exiting");
    else
      chat::log::error("worker", "the serving actor stopped; exiting")
        .kv("reason", self->system().render(msg.reason));
    self->quit(caf::exit_reason::normal);
  });
  self->request(pool, std::chrono::seconds(10), chat::atom::join::value, info,
                caf::actor_cast<caf::actor>(serving))
    .then(
      [info](const std::string& id) {
        chat::log::info("worker", "joined the pool")
          .kv("worker", id)
          .kv("model", info.model_id)
          .kv("device", info.device);
      },
      [self](caf::error& err) {
        chat::log::error("worker", "join failed")
          .kv("reason", self->system().render(err));
        self->quit(err);
      });
  return {
    [](chat::atom::get) {},
  };
}

std::unique_ptr<chat::worker::engine> start_engine(const chat::config& cfg) {
  chat::worker::engine_options options;
  options.model_dir = cfg.worker.model;
  options.device = cfg.worker.device;
  options.precision = cfg.worker.precision;
  options.max_batch = cfg.worker.max_batch;
  options.max_queue = cfg.worker.max_queue;
  options.prefill_chunk = cfg.worker.prefill_chunk;
  options.prefix_cache_slots = cfg.worker.prefix_cache_slots;
  options.draft_tokens = cfg.worker.draft_tokens;
  options.draft_max_batch = cfg.worker.draft_max_batch;
  options.compute_threads = cfg.worker.compute_threads;
  try {
    return std::make_unique<chat::worker::engine>(options);
  } catch (const std::exception& e) {
    chat::log::error("worker", "cannot serve the model")
      .kv("model", cfg.worker.model)
      .kv("device", cfg.worker.device)
      .kv("reason", e.what());
    return nullptr;
  }
}

int run(const chat::config& cfg) {
  chat::log::set_level(cfg.log.level);
  auto [host, port] = chat::parse_host_port("worker.connect",
                                            cfg.worker.connect);
  if (cfg.worker.model.empty()) {
    chat::log::error("worker", "no model; pass --model DIR, a checkpoint "
                               "directory (config.json, model.pt, "
                               "meta.json)");
    return 1;
  }
  // The model loads before joining, so chatd never routes to a worker that
  // cannot serve yet.
  auto engine = start_engine(cfg);
  if (!engine)
    return 1;

  caf::actor_system_config sys_cfg;
  sys_cfg.set("scheduler.max-threads", 1);
  // Blocking hand-off, not work stealing: stealing threads poll between
  // messages and took CPU from the worker's compute threads.
  sys_cfg.set("scheduler.policy", caf::atom("sharing"));
  sys_cfg.set("logger.console", caf::atom("none"));
  chat::configure_worker_transport(sys_cfg, cfg.worker);
  sys_cfg.add_message_types<caf::id_block::chat>();
  caf::actor_system system{sys_cfg};

  auto pool = chat::connect_registrar(system, host, port, cfg.worker);
  if (!pool) {
    chat::log::error("worker", "cannot reach chatd")
      .kv("address", cfg.worker.connect)
      .kv("tls", chat::worker_tls_enabled(cfg.worker) ? "on" : "off")
      .kv("reason", system.render(pool.error()));
    return 1;
  }
  chat::worker_info info;
  info.host = host_name();
  info.pid = static_cast<int32_t>(::getpid());
  info.device = engine->device_name();
  info.model_id = engine->model_id();
  info.name = cfg.worker.name.empty()
                ? info.host + "-" + std::to_string(info.pid)
                : cfg.worker.name;
  chat::inference_actor serving = system.spawn(chat::worker::serve_inference,
                                               engine.get());
  auto member = system.spawn(membership, *pool, info, serving);
  chat::on_shutdown_signal([member](int) {
    caf::anon_send_exit(member, caf::exit_reason::user_shutdown);
  });
  caf::scoped_actor waiter{system};
  waiter->wait_for(member);
  caf::anon_send_exit(serving, caf::exit_reason::user_shutdown);
  waiter->wait_for(serving);
  engine->stop();
  chat::log::info("worker", "stopped");
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  return chat::service_main(
    argc, argv, "chat-worker",
    "Usage: chat-worker --connect HOST:PORT --model DIR "
    "[--device cpu|cuda|auto] [--name NAME] [flags]",
    run);
}
