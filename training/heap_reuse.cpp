#include "training/heap_reuse.hpp"

#include <cstdlib>
#include <cstring>
#include <initializer_list>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace chat::training {

namespace {

/// Whether the environment already says how malloc should behave.
bool operator_tunes_malloc() {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables && std::strstr(tunables, "glibc.malloc.")) return true;
  for (const char* name : {"MALLOC_MMAP_MAX_", "MALLOC_MMAP_THRESHOLD_",
                           "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_"})
    if (std::getenv(name)) return true;
  return false;
}

}  // namespace

bool reuse_freed_heap_memory() {
#if defined(__GLIBC__)
  if (operator_tunes_malloc()) return false;
  // Large blocks then come from the brk heap and return to it on free.
  return mallopt(M_MMAP_MAX, 0) == 1 &&
         mallopt(M_TRIM_THRESHOLD, -1) == 1;  // -1: never trim
#else
  return false;
#endif
}

}  // namespace chat::training
