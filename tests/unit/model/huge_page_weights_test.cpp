#include "model/huge_page_weights.hpp"

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "model/gpt.hpp"

// LibTorch pulls in glog, whose CHECK aborts; Catch's CHECK must win.
#undef CHECK
#include <catch2/catch.hpp>

using namespace chat::model;

namespace {

/// Big enough (about 6 MB of weights) to span several huge pages.
gpt_config config() {
  gpt_config c;
  c.vocab_size = 512;
  c.context = 64;
  c.n_layer = 2;
  c.n_head = 4;
  c.d_model = 256;
  return c;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The AnonHugePages figure, in kB, of the mapping that holds `address`.
long huge_kb_of_mapping(const void* address) {
  const auto at = reinterpret_cast<std::uintptr_t>(address);
  std::istringstream smaps(read_file("/proc/self/smaps"));
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    std::uintptr_t from = 0, to = 0;
    char dash = 0;
    std::istringstream range(line);
    if (range >> std::hex >> from >> dash >> to && dash == '-') {
      inside = from <= at && at < to;
      continue;
    }
    if (inside && line.rfind("AnonHugePages:", 0) == 0)
      return std::stol(line.substr(14));
  }
  return -1;
}

}  // namespace

TEST_CASE("weights gathered in huge pages keep their values and the model "
          "its outputs",
          "[unit]") {
  torch::manual_seed(1337);
  gpt model(config());
  model->eval();
  std::vector<at::Tensor> before;
  for (const auto& p : model->parameters()) before.push_back(p.clone());
  auto idx = torch::randint(config().vocab_size, {2, 16}, torch::kLong);
  at::Tensor expected;
  {
    torch::NoGradGuard no_grad;
    expected = model->forward(idx);
  }

  gather_weights_in_huge_pages(*model);

  auto params = model->parameters();
  REQUIRE(params.size() == before.size());
  const auto* first = static_cast<const std::byte*>(params[0].data_ptr());
  CHECK(reinterpret_cast<std::uintptr_t>(first) % (2u << 20) == 0);
  std::size_t total = 0;
  for (std::size_t i = 0; i < params.size(); ++i) {
    INFO("parameter " << i);
    CHECK(torch::equal(params[i], before[i]));
    CHECK(params[i].requires_grad());
    const auto* at = static_cast<const std::byte*>(params[i].data_ptr());
    CHECK(reinterpret_cast<std::uintptr_t>(at) % 64 == 0);
    // One after another in one mapping.
    CHECK(at == first + total);
    total += (params[i].nbytes() + 63) / 64 * 64;
  }
  {
    torch::NoGradGuard no_grad;
    CHECK(torch::equal(model->forward(idx), expected));
  }
  // Still trainable: gradients reach the moved parameters.
  model->train();
  model->forward(idx).sum().backward();
  for (const auto& p : model->parameters()) CHECK(p.grad().defined());

  // The kernel backs the mapping with huge pages unless THP is off.
  if (read_file("/sys/kernel/mm/transparent_hugepage/enabled")
          .find("[never]") == std::string::npos)
    CHECK(huge_kb_of_mapping(first) >= 2048);
}

TEST_CASE("bf16 matmul weights move to huge pages as bf16", "[unit]") {
  torch::manual_seed(7);
  gpt model(config());
  model->eval();
  model->store_matmul_weights_as(torch::kBFloat16);
  std::vector<at::Tensor> before;
  for (const auto& p : model->parameters()) before.push_back(p.clone());
  gather_weights_in_huge_pages(*model);
  auto params = model->parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    CHECK(params[i].scalar_type() == before[i].scalar_type());
    CHECK(torch::equal(params[i], before[i]));
  }
}
