#include "actors/generation.hpp"

#include "actors/protocol/errc.hpp"
#include "actors/stop_matcher.hpp"
#include "actors/store.hpp"
#include "log/log.hpp"
#include "model/tokenizer/incremental_detokenizer.hpp"

#include <caf/all.hpp>

#include <atomic>

namespace chat {

namespace {

using stored_atom = caf::atom_constant<caf::atom("stored")>;
using drained_atom = caf::atom_constant<caf::atom("drained")>;

/// How long a finished sequence waits for token chunks still in flight
/// (they travel apart from the result).
constexpr auto drain_timeout = std::chrono::milliseconds(500);

api::api_error error_for(const caf::error& err) {
  if (is_errc(err, errc::queue_full)) {
    api::api_error e(429, "queue_full",
                     "the service is busy; retry in a moment");
    e.retry_after = 1;
    return e;
  }
  if (is_errc(err, errc::no_model)) {
    api::api_error e(503, "no_worker_ready", "no worker serves a model yet");
    e.retry_after = 1;
    return e;
  }
  if (is_errc(err, errc::model_unavailable)) {
    api::api_error e(503, "model_unavailable",
                     "no worker serves the model this request was prepared "
                     "for (it was just replaced); retry");
    e.retry_after = 1;
    return e;
  }
  if (is_errc(err, errc::prompt_too_long))
    return api::api_error(400, "prompt_too_long",
                          "the prompt does not fit the model's context",
                          std::string("messages"));
  if (is_errc(err, errc::invalid_request))
    return api::api_error(400, "invalid_request", "the request was refused");
  return api::api_error(503, "worker_failed",
                        "the worker serving this request failed; retry");
}

struct generation_state {
  generation_job job;
  std::uint64_t id = 0;
  std::unique_ptr<tokenizer::incremental_detokenizer> detok;
  std::unique_ptr<stop_matcher> stops;
  std::unique_ptr<safety::output_filter> filter;
  std::string reply;
  std::int32_t received = 0;
  bool stop_string_hit = false;
  bool content_filtered = false;
  bool cancelled = false;
  bool done = false;
  std::optional<generation_result> result;
  std::chrono::steady_clock::time_point started
    = std::chrono::steady_clock::now();
  std::optional<std::chrono::steady_clock::time_point> last_token;
};

/// Records latency of a chunk's arrival in the metrics.
void observe_chunk(generation_state& st, std::size_t tokens) {
  auto now = std::chrono::steady_clock::now();
  auto& m = *st.job.metrics;
  m.tokens_generated += tokens;
  std::chrono::duration<double> since
    = now - (st.last_token ? *st.last_token : st.started);
  if (st.last_token)
    m.inter_token_latency.observe(since.count());
  else
    m.time_to_first_token.observe(since.count());
  st.last_token = now;
}

} // namespace

std::uint64_t next_request_id() {
  static std::atomic<std::uint64_t> counter{1};
  return counter++;
}

caf::behavior generation(caf::event_based_actor* self, generation_job job,
                         pool_actor pool, caf::actor store) {
  auto st = std::make_shared<generation_state>();
  st->job = std::move(job);
  st->id = next_request_id();
  st->detok = std::make_unique<tokenizer::incremental_detokenizer>(
    *st->job.model->tokenizer);
  st->stops = std::make_unique<stop_matcher>(st->job.stop_strings);
  st->filter = std::make_unique<safety::output_filter>(
    st->job.safety->make_output_filter());

  // Text past the stop strings goes through the output filter to the client.
  auto deliver = [st, store](const std::string& text) {
    auto safe = st->filter->push(text);
    st->reply += safe;
    st->job.writer->text(safe);
    if (st->filter->blocked_by() && !st->content_filtered) {
      st->content_filtered = true;
      st->job.safety->output_blocked(store, st->job.who,
                                     *st->filter->blocked_by());
    }
  };
  auto emit = [st, deliver](const std::string& text) {
    deliver(st->stops->push(text));
  };

  st->job.metrics->active_streams++;
  auto finish = [self, st] {
    if (st->done)
      return;
    st->done = true;
    st->job.metrics->active_streams--;
    if (st->job.on_finish)
      st->job.on_finish();
    self->quit();
  };

  // Writers get every event even after a cancel: a WebSocket client that
  // cancelled waits for its `done`; a gone HTTP client's writes are dropped.
  auto fail = [st, finish](const api::api_error& e) {
    st->job.writer->fail(e);
    finish();
  };

  // The sequence is over and every chunk is in: flush, store, answer.
  auto complete = [self, st, store, emit, deliver, finish, fail] {
    if (st->done || !st->result)
      return;
    emit(st->detok->flush());
    deliver(st->stops->flush());
    auto tail = st->filter->flush();
    st->reply += tail;
    st->job.writer->text(tail);
    std::string reason = st->content_filtered  ? "content_filter"
                         : st->cancelled       ? "cancelled"
                         : st->stop_string_hit ? "stop"
                                               : st->result->finish_reason;
    usage_counts usage{st->result->prompt_tokens,
                       st->result->completion_tokens};
    st->job.safety->record_usage(
      store, st->job.who.key_id,
      std::int64_t{usage.prompt_tokens} + usage.completion_tokens);
    if (!st->job.exchange) {
      st->job.writer->end(reason, usage);
      return finish();
    }
    auto ex = *st->job.exchange;
    ex.reply_content = st->reply;
    ex.reply_tokens = usage.completion_tokens;
    ex.finish_reason = reason;
    auto me = caf::actor_cast<caf::actor>(self);
    run_in_store(store, [me, ex, user = st->job.who.user_id,
                         session = st->job.session_id](store_context& db) {
      bool ok = db.sessions.append_exchange(user, session, ex);
      caf::anon_send(me, stored_atom::value, ok);
    });
    self->become(caf::keep_behavior,
                 [st, reason, usage, finish, fail](stored_atom, bool ok) {
                   if (!ok)
                     return fail(api::api_error(
                       404, "session_not_found",
                       "the session was deleted during the reply"));
                   st->job.writer->end(reason, usage);
                   finish();
                 });
  };

  auto cancel_remote = [self, st, pool] {
    self->send(pool, atom::cancel::value, st->id);
  };

  generate_request req;
  req.id = st->id;
  req.prompt = st->job.prompt;
  req.sampling = st->job.sampling;
  if (!st->job.ignore_eos)
    req.stop_tokens = {st->job.model->tokenizer->special_ids().end};
  req.model_id = st->job.model->id;
  self->request(pool, caf::infinite, atom::generate::value, std::move(req),
                caf::actor_cast<token_sink_actor>(self))
    .then(
      [self, st, complete](generation_result& r) {
        st->result = std::move(r);
        if (st->received >= st->result->completion_tokens)
          return complete();
        self->delayed_send(self, drain_timeout, drained_atom::value);
      },
      [st, fail](caf::error& err) {
        log::warn("generation", "generation failed")
          .kv("request", st->id)
          .kv("reason", to_string(err));
        fail(error_for(err));
      });

  return {
    [st, emit, cancel_remote, complete](token_chunk& chunk) {
      if (st->done || chunk.id != st->id)
        return;
      observe_chunk(*st, chunk.tokens.size());
      for (auto token : chunk.tokens) {
        ++st->received;
        if (st->stop_string_hit || st->content_filtered)
          continue;
        try {
          emit(st->detok->push(token));
        } catch (const std::out_of_range&) {
          log::warn("generation", "worker sent an unknown token id")
            .kv("request", st->id);
        }
        if (st->content_filtered) {
          cancel_remote();
        } else if (st->stops->stopped()) {
          st->stop_string_hit = true;
          cancel_remote();
        }
      }
      if (st->result && st->received >= st->result->completion_tokens)
        complete();
    },
    [st, complete](drained_atom) { complete(); },
    [st, cancel_remote](atom::cancel) {
      if (st->done || st->cancelled)
        return;
      st->cancelled = true;
      cancel_remote();
    },
  };
}

} // namespace chat
