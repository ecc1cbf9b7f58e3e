#include "actors/jobs/job_runner.hpp"

#include "actors/protocol/atoms.hpp"
#include "actors/served_model.hpp"
#include "actors/store.hpp"
#include "log/log.hpp"
#include "model/gpt_config.hpp"
#include "model/tokenizer/atomic_write.hpp"
#include "storage/database.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <sys/wait.h>
#include <unistd.h>

namespace chat {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using runner_ptr = caf::stateful_actor<job_runner_state>*;
using phase = job_runner_state::phase;

constexpr std::size_t stderr_tail_bytes = 2000;
constexpr std::size_t max_line_bytes = 1u << 16;
/// chat-train's exit code after a SIGTERM stop (tools/chat_train_main.cpp).
constexpr int trainer_stopped_code = 3;
/// How long a trainer orphaned by a chatd restart may take to finish.
constexpr auto earlier_trainer_grace = std::chrono::seconds(60);

fs::path spec_file(const fs::path& dir) {
  return dir / "spec.json";
}
fs::path output_file(const fs::path& dir) {
  return dir / "trainer.out";
}
fs::path stderr_file(const fs::path& dir) {
  return dir / "trainer.err";
}
fs::path pid_file(const fs::path& dir) {
  return dir / "trainer.pid";
}
fs::path checkpoints_dir(const fs::path& dir) {
  return dir / "checkpoints";
}

/// JSON text safe to store: invalid UTF-8 from the trainer is replaced.
std::string payload(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string file_tail(const fs::path& file, std::size_t bytes) {
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  if (!in)
    return {};
  auto size = static_cast<std::size_t>(std::max<std::streamoff>(0, in.tellg()));
  auto start = size > bytes ? size - bytes : 0;
  in.seekg(static_cast<std::streamoff>(start));
  std::string tail((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == ' '))
    tail.pop_back();
  return tail;
}

/// The chat-train a previous chatd started for this job while it still runs
/// (it got SIGTERM when that chatd died and is saving a checkpoint).
std::optional<pid_t> earlier_trainer(const fs::path& dir) {
  std::ifstream pid_in(pid_file(dir));
  pid_t pid = 0;
  if (!(pid_in >> pid) || pid <= 0)
    return std::nullopt;
  std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline",
                        std::ios::binary);
  std::string args((std::istreambuf_iterator<char>(cmdline)),
                   std::istreambuf_iterator<char>());
  // A reused pid belongs to another program: its arguments differ.
  if (args.find(spec_file(dir).string()) == std::string::npos)
    return std::nullopt;
  return pid;
}

/// Gives a trainer from before a restart earlier_trainer_grace to save its
/// checkpoint, then kills it: the job must not wait forever.
void wait_for_earlier_trainer(job_runner_state& st, pid_t pid) {
  const auto now = std::chrono::steady_clock::now();
  if (!st.waiting_since) {
    st.waiting_since = now;
  } else if (now - *st.waiting_since > earlier_trainer_grace) {
    log::warn("jobs", "killing a trainer from before the restart")
      .kv("job", st.job->id)
      .kv("pid", pid);
    ::kill(pid, SIGKILL);
  }
}

/// The spec chat-train runs (training/job_spec.hpp).
json trainer_spec(const claimed_job& job, const job_runner_spec& spec) {
  const auto& dir = job.plan.job_dir;
  json hyper = job.request.hyper;
  if (spec.device != "auto" && hyper.value("device", "auto") == "auto")
    hyper["device"] = spec.device;
  json j = {{"type", job.request.type},
            {"data_dir", job_data_dir(dir).string()},
            {"out_dir", checkpoints_dir(dir).string()},
            {"extra_files", {job_tokenizer(dir).string()}},
            {"hyper", hyper}};
  if (job.request.type == "pretrain")
    j["model"] = job.request.model;
  else
    j["base_checkpoint"] = job.base_checkpoint;
  return j;
}

/// Reads what the runner needs about `job` from the database.
claimed_job describe_job(store_context& db, const storage::job_record& job) {
  claimed_job c;
  c.id = job.id;
  c.status = job.status;
  c.request = parse_job_request(json::parse(job.request));
  c.plan.type = c.request.type;
  c.plan.job_dir = fs::path(db.data_dir) / "jobs" / job.id;
  for (const auto& id : db.jobs.dataset_ids(job.id)) {
    auto d = db.datasets.find(id);
    if (!d)
      throw std::runtime_error("dataset '" + id + "' no longer exists");
    c.plan.datasets.push_back({storage::dataset_file(db.data_dir, *d),
                               d->kind});
  }
  if (c.request.type == "finetune") {
    const auto base_id = c.request.base_model_id.value_or("");
    auto base = db.models.find(base_id);
    if (!base)
      throw std::runtime_error("base model '" + base_id
                               + "' no longer exists");
    c.base_checkpoint = base->path;
    c.plan.base_tokenizer = fs::path(base->path) / "tokenizer.model";
    auto config = json::parse(base->config, nullptr, false);
    c.plan.context = config.is_object() && config["context"].is_number_integer()
                       ? config["context"].get<std::int64_t>()
                       : 0;
    if (c.plan.context < 1)
      throw std::runtime_error("base model '" + base_id
                               + "' has no context size in its config");
  } else {
    auto config = model::gpt_config_from_json(c.request.model);
    c.plan.context = config.context;
    c.plan.vocab_size = config.vocab_size;
  }
  return c;
}

/// Forgets the job in hand (its trainer has exited); the runner is idle.
void reset(job_runner_state& st) {
  auto spec = std::move(st.spec);
  st = job_runner_state{};
  st.spec = std::move(spec);
}

/// The unrecorded events and progress, handed over (and cleared).
std::pair<std::vector<std::pair<std::string, std::string>>,
          std::optional<std::string>>
take_pending(job_runner_state& st) {
  auto events = std::move(st.pending_events);
  st.pending_events.clear();
  std::optional<std::string> progress;
  if (st.progress_changed)
    progress = payload(st.progress.progress());
  st.progress_changed = false;
  return {std::move(events), std::move(progress)};
}

/// Records the job's last events and its final status; the runner is idle
/// again.
void finish(runner_ptr self, const std::string& status,
            std::optional<std::string> error) {
  auto& st = self->state;
  auto [events, progress] = take_pending(st);
  log::info("jobs", "job ended")
    .kv("job", st.job->id)
    .kv("status", status)
    .kv("error", error.value_or(""));
  run_in_store(st.spec.store, [id = st.job->id, events = std::move(events),
                               progress = std::move(progress), status,
                               error](store_context& db) {
    db.jobs.record(id, events, progress);
    db.jobs.set_status(id, status, error);
  });
  reset(st);
}

/// With auto_activate: activates the job's new model, then records the
/// outcome (event, audit entry) and the job's success, so that a client
/// watching the job sees it end only once the model serves or could not.
void activate_then_succeed(const job_runner_spec& spec, std::string job_id,
                           std::string model_id) {
  spec.activate(model_id, [store = spec.store, job_id,
                           model_id](std::optional<std::string> failure) {
    log::info("jobs", "auto_activate")
      .kv("job", job_id)
      .kv("model", model_id)
      .kv("outcome", failure.value_or("activated"));
    run_in_store(store, [job_id, model_id, failure](store_context& db) {
      const nlohmann::json message{
        {"message", failure ? "activation failed: " + *failure
                            : "model " + model_id + " activated"}};
      db.jobs.record(job_id, {{"log", message.dump()}}, std::nullopt);
      db.audit.record({0, "", "", "job auto_activate", model_id,
                       failure ? 503 : 200, 0});
      db.jobs.set_status(job_id, "succeeded", std::nullopt, model_id);
    });
  });
}

/// Moves the final checkpoint into the registry (data_dir/models/<id>, one
/// rename) and records the model and the job's success together.
void register_model(runner_ptr self, fs::path checkpoint) {
  auto& st = self->state;
  auto [events, progress] = take_pending(st);
  const auto& job = *st.job;
  log::info("jobs", "job succeeded").kv("job", job.id);
  const bool activate = job.request.auto_activate && st.spec.activate;
  run_in_store(st.spec.store, [spec = st.spec, activate, id = job.id,
                               type = job.request.type,
                               parent = job.request.base_model_id,
                               checkpoint = std::move(checkpoint),
                               events = std::move(events),
                               progress = std::move(progress)](
                                store_context& db) {
    db.jobs.record(id, events, progress);
    try {
      const auto model_id = "model_" + id.substr(id.find('_') + 1);
      const auto target = fs::path(db.data_dir) / "models" / model_id;
      if (!fs::exists(target)) {
        fs::create_directories(target.parent_path());
        fs::rename(checkpoint, target);
      }
      auto served = load_served_model(target.string());
      storage::model_record m;
      m.id = model_id;
      m.name = type + " job " + id;
      m.created_at = storage::now_seconds();
      m.parent_id = parent;
      m.job_id = id;
      m.n_params = served->n_params;
      m.config = served->config_json;
      m.metrics = served->metrics_json;
      m.path = served->path;
      db.models.insert(m);
      if (activate)
        return activate_then_succeed(spec, id, model_id);
      db.jobs.set_status(id, "succeeded", std::nullopt, model_id);
    } catch (const std::exception& e) {
      db.jobs.set_status(id, "failed",
                         std::string("registering the model: ") + e.what());
    }
  });
  reset(st);
}

void handle_line(job_runner_state& st, std::string_view text) {
  auto line = st.progress.read(text, trainer_progress::clock::now());
  st.pending_events.emplace_back(line.event_type, payload(line.event));
  st.progress_changed = true;
  st.trainer_started = st.trainer_started || line.started;
  if (line.error)
    st.trainer_error = line.error;
  if (line.final_checkpoint)
    st.final_checkpoint = line.final_checkpoint;
}

/// Handles the complete lines chat-train wrote since the last call.
void read_output(job_runner_state& st) {
  std::ifstream in(output_file(st.job_dir()), std::ios::binary);
  if (!in)
    return;
  in.seekg(static_cast<std::streamoff>(st.output_offset));
  std::string chunk((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  st.output_offset += chunk.size();
  st.partial_line += chunk;
  std::size_t start = 0;
  for (auto nl = st.partial_line.find('\n'); nl != std::string::npos;
       nl = st.partial_line.find('\n', start)) {
    handle_line(st,
                std::string_view(st.partial_line).substr(start, nl - start));
    start = nl + 1;
  }
  st.partial_line.erase(0, start);
  if (st.partial_line.size() > max_line_bytes) {
    handle_line(st, st.partial_line);
    st.partial_line.clear();
  }
}

/// SIGTERM once the trainer can take it (after its `start` line):
/// chat-train then saves a checkpoint and exits.
void stop_if_cancelled(job_runner_state& st) {
  if (st.cancel_requested && st.trainer_started && !st.sigterm_sent) {
    st.trainer->signal(SIGTERM);
    st.sigterm_sent = true;
  }
}

void trainer_exited(runner_ptr self, int status) {
  auto& st = self->state;
  read_output(st);
  if (!st.partial_line.empty())
    handle_line(st, st.partial_line);
  const auto dir = fs::path(st.job_dir());
  std::error_code ec;
  fs::remove(pid_file(dir), ec);
  if (st.cancel_requested)
    return finish(self, "cancelled", std::nullopt);
  const bool exited = WIFEXITED(status);
  if (exited && WEXITSTATUS(status) == 0 && st.final_checkpoint) {
    fs::path checkpoint(*st.final_checkpoint);
    if (fs::weakly_canonical(checkpoint).parent_path()
        == fs::weakly_canonical(checkpoints_dir(dir)))
      return register_model(self, checkpoint);
  }
  std::string why = "chat-train ended with " + child_process::describe(status);
  if (exited && WEXITSTATUS(status) == trainer_stopped_code)
    why += " (stopped by a signal chatd did not send)";
  if (st.trainer_error)
    why = *st.trainer_error + " (" + why + ")";
  auto tail = file_tail(stderr_file(dir), stderr_tail_bytes);
  if (!tail.empty())
    why += "; stderr: " + tail;
  finish(self, "failed", why);
}

void start_trainer(runner_ptr self) {
  auto& st = self->state;
  const auto dir = fs::path(st.job_dir());
  try {
    fs::create_directories(checkpoints_dir(dir));
    tokenizer::write_file_atomically(spec_file(dir).string(),
                                     trainer_spec(*st.job, st.spec).dump(2));
    int out = ::open(output_file(dir).c_str(),
                     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int err = ::open(stderr_file(dir).c_str(),
                     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    auto close_both = [&] {
      if (out >= 0)
        ::close(out);
      if (err >= 0)
        ::close(err);
    };
    if (out < 0 || err < 0) {
      auto reason = std::string(std::strerror(errno));
      close_both();
      throw std::runtime_error("cannot open its log files: " + reason);
    }
    st.output_offset = fs::file_size(output_file(dir));
    try {
      st.trainer.emplace(std::vector<std::string>{st.spec.trainer, "--spec",
                                                  spec_file(dir).string()},
                         child_output{out, err});
    } catch (...) {
      close_both();
      throw;
    }
    close_both();
    tokenizer::write_file_atomically(pid_file(dir).string(),
                                     std::to_string(st.trainer->pid()));
    st.now = phase::training;
    log::info("jobs", "trainer started")
      .kv("job", st.job->id)
      .kv("pid", st.trainer->pid());
  } catch (const std::exception& e) {
    finish(self, "failed", std::string("cannot start chat-train: ") + e.what());
  }
}

/// Asks the store for the next job: first one a chatd restart interrupted,
/// else the oldest queued one (which becomes preparing).
void claim(runner_ptr self) {
  auto& st = self->state;
  st.now = phase::claiming;
  run_in_store(st.spec.store, [runner = caf::actor_cast<caf::actor>(self)](
                                store_context& db) {
    claimed_job claimed;
    try {
      auto interrupted = db.jobs.unfinished();
      auto job = interrupted.empty()
                   ? db.jobs.next_queued()
                   : std::optional<storage::job_record>(interrupted.front());
      if (job) {
        try {
          claimed = describe_job(db, *job);
          if (job->status == "queued")
            db.jobs.set_status(job->id, "preparing");
          else
            db.jobs.record(job->id,
                           {{"log", payload({{"message",
                                              "resuming after a restart of "
                                              "chatd"}})}},
                           std::nullopt);
        } catch (const std::exception& e) {
          claimed = claimed_job{};
          db.jobs.set_status(job->id, "failed",
                             std::string("cannot start: ") + e.what());
        }
      }
    } catch (const std::exception& e) {
      log::error("jobs", "cannot claim a job").kv("what", e.what());
    }
    caf::anon_send(runner, atom::claimed::value, std::move(claimed));
  });
}

/// Records new events and progress; the store answers with the cancel flag.
void sync(runner_ptr self) {
  auto& st = self->state;
  auto [events, progress] = take_pending(st);
  run_in_store(st.spec.store, [runner = caf::actor_cast<caf::actor>(self),
                               id = st.job->id, events = std::move(events),
                               progress = std::move(progress)](
                                store_context& db) {
    if (!events.empty() || progress)
      db.jobs.record(id, events, progress);
    auto job = db.jobs.find(id);
    caf::anon_send(runner, atom::synced::value, id,
                   job && job->cancel_requested);
  });
}

void prepare(runner_ptr self) {
  auto& st = self->state;
  st.now = phase::preparing;
  // Tokenizing (and training a tokenizer) takes long: never on the
  // scheduler's threads.
  self->spawn<caf::detached>(
    [plan = st.job->plan, id = st.job->id,
     runner = caf::actor_cast<caf::actor>(self)](caf::blocking_actor*) {
      std::string error;
      try {
        if (!job_data_ready(plan.job_dir))
          prepare_job_data(plan);
      } catch (const std::exception& e) {
        error = *e.what() ? e.what() : "unknown error";
      }
      caf::anon_send(runner, atom::prepared::value, id, error);
    });
}

} // namespace

std::string job_runner_state::job_dir() const {
  return job->plan.job_dir.string();
}

caf::behavior job_runner(caf::stateful_actor<job_runner_state>* self,
                         job_runner_spec spec) {
  self->state.spec = std::move(spec);
  self->send(self, atom::poll::value);
  return {
    [self](atom::poll) {
      auto& st = self->state;
      switch (st.now) {
        case phase::idle:
          claim(self);
          break;
        case phase::claiming:
        case phase::preparing:
          break;
        case phase::waiting:
          if (auto earlier = earlier_trainer(st.job_dir()))
            wait_for_earlier_trainer(st, *earlier);
          else
            start_trainer(self);
          break;
        case phase::training:
          read_output(st);
          stop_if_cancelled(st);
          if (auto status = st.trainer->try_wait())
            trainer_exited(self, *status);
          break;
      }
      if (st.job)
        sync(self);
      self->delayed_send(self, st.spec.poll_interval, atom::poll::value);
    },
    [self](atom::claimed, claimed_job& job) {
      auto& st = self->state;
      if (st.now != phase::claiming)
        return;
      if (job.id.empty()) {
        st.now = phase::idle;
        return;
      }
      log::info("jobs", "job taken").kv("job", job.id).kv("was", job.status);
      st.job = std::move(job);
      if (st.job->status == "running" && job_data_ready(st.job_dir()))
        st.now = phase::waiting;
      else
        prepare(self);
    },
    [self](atom::prepared, const std::string& id, const std::string& error) {
      auto& st = self->state;
      if (!st.job || st.job->id != id || st.now != phase::preparing)
        return;
      if (!error.empty())
        return finish(self, "failed", "preparing the data: " + error);
      if (st.job->status != "running")
        run_in_store(st.spec.store, [id](store_context& db) {
          db.jobs.set_status(id, "running");
        });
      st.now = phase::waiting;
    },
    [self](atom::synced, const std::string& id, bool cancel) {
      auto& st = self->state;
      if (!cancel || !st.job || st.job->id != id || st.cancel_requested)
        return;
      st.cancel_requested = true;
      if (st.now == phase::training)
        stop_if_cancelled(st);
      else
        finish(self, "cancelled", std::nullopt);
    },
  };
}

} // namespace chat
