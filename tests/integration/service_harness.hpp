#pragma once

#include "actors/child_process.hpp"
#include "http/client.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace chat::testing {

/// Polls `condition` every 20 ms until it holds or `deadline` passes.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds deadline = std::chrono::seconds(60));

/// A fresh directory removed at the end of the test.
struct temp_dir {
  std::filesystem::path path;
  temp_dir();
  ~temp_dir();
};

/// A real `chatd` (and so its workers) on loopback with its own data dir.
/// stderr goes to `<data_dir>/chatd.log`, parsed for the ports it bound.
class chatd_process {
public:
  explicit chatd_process(std::vector<std::string> extra_flags = {});
  ~chatd_process();

  /// Starts it (again after stop(), on the same data dir); waits until it
  /// logs its addresses.
  void start();

  /// The gateway's port and the workers' HOST:PORT.
  std::uint16_t port() const {
    return port_;
  }
  const std::string& worker_address() const {
    return worker_address_;
  }

  http::client_response get(const std::string& target);
  http::client_response request(const std::string& method,
                                const std::string& target,
                                const std::string& body = {},
                                const http::header_map& headers = {});

  /// Everything logged so far.
  std::string log() const;

  /// Values of `key=` on log lines containing `marker`, in order.
  std::vector<std::string> log_values(const std::string& marker,
                                      const std::string& key) const;

  /// Sends `signal` and waits for the exit; returns the wait status.
  int stop(int signal, std::chrono::milliseconds deadline);

  const std::filesystem::path& data_dir() const {
    return dir_.path;
  }

  /// The admin key chatd wrote on its first start.
  std::string admin_key() const;

private:
  temp_dir dir_;
  std::vector<std::string> flags_;
  std::optional<child_process> process_;
  std::uint16_t port_ = 0;
  std::string worker_address_;
};

/// Starts a program with its stderr appended to `log_file`.
child_process spawn_logged(const std::vector<std::string>& argv,
                           const std::filesystem::path& log_file);

/// The whole file ("" when it cannot be read).
std::string read_file(const std::filesystem::path& file);

/// What one run of the chatctl binary printed (stdout and stderr together)
/// and its exit code.
struct chatctl_result {
  int rc;
  std::string output;
};

/// Runs `chatctl ARGS` (shell words) through the shell with `env`
/// (`VAR=value ...`) and `input` (a printf format) on stdin; the output
/// passes through a file in `dir`.
chatctl_result run_chatctl(const std::filesystem::path& dir,
                           const std::string& args,
                           const std::string& env = "",
                           const std::string& input = "");

/// The environment that points chatctl at `chatd` with `key`.
std::string chatctl_env(const chatd_process& chatd, const std::string& key);

/// True while a process with this pid exists (zombies count as gone).
bool process_alive(int pid);

/// Headers of a JSON request made with `key`.
http::header_map json_auth(const std::string& key);

/// Whether `chatd` answers /readyz with 200 (a worker serves).
bool ready(chatd_process& chatd);

} // namespace chat::testing
