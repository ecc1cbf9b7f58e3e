#include "actors/jobs/trainer_events.hpp"

namespace chat {

namespace {

using json = nlohmann::json;

constexpr std::size_t max_log_text = 1000;

/// The number at `key`, or null.
json number(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? *it : json(nullptr);
}

std::string text(const json& j, const char* key) {
  auto it = j.find(key);
  auto s = it != j.end() && it->is_string() ? it->get<std::string>()
                                             : std::string();
  return s.substr(0, max_log_text);
}

trainer_line log_line(std::string message) {
  trainer_line out;
  out.event_type = "log";
  out.event = {{"message", std::move(message)}};
  return out;
}

} // namespace

trainer_line trainer_progress::read(std::string_view line,
                                    clock::time_point now) {
  auto j = json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("type")
      || !j["type"].is_string())
    return log_line(std::string(line.substr(0, max_log_text)));
  const auto type = j["type"].get<std::string>();
  trainer_line out;
  if (type == "start") {
    out = log_line("training started");
    out.started = true;
    for (const char* key : {"step", "max_steps", "params"})
      out.event[key] = number(j, key);
    out.event["device"] = text(j, "device");
    out.event["precision"] = text(j, "precision");
    out.event["resumed"] = j.contains("resumed_from")
                           && j["resumed_from"].is_string();
    progress_["step"] = number(j, "step");
    progress_["max_steps"] = number(j, "max_steps");
    first_step_at_.reset();
  } else if (type == "step") {
    out.event_type = "step";
    for (const char* key :
         {"step", "train_loss", "lr", "tokens_per_sec", "grad_norm"}) {
      out.event[key] = number(j, key);
      if (std::string(key) != "grad_norm")
        progress_[key] = out.event[key];
    }
    auto step = out.event["step"];
    if (step.is_number_integer()) {
      auto done = step.get<std::int64_t>();
      if (!first_step_at_) {
        first_step_at_ = now;
        first_step_ = done;
      }
      auto max = progress_.value("max_steps", json(nullptr));
      if (done > first_step_ && max.is_number_integer()) {
        double per_step = std::chrono::duration<double>(now - *first_step_at_)
                            .count()
                          / static_cast<double>(done - first_step_);
        progress_["eta_s"] = per_step
                             * static_cast<double>(
                               std::max<std::int64_t>(0, max.get<std::int64_t>()
                                                           - done));
      }
    }
  } else if (type == "eval") {
    out.event_type = "eval";
    for (const char* key : {"step", "val_loss", "perplexity"})
      out.event[key] = number(j, key);
    progress_["val_loss"] = out.event["val_loss"];
  } else if (type == "checkpoint") {
    out.event_type = "checkpoint";
    out.event["step"] = number(j, "step");
  } else if (type == "done") {
    out = log_line("training " + text(j, "outcome"));
    out.event["step"] = number(j, "step");
    if (text(j, "outcome") == "finished" && j.contains("checkpoint")
        && j["checkpoint"].is_string())
      out.final_checkpoint = j["checkpoint"].get<std::string>();
  } else if (type == "error") {
    out = log_line(text(j, "message"));
    out.event["level"] = "error";
    out.error = out.event["message"].get<std::string>();
  } else {
    out = log_line(std::string(line.substr(0, max_log_text)));
  }
  return out;
}

} // namespace chat
