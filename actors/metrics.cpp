#include "actors/metrics.hpp"

#include <sstream>

namespace chat {

void latency_histogram::observe(double seconds) {
  std::size_t i = 0;
  while (i < bounds.size() && seconds > bounds[i])
    ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<std::uint64_t>(seconds * 1e6),
                        std::memory_order_relaxed);
}

void latency_histogram::render(const std::string& name,
                               std::string& out) const {
  std::ostringstream os;
  os << "# TYPE " << name << " histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    os << name << "_bucket{le=\"" << bounds[i] << "\"} " << cumulative << "\n";
  }
  cumulative += counts_[bounds.size()].load(std::memory_order_relaxed);
  os << name << "_bucket{le=\"+Inf\"} " << cumulative << "\n";
  os << name << "_sum " << sum_micros_.load() / 1e6 << "\n";
  os << name << "_count " << cumulative << "\n";
  out += os.str();
}

void service_metrics::count_request(const std::string& route, int status) {
  std::lock_guard<std::mutex> guard(mutex_);
  ++requests_[{route, status}];
}

std::string service_metrics::render() const {
  std::ostringstream os;
  os << "# TYPE chatd_requests_total counter\n";
  {
    std::lock_guard<std::mutex> guard(mutex_);
    for (const auto& [key, n] : requests_)
      os << "chatd_requests_total{route=\"" << key.first << "\",status=\""
         << key.second << "\"} " << n << "\n";
  }
  os << "# TYPE chatd_tokens_generated_total counter\n"
     << "chatd_tokens_generated_total " << tokens_generated.load() << "\n"
     << "# TYPE chatd_active_streams gauge\n"
     << "chatd_active_streams " << active_streams.load() << "\n";
  auto out = os.str();
  time_to_first_token.render("chatd_time_to_first_token_seconds", out);
  inter_token_latency.render("chatd_inter_token_latency_seconds", out);
  return out;
}

} // namespace chat
