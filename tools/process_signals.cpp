#include "tools/process_signals.hpp"

#include <csignal>
#include <pthread.h>
#include <thread>

namespace chat {

namespace {

sigset_t shutdown_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

} // namespace

void block_shutdown_signals() {
  auto set = shutdown_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

void on_shutdown_signal(std::function<void(int)> on_signal) {
  std::thread([on_signal = std::move(on_signal)] {
    auto set = shutdown_set();
    int sig = 0;
    if (sigwait(&set, &sig) == 0)
      on_signal(sig);
  }).detach();
}

} // namespace chat
