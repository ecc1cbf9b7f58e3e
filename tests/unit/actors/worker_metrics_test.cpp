#include "actors/worker_metrics.hpp"

#include <catch2/catch.hpp>

using namespace chat;

namespace {

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

std::size_t occurrences(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos;
       at = text.find(part, at + 1))
    ++n;
  return n;
}

worker_row ready_worker() {
  worker_row w;
  w.id = "worker-1";
  w.info.device = "cpu";
  w.state = "ready";
  w.status.running = 2;
  w.status.queued = 1;
  w.status.kv_slots_total = 20;
  w.status.kv_slots_used = 5;
  w.status.prefix = {7, 3, 412};
  w.status.drafts = {90, 61};
  return w;
}

} // namespace

TEST_CASE("worker metrics: KV-cache use, prefix reuse and drafts per worker",
          "[unit]") {
  auto text = render_worker_metrics({ready_worker()});
  const std::string label = "{worker=\"worker-1\",device=\"cpu\"}";
  CHECK(has_line(text, "# TYPE chatd_kv_cache_slots_used gauge"));
  CHECK(has_line(text, "chatd_kv_cache_slots_used" + label + " 5"));
  CHECK(has_line(text, "# TYPE chatd_kv_cache_slots_total gauge"));
  CHECK(has_line(text, "chatd_kv_cache_slots_total" + label + " 20"));
  CHECK(has_line(text, "# TYPE chatd_prefix_cache_hits_total counter"));
  CHECK(has_line(text, "chatd_prefix_cache_hits_total" + label + " 7"));
  CHECK(has_line(text, "# TYPE chatd_prefix_cache_misses_total counter"));
  CHECK(has_line(text, "chatd_prefix_cache_misses_total" + label + " 3"));
  CHECK(has_line(text,
                 "# TYPE chatd_prefix_cache_reused_tokens_total counter"));
  CHECK(has_line(text,
                 "chatd_prefix_cache_reused_tokens_total" + label + " 412"));
  CHECK(has_line(text, "# TYPE chatd_draft_tokens_total counter"));
  CHECK(has_line(text, "chatd_draft_tokens_total" + label + " 90"));
  CHECK(has_line(text, "# TYPE chatd_draft_tokens_accepted_total counter"));
  CHECK(has_line(text, "chatd_draft_tokens_accepted_total" + label + " 61"));
  CHECK(has_line(text, "chatd_worker_up" + label + " 1"));
  CHECK(has_line(text, "chatd_worker_running" + label + " 2"));
  CHECK(has_line(text, "chatd_queue_depth" + label + " 1"));
  CHECK(text.back() == '\n');
}

TEST_CASE("worker metrics: one TYPE line per family, an unresponsive "
          "worker only as down",
          "[unit]") {
  auto second = ready_worker();
  second.id = "worker-2";
  auto silent = ready_worker();
  silent.id = "worker-3";
  silent.state = "unresponsive";
  silent.status = {};
  auto text = render_worker_metrics({ready_worker(), second, silent});
  CHECK(occurrences(text, "# TYPE chatd_prefix_cache_hits_total ") == 1);
  CHECK(occurrences(text, "chatd_prefix_cache_hits_total{") == 2);
  CHECK(has_line(text,
                 "chatd_worker_up{worker=\"worker-3\",device=\"cpu\"} 0"));
  CHECK(occurrences(text, "worker-3") == 1);
  // Families are contiguous: a family's series follow its TYPE line.
  auto type = text.find("# TYPE chatd_kv_cache_slots_used");
  auto next_type = text.find("# TYPE", type + 1);
  CHECK(occurrences(text.substr(type, next_type - type),
                    "chatd_kv_cache_slots_used{")
        == 2);
}

TEST_CASE("worker metrics: label values are escaped", "[unit]") {
  auto w = ready_worker();
  w.info.device = "cu\"da\\0\nx";
  auto text = render_worker_metrics({w});
  CHECK(text.find("device=\"cu\\\"da\\\\0\\nx\"") != std::string::npos);
  CHECK(render_worker_metrics({}) == "# TYPE chatd_worker_up gauge\n"
                                     "# TYPE chatd_worker_running gauge\n"
                                     "# TYPE chatd_queue_depth gauge\n"
                                     "# TYPE chatd_batch_size_peak gauge\n"
                                     "# TYPE chatd_worker_tokens_per_second "
                                     "gauge\n"
                                     "# TYPE chatd_kv_cache_slots_used gauge\n"
                                     "# TYPE chatd_kv_cache_slots_total gauge\n"
                                     "# TYPE chatd_prefix_cache_hits_total "
                                     "counter\n"
                                     "# TYPE chatd_prefix_cache_misses_total "
                                     "counter\n"
                                     "# TYPE "
                                     "chatd_prefix_cache_reused_tokens_total "
                                     "counter\n"
                                     "# TYPE chatd_draft_tokens_total counter\n"
                                     "# TYPE chatd_draft_tokens_accepted_total "
                                     "counter\n");
}
