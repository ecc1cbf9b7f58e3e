#include "model/activation_checkpoint.hpp"

#include <mutex>

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include "model/autocast_guard.hpp"

namespace chat::model {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

/// What backward needs beyond tensors, kept in the autograd context.
struct recompute_state : torch::CustomClassHolder {
  std::function<at::Tensor(const at::Tensor&)> fn;
  at::Tensor rng_state;  // generator state when forward ran
  bool autocast = false;
  at::ScalarType autocast_dtype = at::kBFloat16;
};

at::Generator generator_for(const at::Tensor& x) {
  return at::globalContext().defaultGenerator(x.device());
}

at::Tensor get_rng_state(at::Generator gen) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_rng_state(at::Generator gen, const at::Tensor& state) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

struct recompute_function : torch::autograd::Function<recompute_function> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& x,
                               at::TensorList params,
                               c10::intrusive_ptr<recompute_state> state) {
    state->rng_state = get_rng_state(generator_for(x));
    state->autocast = at::autocast::is_enabled();
    state->autocast_dtype = at::autocast::get_autocast_gpu_dtype();
    variable_list saved{x};
    saved.insert(saved.end(), params.begin(), params.end());
    ctx->save_for_backward(saved);
    ctx->saved_data["state"] = c10::IValue::make_capsule(state);
    return {state->fn(x)};  // runs under no-grad: no graph is kept
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_out) {
    auto saved = ctx->get_saved_variables();
    auto state = c10::static_intrusive_pointer_cast<recompute_state>(
        ctx->saved_data["state"].toCapsule());
    auto x = saved[0].detach().requires_grad_(true);
    auto gen = generator_for(x);
    at::Tensor out;
    {
      const auto rng_after_forward = get_rng_state(gen);
      set_rng_state(gen, state->rng_state);
      torch::AutoGradMode grad_on(true);
      // Backward may run on another thread: restore forward's autocast.
      autocast_guard autocast(state->autocast, state->autocast_dtype);
      out = state->fn(x);
      set_rng_state(gen, rng_after_forward);
    }
    variable_list inputs{x};
    inputs.insert(inputs.end(), saved.begin() + 1, saved.end());
    auto grads = torch::autograd::grad({out}, inputs, {grad_out[0]},
                                       /*retain_graph=*/false,
                                       /*create_graph=*/false,
                                       /*allow_unused=*/true);
    grads.emplace_back();  // for the state argument
    return grads;
  }
};

}  // namespace

at::Tensor recompute_in_backward(
    const std::function<at::Tensor(const at::Tensor&)>& fn, const at::Tensor& x,
    const std::vector<at::Tensor>& params) {
  auto state = c10::make_intrusive<recompute_state>();
  state->fn = fn;
  return recompute_function::apply(x, at::TensorList(params), state)[0];
}

}  // namespace chat::model
