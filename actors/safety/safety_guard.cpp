#include "actors/safety/safety_guard.hpp"

#include "actors/api/api_error.hpp"
#include "actors/store.hpp"
#include "log/log.hpp"
#include "storage/database.hpp"

#include <sstream>

namespace chat {

namespace {

const char* name_of(safety::direction d) {
  return d == safety::direction::input ? "input" : "output";
}

} // namespace

safety_guard::safety_guard(const safety_config& cfg)
  : cfg_(cfg), monitor_(cfg),
    rules_(std::make_shared<const safety::filter_set>()) {
}

void safety_guard::load_rules(store_context& db) {
  auto next = std::make_shared<const safety::filter_set>(db.safety.rules());
  std::lock_guard<std::mutex> guard(mutex_);
  rules_ = std::move(next);
}

std::shared_ptr<const safety::filter_set> safety_guard::rules() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return rules_;
}

safety::output_filter safety_guard::make_output_filter() const {
  return safety::output_filter(
    rules(), static_cast<std::size_t>(cfg_.output_holdback_chars),
    static_cast<std::size_t>(cfg_.output_window_chars));
}

void safety_guard::count_hit(const std::string& rule_id, safety::direction d) {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    ++hits_[{rule_id, name_of(d)}];
  }
  log::info("safety", "filter rule matched")
    .kv("rule", rule_id)
    .kv("direction", name_of(d));
}

void safety_guard::screen_input(store_context& db, const principal& who,
                                const std::vector<std::string>& texts) {
  auto set = rules();
  if (!set->screens(safety::direction::input))
    return;
  for (const auto& text : texts) {
    auto rule = set->screen(text, safety::direction::input);
    if (!rule)
      continue;
    count_hit(*rule, safety::direction::input);
    if (monitor_.note_filter_hit(who.key_id))
      suspend(db, who, "filter_hits", "filter rule " + *rule);
    throw api::api_error(400, "content_filter",
                         "the request was blocked by the content filter");
  }
}

void safety_guard::output_blocked(const caf::actor& store, const principal& who,
                                  const std::string& rule_id) {
  count_hit(rule_id, safety::direction::output);
  if (monitor_.note_filter_hit(who.key_id))
    run_in_store(store, [self = shared_from_this(), who, rule_id](store_context& db) {
      self->suspend(db, who, "filter_hits", "filter rule " + rule_id);
    });
}

void safety_guard::check_quota(store_context& db, const principal& who) {
  if (!who.token_quota_daily)
    return;
  auto used = db.safety.tokens_used(
    who.key_id, storage::utc_day(storage::now_seconds()));
  if (used < *who.token_quota_daily)
    return;
  api::api_error e(429, "token_quota_exceeded",
                   "this API key used its daily token quota ("
                     + std::to_string(*who.token_quota_daily)
                     + " tokens); it renews at 00:00 UTC");
  e.retry_after
    = static_cast<int>(86400 - storage::now_seconds() % 86400);
  throw e;
}

void safety_guard::record_usage(const caf::actor& store,
                                const std::string& key_id,
                                std::int64_t tokens) {
  if (tokens <= 0 || key_id.empty())
    return;
  run_in_store(store, [key_id, tokens](store_context& db) {
    db.safety.add_tokens(key_id, storage::utc_day(storage::now_seconds()),
                         tokens);
  });
}

std::optional<int> safety_guard::auth_throttled(const std::string& address) {
  auto wait = monitor_.auth_throttled(address);
  if (wait)
    ++throttled_;
  return wait;
}

void safety_guard::auth_failed(const std::string& address) {
  monitor_.note_auth_failure(address);
}

void safety_guard::rate_limited(store_context& db, const principal& who) {
  if (monitor_.note_rate_limited(who.key_id))
    suspend(db, who, "rate_limit_hits", "rate limit refusals");
}

void safety_guard::answered(const caf::actor& store, const principal& who,
                            int status) {
  if (monitor_.note_answer(who.key_id, status))
    run_in_store(store, [self = shared_from_this(), who](store_context& db) {
      self->suspend(db, who, "error_ratio", "share of error answers");
    });
}

void safety_guard::suspend(store_context& db, const principal& who,
                           const std::string& signal,
                           const std::string& detail) {
  if (!db.keys.suspend(who.key_id, signal))
    return;
  db.safety.raise_alert(who.key_id, who.user_id, signal, detail);
  db.audit.record({0, who.user_id, who.key_id, "SUSPEND key (" + signal + ")",
                   who.key_id, 403, 0});
  ++suspensions_;
  log::warn("safety", "API key suspended")
    .kv("key", who.key_id)
    .kv("signal", signal);
}

std::string safety_guard::render_metrics() const {
  std::ostringstream os;
  os << "# TYPE chatd_filter_hits_total counter\n";
  {
    std::lock_guard<std::mutex> guard(mutex_);
    for (const auto& [key, n] : hits_)
      os << "chatd_filter_hits_total{rule=\"" << key.first
         << "\",direction=\"" << key.second << "\"} " << n << "\n";
  }
  os << "# TYPE chatd_key_suspensions_total counter\n"
     << "chatd_key_suspensions_total " << suspensions_.load() << "\n"
     << "# TYPE chatd_auth_throttled_total counter\n"
     << "chatd_auth_throttled_total " << throttled_.load() << "\n";
  return os.str();
}

} // namespace chat
