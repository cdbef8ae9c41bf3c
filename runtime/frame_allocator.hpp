// runtime/frame_allocator.hpp — where coroutine frames and task records come from.
//
// Every `task<T>` call allocates a coroutine frame, and every spawn allocates a task record.
// Going to malloc each time costs more than the rest of a spawn put together, so frames come
// from a per-thread cache of free blocks in size classes:
//
//   class:      0     1     2    ...   31
//   block size: 64   128   192   ...  2048 bytes      (larger requests go straight to malloc)
//
// A freed block is pushed on its class's free list (a singly linked stack threaded through the
// free blocks themselves); the next allocation of that class pops it. Each class keeps at most
// `max_cached_bytes_per_class`, so a burst of a million tasks does not pin its memory forever.
// Blocks may be freed on a different thread from the one that allocated them (a task's frame is
// freed where it finishes); the block then simply joins that thread's cache.
//
// Under AddressSanitizer the cache is bypassed, so that a use-after-free of a frame is reported
// instead of being hidden by reuse.
#pragma once

#include <cstddef>

namespace corio::detail {

inline constexpr std::size_t frame_size_granule = 64;
inline constexpr std::size_t frame_size_classes = 32;
inline constexpr std::size_t max_cached_frame_size = frame_size_granule * frame_size_classes;
inline constexpr std::size_t max_cached_bytes_per_class = std::size_t{8} << 20;

/// Returns a block of at least `size` bytes, aligned for any coroutine frame.
/// Throws std::bad_alloc when memory runs out.
[[nodiscard]] void* allocate_frame(std::size_t size);

/// Returns a block obtained from allocate_frame(size) with the same size.
void deallocate_frame(void* block, std::size_t size) noexcept;

/// Heap allocations made by allocate_frame since the thread started (cache misses); benchmarks
/// use it to show that steady-state scheduling allocates nothing.
[[nodiscard]] std::size_t frame_heap_allocations() noexcept;

}  // namespace corio::detail
