#include "actors/store.hpp"

#include "actors/protocol/type_ids.hpp"
#include "log/log.hpp"
#include "storage/database.hpp"

#include <caf/all.hpp>

#include <memory>

namespace chat {

namespace {

using exec_atom = caf::atom_constant<caf::atom("exec")>;

} // namespace

store_context::store_context(const std::string& dir)
  : data_dir(dir),
    db(storage::open_database(dir == ":memory:" ? dir : dir + "/chat.db")) {
}

caf::behavior store(caf::event_based_actor* self, std::string data_dir) {
  auto ctx = std::make_shared<store_context>(data_dir);
  self->attach_functor([ctx] {
    log::debug("store", "closing the database");
  });
  return {
    [ctx](exec_atom, store_task& task) {
      try {
        task.run(*ctx);
      } catch (const std::exception& e) {
        log::error("store", "task failed").kv("what", e.what());
      }
    },
  };
}

void run_in_store(const caf::actor& store,
                  std::function<void(store_context&)> task) {
  caf::anon_send(store, exec_atom::value, store_task{std::move(task)});
}

} // namespace chat
