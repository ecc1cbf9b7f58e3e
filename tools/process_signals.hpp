#pragma once

#include <functional>

namespace chat {

/// Blocks SIGINT and SIGTERM in the calling thread and so in every thread it
/// starts later (threads that libraries started before main are handled by
/// redirecting the signal to the process), and ignores SIGPIPE. Call first
/// thing in main.
void block_shutdown_signals();

/// Starts a thread that waits for SIGINT or SIGTERM and then calls `on_signal`
/// once with the signal number.
void on_shutdown_signal(std::function<void(int)> on_signal);

} // namespace chat
