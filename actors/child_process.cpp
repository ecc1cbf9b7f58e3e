#include "actors/child_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace chat {

child_process::child_process(const std::vector<std::string>& argv,
                             child_output redirect) {
  // Everything the child needs is built before fork: after it, only
  // async-signal-safe calls are allowed.
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0)
    throw std::runtime_error(std::string("fork failed: ")
                             + std::strerror(errno));
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent)
      ::_exit(1);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (redirect.stdout_fd >= 0 && ::dup2(redirect.stdout_fd, 1) < 0)
      ::_exit(127);
    if (redirect.stderr_fd >= 0 && ::dup2(redirect.stderr_fd, 2) < 0)
      ::_exit(127);
    ::syscall(SYS_close_range, 3u, ~0u, 0u);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
}

child_process::child_process(child_process&& other) noexcept
  : pid_(other.pid_), status_(other.status_) {
  other.pid_ = -1;
}

child_process& child_process::operator=(child_process&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0 && !status_)
      stop(std::chrono::milliseconds(0));
    pid_ = other.pid_;
    status_ = other.status_;
    other.pid_ = -1;
  }
  return *this;
}

child_process::~child_process() {
  if (pid_ > 0 && !status_)
    stop(std::chrono::milliseconds(2000));
}

std::optional<int> child_process::try_wait() {
  if (status_ || pid_ <= 0)
    return status_;
  int st = 0;
  pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_)
    status_ = st;
  return status_;
}

void child_process::signal(int sig) {
  if (pid_ > 0 && !try_wait())
    ::kill(pid_, sig);
}

int child_process::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0)
    return 0;
  signal(grace.count() > 0 ? SIGTERM : SIGKILL);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (!try_wait() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (!try_wait()) {
    ::kill(pid_, SIGKILL);
    int st = 0;
    if (::waitpid(pid_, &st, 0) == pid_)
      status_ = st;
  }
  return status_.value_or(0);
}

std::string child_process::describe(int wait_status) {
  if (WIFEXITED(wait_status))
    return "exit code " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    const char* name = ::sigabbrev_np(WTERMSIG(wait_status));
    return std::string("signal ") + (name ? name : "?");
  }
  return "status " + std::to_string(wait_status);
}

} // namespace chat
