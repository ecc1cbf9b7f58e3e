#include "actors/worker_metrics.hpp"

namespace chat {

namespace {

/// One metric family and how a worker's status gives its value.
struct family {
  const char* name;
  const char* type;
  std::string (*value)(const worker_status& s);
};

const family families[] = {
  {"chatd_worker_running", "gauge",
   [](const worker_status& s) { return std::to_string(s.running); }},
  {"chatd_queue_depth", "gauge",
   [](const worker_status& s) { return std::to_string(s.queued); }},
  {"chatd_batch_size_peak", "gauge",
   [](const worker_status& s) { return std::to_string(s.peak_batch); }},
  {"chatd_worker_tokens_per_second", "gauge",
   [](const worker_status& s) { return std::to_string(s.tokens_per_sec); }},
  {"chatd_kv_cache_slots_used", "gauge",
   [](const worker_status& s) { return std::to_string(s.kv_slots_used); }},
  {"chatd_kv_cache_slots_total", "gauge",
   [](const worker_status& s) { return std::to_string(s.kv_slots_total); }},
  {"chatd_prefix_cache_hits_total", "counter",
   [](const worker_status& s) { return std::to_string(s.prefix.hits); }},
  {"chatd_prefix_cache_misses_total", "counter",
   [](const worker_status& s) { return std::to_string(s.prefix.misses); }},
  {"chatd_prefix_cache_reused_tokens_total", "counter",
   [](const worker_status& s) {
     return std::to_string(s.prefix.reused_tokens);
   }},
  {"chatd_draft_tokens_total", "counter",
   [](const worker_status& s) { return std::to_string(s.drafts.proposed); }},
  {"chatd_draft_tokens_accepted_total", "counter",
   [](const worker_status& s) { return std::to_string(s.drafts.accepted); }},
};

/// A label value as the text format needs it: the device name comes from
/// the worker, which may run on another host.
std::string escaped(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '\\' || c == '"')
      out += '\\';
    out += c;
  }
  return out;
}

std::string labels(const worker_row& w) {
  return "{worker=\"" + escaped(w.id) + "\",device=\""
         + escaped(w.info.device) + "\"}";
}

} // namespace

std::string render_worker_metrics(const std::vector<worker_row>& rows) {
  std::string out = "# TYPE chatd_worker_up gauge\n";
  for (const auto& w : rows)
    out += "chatd_worker_up" + labels(w)
           + (w.state == "ready" ? " 1\n" : " 0\n");
  for (const auto& f : families) {
    out += std::string("# TYPE ") + f.name + " " + f.type + "\n";
    for (const auto& w : rows)
      if (w.state == "ready")
        out += f.name + labels(w) + " " + f.value(w.status) + "\n";
  }
  return out;
}

} // namespace chat
