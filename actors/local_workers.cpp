#include "actors/local_workers.hpp"

#include "actors/protocol/type_ids.hpp"
#include "log/log.hpp"

#include <caf/all.hpp>

namespace chat {

namespace {

constexpr auto poll_interval = std::chrono::milliseconds(100);
constexpr auto stable_uptime = std::chrono::seconds(60);
constexpr auto stop_grace = std::chrono::milliseconds(3000);

} // namespace

void local_workers_state::start(size_t index) {
  auto& s = slots[index];
  std::vector<std::string> argv = {spec.binary,       "--connect",
                                   spec.connect,      "--device",
                                   s.device,          "--name",
                                   "local-" + std::to_string(index)};
  argv.insert(argv.end(), spec.extra_args.begin(), spec.extra_args.end());
  try {
    s.process.emplace(argv);
    s.started = std::chrono::steady_clock::now();
    log::info("workers", "worker started")
      .kv("slot", index)
      .kv("device", s.device)
      .kv("pid", s.process->pid());
  } catch (const std::exception& e) {
    log::error("workers", "cannot start worker").kv("what", e.what());
    s.restart_at = std::chrono::steady_clock::now() + spec.backoff_max;
  }
}

void local_workers_state::poll() {
  auto now = std::chrono::steady_clock::now();
  for (size_t i = 0; i < slots.size(); ++i) {
    auto& s = slots[i];
    if (s.process) {
      auto status = s.process->try_wait();
      if (!status)
        continue;
      bool was_stable = now - s.started >= stable_uptime;
      s.backoff = was_stable || s.backoff.count() == 0
                    ? spec.backoff
                    : std::min(s.backoff * 2, spec.backoff_max);
      s.restart_at = now + s.backoff;
      ++s.restarts;
      log::warn("workers", "worker exited")
        .kv("slot", i)
        .kv("pid", s.process->pid())
        .kv("status", child_process::describe(*status))
        .kv("restart_in_ms", s.backoff.count());
      s.process.reset();
    } else if (now >= s.restart_at) {
      start(i);
    }
  }
}

caf::behavior local_workers(caf::stateful_actor<local_workers_state>* self,
                            local_workers_spec spec) {
  auto& st = self->state;
  st.spec = std::move(spec);
  for (const auto& device : st.spec.devices)
    st.slots.push_back({device, std::nullopt, {}, {}, {}, 0});
  for (size_t i = 0; i < st.slots.size(); ++i)
    st.start(i);
  self->attach_functor([self] {
    for (auto& s : self->state.slots)
      if (s.process)
        s.process->stop(stop_grace);
  });
  self->send(self, atom::poll::value);
  return {
    [self](atom::poll) {
      self->state.poll();
      self->delayed_send(self, poll_interval, atom::poll::value);
    },
  };
}

} // namespace chat
