#pragma once

#include "actors/protocol/worker_info.hpp"

#include <string>
#include <vector>

namespace chat {

/// Prometheus text for the pool's workers (its status answer): up or down,
/// load, KV-cache use and prefix reuse, one series per worker labelled
/// with its pool id and device. A worker that did not answer shows only
/// as down: its other figures are unknown, not zero.
std::string render_worker_metrics(const std::vector<worker_row>& rows);

} // namespace chat
