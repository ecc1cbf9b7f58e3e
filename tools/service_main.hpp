#pragma once

#include "config/config.hpp"

#include <functional>

namespace chat {

/// The main of a service process (chatd, chat-worker): blocks the shutdown
/// signals, answers --help with `usage` and the config keys, loads the
/// configuration and calls `run`. A config error exits 2 with a message
/// naming the key; anything else thrown exits 1 with a log line.
int service_main(int argc, char** argv, const char* name, const char* usage,
                 const std::function<int(const config&)>& run);

} // namespace chat
