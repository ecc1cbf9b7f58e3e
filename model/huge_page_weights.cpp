#include "model/huge_page_weights.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <torch/torch.h>

#if defined(__linux__)
#include <malloc.h>
#include <sys/mman.h>
#endif

namespace chat::model {

namespace {

constexpr std::size_t huge_page = std::size_t{2} << 20;
/// Each tensor starts on a cache line, as LibTorch's own allocator does.
constexpr std::size_t tensor_alignment = 64;

std::size_t round_up(std::size_t n, std::size_t to) {
  return (n + to - 1) / to * to;
}

#if defined(__linux__)
/// The mapping; tensors share it and the last one to go unmaps it.
struct arena {
  void* base = nullptr;
  std::size_t bytes = 0;
  ~arena() {
    if (base != nullptr) ::munmap(base, bytes);
  }
};

/// `bytes` of fresh memory aligned to a huge page, advised for THP before
/// the first touch (khugepaged would collapse touched pages only slowly).
std::shared_ptr<arena> map_huge_page_arena(std::size_t bytes) {
  auto out = std::make_shared<arena>();
  out->bytes = round_up(bytes, huge_page) + huge_page;
  void* p = ::mmap(nullptr, out->bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  out->base = p;
  ::madvise(p, out->bytes, MADV_HUGEPAGE);
  return out;
}
#endif

}  // namespace

void gather_weights_in_huge_pages(torch::nn::Module& module) {
#if defined(__linux__)
  auto params = module.parameters();
  std::size_t total = 0;
  for (const auto& p : params) {
    if (!p.device().is_cpu()) return;
    total += round_up(p.nbytes(), tensor_alignment);
  }
  if (total == 0) return;
  auto memory = map_huge_page_arena(total);
  if (!memory) return;
  auto* start = reinterpret_cast<std::byte*>(
      round_up(reinterpret_cast<std::uintptr_t>(memory->base), huge_page));
  std::size_t offset = 0;
  torch::NoGradGuard no_grad;
  for (auto& p : params) {
    auto placed = torch::from_blob(
        start + offset, p.sizes(), [memory](void*) {},
        p.options().requires_grad(false));
    placed.copy_(p.contiguous());
    p.set_data(placed);
    offset += round_up(p.nbytes(), tensor_alignment);
  }
  // The old copies were freed one by one, many into malloc's heap, which
  // keeps them resident until trimmed.
  ::malloc_trim(0);
#else
  (void) module;
#endif
}

}  // namespace chat::model
