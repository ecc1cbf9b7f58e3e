#pragma once
// Training allocates and frees the same large activations every step. glibc
// serves each block over its mmap threshold (at most 32 MiB by default) with
// a fresh mmap and unmaps it on free, so every step faults all those pages
// in again: a quarter of a 100M-shape step went to page faults (perf), and
// the elementwise ops over (B, nh, T, T) scores ran 10-50x slower than
// memory bandwidth allows.

namespace chat::training {

/// Makes glibc's malloc keep freed memory for reuse: no mmap for large
/// blocks, no trimming of the heap top. Peak memory is then held until the
/// process exits, which suits a training process. Leaves malloc untouched
/// (returns false) when the operator tunes it through the environment
/// (GLIBC_TUNABLES glibc.malloc.*, MALLOC_*_) or the C library is not glibc.
/// Call once at the start of main, before any allocation worth keeping.
bool reuse_freed_heap_memory();

}  // namespace chat::training
