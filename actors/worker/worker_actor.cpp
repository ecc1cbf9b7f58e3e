#include "actors/worker/worker_actor.hpp"

#include "actors/protocol/errc.hpp"
#include "actors/worker/engine.hpp"
#include "log/log.hpp"

#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <utility>

namespace chat::worker {

namespace {

using self_pointer = worker_actor::stateful_pointer<worker_state>;

/// Loads one model version, then quits.
using model_loader_actor = caf::typed_actor<
  caf::replies_to<atom::load, model_ref>::with<std::string>>;

model_loader_actor::behavior_type
model_loader(model_loader_actor::pointer self, engine* eng) {
  return {
    [self, eng](atom::load, model_ref& ref) -> caf::result<std::string> {
      self->quit();
      auto loaded = eng->load(ref.id, ref.path);
      if (!loaded)
        return std::move(loaded.error());
      return std::move(*loaded);
    },
  };
}

/// Forgets sequence `id` and stops watching its sink when no other
/// sequence streams to it; returns its promise.
caf::typed_response_promise<generation_result> take(self_pointer self,
                                                    std::uint64_t id) {
  auto& st = self->state;
  auto i = st.sequences.find(id);
  auto promise = std::move(i->second.promise);
  auto sink = i->second.sink;
  st.sequences.erase(i);
  if (auto s = st.sinks.find(sink); s != st.sinks.end() && --s->second == 0) {
    st.sinks.erase(s);
    self->demonitor(sink);
  }
  return promise;
}

/// Observer whose callbacks run on the engine thread: tokens to the sink,
/// the end to this actor, by message only.
sequence_observer observe(worker_actor self, token_sink_actor sink,
                          std::uint64_t id) {
  sequence_observer obs;
  obs.on_tokens = [sink, id](std::vector<std::int32_t> tokens) {
    caf::anon_send(sink, token_chunk{id, std::move(tokens)});
  };
  obs.on_end = [self, id](caf::expected<generation_result> end) {
    if (end)
      caf::anon_send(self, atom::step::value, std::move(*end));
    else
      caf::anon_send(self, atom::step::value, id, std::move(end.error()));
  };
  return obs;
}

} // namespace

worker_actor::behavior_type serve_inference(self_pointer self, engine* eng) {
  self->set_down_handler([self, eng](caf::down_msg& msg) {
    // The sequences stay listed until the engine reports them cancelled.
    for (auto& [id, seq] : self->state.sequences)
      if (seq.sink == msg.source) {
        log::info("worker", "sink went away; cancelling").kv("request", id);
        eng->cancel(id);
      }
    self->state.sinks.erase(msg.source);
  });
  return {
    [self, eng](atom::generate, generate_request& request,
                token_sink_actor& sink) -> caf::result<generation_result> {
      const auto id = request.id;
      auto& st = self->state;
      if (st.sequences.count(id) != 0)
        return make_error(errc::invalid_request,
                          "request " + std::to_string(id)
                            + " is already generating; use a new id");
      if (!sink)
        return make_error(errc::invalid_request,
                          "request " + std::to_string(id)
                            + " has no token sink");
      auto obs = observe(caf::actor_cast<worker_actor>(self), sink, id);
      if (auto err = eng->submit(std::move(request), std::move(obs)))
        return err;
      auto promise = self->make_response_promise<generation_result>();
      const auto addr = sink.address();
      st.sequences.emplace(id, worker_state::in_flight{promise, addr});
      if (st.sinks[addr]++ == 0)
        self->monitor(sink);
      return promise;
    },
    [eng](atom::cancel, std::uint64_t id) { eng->cancel(id); },
    [eng](atom::get) { return eng->status(); },
    [self, eng](atom::load, model_ref& ref) {
      // Loading takes seconds: a detached loader answers for this actor,
      // which goes on relaying while the engine goes on serving.
      log::info("worker", "loading model")
        .kv("model", ref.id)
        .kv("path", ref.path);
      auto loader = self->spawn<caf::detached>(model_loader, eng);
      return self->delegate(loader, atom::load::value, std::move(ref));
    },
    [eng](atom::activate,
          std::string& id) -> caf::result<std::vector<std::string>> {
      auto kept = eng->activate(id);
      if (!kept)
        return std::move(kept.error());
      return std::move(*kept);
    },
    [self](atom::step, generation_result& end) {
      if (self->state.sequences.count(end.id) != 0)
        take(self, end.id).deliver(std::move(end));
    },
    [self](atom::step, std::uint64_t id, caf::error& err) {
      if (self->state.sequences.count(id) != 0)
        take(self, id).deliver(std::move(err));
    },
  };
}

} // namespace chat::worker
