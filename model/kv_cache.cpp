#include "model/kv_cache.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include <ATen/ops/from_blob.h>
#include <ATen/ops/zeros.h>

#include <sys/mman.h>
#include <unistd.h>

namespace chat::model {

namespace {

/// Positions committed at a time: 16 KB per head at head size 64 in fp32.
constexpr int64_t commit_block = 64;

/// Commits the pages of [begin, end) on Linux >= 5.14; elsewhere the first
/// writes do, as before.
void populate_for_write(char* begin, char* end) {
#if defined(MADV_POPULATE_WRITE)
  static const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto first = reinterpret_cast<uintptr_t>(begin) / page * page;
  const auto last = (reinterpret_cast<uintptr_t>(end) + page - 1) / page * page;
  ::madvise(reinterpret_cast<void*>(first), last - first, MADV_POPULATE_WRITE);
#else
  (void)begin;
  (void)end;
#endif
}

/// A zeroed tensor whose memory the OS commits page by page on first write
/// (anonymous mmap) on the CPU: a cache sized for max_slots x context costs
/// resident memory only for the positions sequences have filled (the 100M
/// shape's 16-slot fp32 cache is 604 MB). Elsewhere at::zeros.
at::Tensor zeros_committed_on_write(at::IntArrayRef sizes,
                                    const at::TensorOptions& options) {
  if (!options.device().is_cpu()) return at::zeros(sizes, options);
  int64_t count = 1;
  for (auto n : sizes) count *= n;
  const auto bytes = static_cast<size_t>(count) *
                     c10::elementSize(options.dtype().toScalarType());
  void* memory = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return at::zeros(sizes, options);
  return at::from_blob(
      memory, sizes, [bytes](void* p) { ::munmap(p, bytes); }, options);
}

}  // namespace

kv_cache::kv_cache(const gpt_config& config, int64_t max_slots,
                   c10::Device device, c10::ScalarType dtype)
    : context_(config.context), commits_in_bulk_(device.is_cpu()) {
  config.validate();
  if (max_slots < 1)
    throw std::runtime_error("kv_cache: max_slots = " +
                             std::to_string(max_slots) + ", expected >= 1");
  const auto options = at::TensorOptions().device(device).dtype(dtype);
  for (int64_t l = 0; l < config.n_layer; ++l) {
    const std::vector<int64_t> shape{max_slots, config.n_head, config.context,
                                     config.head_dim()};
    // (S, nh, L, hs) each
    keys_.push_back(zeros_committed_on_write(shape, options));
    values_.push_back(zeros_committed_on_write(shape, options));
  }
  lengths_.assign(max_slots, 0);
  in_use_.assign(max_slots, false);
  committed_.assign(max_slots, 0);
}

int64_t kv_cache::acquire() {
  for (int64_t s = 0; s < max_slots(); ++s) {
    if (!in_use_[s]) {
      in_use_[s] = true;
      lengths_[s] = 0;
      return s;
    }
  }
  throw std::runtime_error("kv_cache: all " + std::to_string(max_slots()) +
                           " slots are in use; release one first");
}

void kv_cache::release(int64_t slot) {
  check_acquired(slot);
  in_use_[slot] = false;
  lengths_[slot] = 0;
}

int64_t kv_cache::length(int64_t slot) const {
  check_acquired(slot);
  return lengths_[slot];
}

void kv_cache::advance(int64_t slot, int64_t count) {
  check_acquired(slot);
  if (count < 0 || lengths_[slot] + count > context_)
    throw std::runtime_error(
        "kv_cache: slot " + std::to_string(slot) + " at length " +
        std::to_string(lengths_[slot]) + " cannot grow by " +
        std::to_string(count) + " past context " + std::to_string(context_));
  lengths_[slot] += count;
}

void kv_cache::truncate(int64_t slot, int64_t length) {
  check_acquired(slot);
  if (length < 0 || length > lengths_[slot])
    throw std::runtime_error("kv_cache: cannot truncate slot " +
                             std::to_string(slot) + " of length " +
                             std::to_string(lengths_[slot]) + " to " +
                             std::to_string(length));
  lengths_[slot] = length;
}

void kv_cache::commit(int64_t slot, int64_t positions) {
  check_acquired(slot);
  if (!commits_in_bulk_) return;
  const auto from = committed_[slot];
  const auto to = std::min(
      context_, (positions + commit_block - 1) / commit_block * commit_block);
  if (to <= from) return;
  for (auto* tensors : {&keys_, &values_})
    for (auto& t : *tensors) {
      // (S, nh, L, hs): each head's positions are contiguous.
      const auto heads = t.size(1), row = t.size(3) * t.element_size();
      auto* base = static_cast<char*>(t.data_ptr());
      for (int64_t h = 0; h < heads; ++h) {
        auto* head = base + (slot * heads + h) * context_ * row;
        populate_for_write(head + from * row, head + to * row);
      }
    }
  committed_[slot] = to;
}

int64_t kv_cache::free_slots() const {
  int64_t n = 0;
  for (bool used : in_use_) n += used ? 0 : 1;
  return n;
}

void kv_cache::check_acquired(int64_t slot) const {
  if (slot < 0 || slot >= max_slots() || !in_use_[slot])
    throw std::runtime_error("kv_cache: slot " + std::to_string(slot) +
                             " is not acquired (max_slots " +
                             std::to_string(max_slots()) + ")");
}

}  // namespace chat::model
