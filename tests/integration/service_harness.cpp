#include "service_harness.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace chat::testing {

namespace fs = std::filesystem;

bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds deadline) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (condition())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

temp_dir::temp_dir() {
  std::random_device rd;
  path = fs::temp_directory_path()
         / ("chat-it-" + std::to_string(::getpid()) + "-"
            + std::to_string(rd()));
  fs::create_directories(path);
}

temp_dir::~temp_dir() {
  std::error_code ec;
  fs::remove_all(path, ec);
}

child_process spawn_logged(const std::vector<std::string>& argv,
                           const fs::path& log_file) {
  std::string cmd = "exec";
  for (const auto& a : argv)
    cmd += " '" + a + "'";
  cmd += " 2>>'" + log_file.string() + "'";
  return child_process({"/bin/sh", "-c", cmd});
}

bool process_alive(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line))
    return false;
  auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size()
         && line[close + 2] != 'Z';
}

chatd_process::chatd_process(std::vector<std::string> extra_flags)
  : flags_(std::move(extra_flags)) {
}

chatd_process::~chatd_process() {
  if (process_)
    process_->stop(std::chrono::milliseconds(5000));
}

void chatd_process::start() {
  std::vector<std::string> argv = {CHAT_BINARY_DIR "/tools/chatd",
                                   "--data-dir",
                                   dir_.path.string(),
                                   "--listen",
                                   "127.0.0.1:0",
                                   "--log-level",
                                   "debug",
                                   "--model.path",
                                   CHAT_TINY_MODEL_DIR};
  argv.insert(argv.end(), flags_.begin(), flags_.end());
  // A restart appends to the same log: wait for this run's line.
  const auto earlier = log_values("chatd: listening", "address").size();
  process_.emplace(spawn_logged(argv, dir_.path / "chatd.log"));
  REQUIRE(eventually([&] {
    return log_values("chatd: listening", "address").size() > earlier
           || process_->try_wait().has_value();
  }));
  INFO(log());
  REQUIRE_FALSE(process_->try_wait().has_value());
  auto address = log_values("chatd: listening", "address").back();
  port_ = static_cast<std::uint16_t>(
    std::stoi(address.substr(address.rfind(':') + 1)));
  worker_address_ = log_values("chatd: accepting workers", "address").back();
}

http::client_response chatd_process::get(const std::string& target) {
  return request("GET", target);
}

http::client_response chatd_process::request(const std::string& method,
                                             const std::string& target,
                                             const std::string& body,
                                             const http::header_map& headers) {
  return http::fetch({"127.0.0.1", port_}, method, target, body, headers,
                     std::chrono::seconds(10));
}

std::string chatd_process::log() const {
  std::ifstream in(dir_.path / "chatd.log");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> chatd_process::log_values(const std::string& marker,
                                                   const std::string& key) const {
  std::vector<std::string> out;
  std::istringstream lines(log());
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find(marker) == std::string::npos)
      continue;
    auto at = line.find(" " + key + "=");
    if (at == std::string::npos)
      continue;
    auto start = at + key.size() + 2;
    out.push_back(line.substr(start, line.find(' ', start) - start));
  }
  return out;
}

std::string chatd_process::admin_key() const {
  auto key = read_file(dir_.path / "admin.key");
  return key.substr(0, key.find('\n'));
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

chatctl_result run_chatctl(const fs::path& dir, const std::string& args,
                           const std::string& env, const std::string& input) {
  auto out_file = dir / "chatctl.out";
  std::string cmd = env + " " CHAT_BINARY_DIR "/tools/chatctl " + args
                    + " > '" + out_file.string() + "' 2>&1";
  if (!input.empty())
    cmd = "printf '" + input + "' | " + cmd;
  int rc = std::system(cmd.c_str());
  return {WEXITSTATUS(rc), read_file(out_file)};
}

std::string chatctl_env(const chatd_process& chatd, const std::string& key) {
  return "CHATCTL_URL=http://127.0.0.1:" + std::to_string(chatd.port())
         + " CHATCTL_KEY=" + key;
}

int chatd_process::stop(int signal, std::chrono::milliseconds deadline) {
  process_->signal(signal);
  std::optional<int> status;
  eventually([&] { return (status = process_->try_wait()).has_value(); },
             deadline);
  if (!status)
    return -1;
  process_.reset();
  return *status;
}

http::header_map json_auth(const std::string& key) {
  return {{"Authorization", "Bearer " + key},
          {"Content-Type", "application/json"}};
}

bool ready(chatd_process& chatd) {
  return chatd.get("/readyz").status == 200;
}

} // namespace chat::testing
