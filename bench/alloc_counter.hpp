// bench/alloc_counter.hpp — counts every heap allocation the benchmark binary makes.
//
// Replaces the global operator new / delete (all the replaceable forms: plain, array, nothrow,
// aligned) with versions that call malloc / free and count:
//
//   calls        operator new calls since the program started (every heap allocation; corio's
//                frames over 2 KiB included, since allocate_frame passes them to ::operator new)
//   live_bytes   bytes currently held (malloc_usable_size of each live block, so it includes
//                malloc's rounding but not its per-block header)
//   peak_bytes   the largest live_bytes seen since the last reset_peak()
//
// A benchmark reads calls() before and after its timed loop and divides by the number of
// operations: that is `allocs_per_op`. corio's frame cache is not the heap: frames and task
// records come from its 2 MiB arenas, which it maps with mmap, so neither a block reused from it
// nor a new arena costs a call here, and live_bytes does not include them
// (corio::detail::frame_heap_allocations() counts the arenas and the oversized frames).
//
// The replacement functions must be defined in exactly one translation unit of a program
// ([replacement.functions]: they may not be inline), so include this header from one .cpp only:
// the one holding the benchmarks. Counters are relaxed atomics, so threads that allocate behind
// the benchmark's back (a logger) stay well defined; a single-threaded benchmark pays a locked
// add per allocation, which is noise next to malloc itself.
#pragma once

#include <malloc.h>  // malloc_usable_size (glibc; the benchmarks are Linux-only anyway)

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace corio_bench::alloc {

inline std::atomic<std::uint64_t> g_calls{0};
inline std::atomic<std::int64_t> g_live{0};
inline std::atomic<std::int64_t> g_peak{0};

[[nodiscard]] inline std::uint64_t calls() noexcept { return g_calls.load(std::memory_order_relaxed); }
[[nodiscard]] inline std::int64_t live_bytes() noexcept { return g_live.load(std::memory_order_relaxed); }
[[nodiscard]] inline std::int64_t peak_bytes() noexcept { return g_peak.load(std::memory_order_relaxed); }
/// Starts a new peak measurement from the current live size.
inline void reset_peak() noexcept { g_peak.store(live_bytes(), std::memory_order_relaxed); }

inline void note_alloc(void* p) noexcept {
  g_calls.fetch_add(1, std::memory_order_relaxed);
  const auto size = static_cast<std::int64_t>(malloc_usable_size(p));
  const std::int64_t now = g_live.fetch_add(size, std::memory_order_relaxed) + size;
  std::int64_t peak = g_peak.load(std::memory_order_relaxed);
  while (now > peak && !g_peak.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}

inline void note_free(void* p) noexcept {
  if (p != nullptr) g_live.fetch_sub(static_cast<std::int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
}

inline void* allocate(std::size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  note_alloc(p);
  return p;
}

inline void* allocate_aligned(std::size_t size, std::align_val_t align) {
  const auto a = static_cast<std::size_t>(align);
  // aligned_alloc wants a size that is a multiple of the alignment.
  void* p = std::aligned_alloc(a, ((size == 0 ? 1 : size) + a - 1) / a * a);
  if (p == nullptr) throw std::bad_alloc();
  note_alloc(p);
  return p;
}

inline void release(void* p) noexcept {
  note_free(p);
  std::free(p);
}

/// Counter deltas over a region: construct before, read after.
class scope {
 public:
  scope() noexcept : calls0_(calls()) {}
  [[nodiscard]] std::uint64_t calls_since() const noexcept { return calls() - calls0_; }

 private:
  std::uint64_t calls0_;
};

}  // namespace corio_bench::alloc

// ---- the replacements (one TU per program: see above) ----
void* operator new(std::size_t size) { return corio_bench::alloc::allocate(size); }
void* operator new[](std::size_t size) { return corio_bench::alloc::allocate(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return corio_bench::alloc::allocate(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return corio_bench::alloc::allocate(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t size, std::align_val_t a) { return corio_bench::alloc::allocate_aligned(size, a); }
void* operator new[](std::size_t size, std::align_val_t a) { return corio_bench::alloc::allocate_aligned(size, a); }

void operator delete(void* p) noexcept { corio_bench::alloc::release(p); }
void operator delete[](void* p) noexcept { corio_bench::alloc::release(p); }
void operator delete(void* p, std::size_t) noexcept { corio_bench::alloc::release(p); }
void operator delete[](void* p, std::size_t) noexcept { corio_bench::alloc::release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { corio_bench::alloc::release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { corio_bench::alloc::release(p); }
void operator delete(void* p, std::align_val_t) noexcept { corio_bench::alloc::release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { corio_bench::alloc::release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { corio_bench::alloc::release(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { corio_bench::alloc::release(p); }
