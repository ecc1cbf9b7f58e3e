#include "tools/process_signals.hpp"

#include <csignal>
#include <pthread.h>
#include <thread>
#include <ucontext.h>
#include <unistd.h>

namespace chat {

namespace {

// OpenBLAS (under LibTorch) starts its thread pool in a library constructor,
// before main blocks SIGINT/SIGTERM, so such a signal may be delivered to a
// BLAS thread, whose default action kills the process before the sigwait
// thread of on_shutdown_signal sees it. This handler only ever runs on such
// threads: it blocks the signals there for good (the kernel restores the
// mask from the context on return) and raises the signal again for the
// process, which now only the sigwait thread accepts.
void redirect_to_sigwait(int sig, siginfo_t*, void* context) {
  auto* interrupted = static_cast<ucontext_t*>(context);
  sigaddset(&interrupted->uc_sigmask, SIGINT);
  sigaddset(&interrupted->uc_sigmask, SIGTERM);
  ::kill(::getpid(), sig);
}

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
  struct sigaction action = {};
  action.sa_sigaction = redirect_to_sigwait;
  action.sa_flags = SA_SIGINFO | SA_RESTART;
  action.sa_mask = set;
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
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
