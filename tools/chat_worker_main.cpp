// chat-worker: one inference worker. Connects to chatd through CAF's
// middleman, joins the pool and serves until chatd goes away or it gets
// SIGINT/SIGTERM.

#include "actors/protocol/registrar.hpp"
#include "config/config_loader.hpp"
#include "log/log.hpp"
#include "tools/process_signals.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <iostream>
#include <thread>
#include <unistd.h>

namespace {

std::string host_name() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

/// The worker's actor: joins the pool and lives as long as the pool does.
caf::behavior worker(caf::event_based_actor* self, chat::registrar_actor pool,
                     chat::worker_info info) {
  self->monitor(pool);
  self->set_down_handler([self](caf::down_msg&) {
    chat::log::warn("worker", "chatd went away; exiting");
    self->quit(caf::exit_reason::normal);
  });
  self->request(pool, std::chrono::seconds(10), chat::atom::join::value, info,
                caf::actor_cast<caf::actor>(self))
    .then(
      [](const std::string& id) {
        chat::log::info("worker", "joined the pool").kv("worker", id);
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

int run(const chat::config& cfg) {
  chat::log::set_level(cfg.log.level);
  auto [host, port] = chat::parse_host_port("worker.connect", cfg.worker.connect);
  caf::actor_system_config sys_cfg;
  sys_cfg.set("scheduler.max-threads", 1);
  sys_cfg.set("logger.console", caf::atom("none"));
  sys_cfg.load<caf::io::middleman>();
  sys_cfg.add_message_types<caf::id_block::chat>();
  caf::actor_system system{sys_cfg};

  auto pool = system.middleman().remote_actor<chat::registrar_actor>(host,
                                                                      port);
  if (!pool) {
    chat::log::error("worker", "cannot reach chatd")
      .kv("address", cfg.worker.connect)
      .kv("reason", system.render(pool.error()));
    return 1;
  }
  chat::worker_info info;
  info.host = host_name();
  info.pid = static_cast<int32_t>(::getpid());
  info.device = cfg.worker.device;
  info.name = cfg.worker.name.empty()
                ? info.host + "-" + std::to_string(info.pid)
                : cfg.worker.name;
  // Until the engine lands the worker serves no weights but can take work;
  // the id names that.
  info.model_id = "none";
  auto self_actor = system.spawn(worker, *pool, info);
  chat::on_shutdown_signal([self_actor](int) {
    caf::anon_send_exit(self_actor, caf::exit_reason::user_shutdown);
  });
  caf::scoped_actor waiter{system};
  waiter->wait_for(self_actor);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  chat::block_shutdown_signals();
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << "Usage: chat-worker --connect HOST:PORT [--device cpu] "
                   "[--name NAME] [flags]\n\n"
                << chat::config_help();
      return 0;
    }
  }
  try {
    return run(chat::load_config_from_process(argc, argv));
  } catch (const chat::config_error& e) {
    std::cerr << "chat-worker: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    chat::log::error("worker", "fatal").kv("what", e.what());
    return 1;
  }
}
