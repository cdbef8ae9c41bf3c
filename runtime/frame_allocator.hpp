// runtime/frame_allocator.hpp — where coroutine frames and task records come from (and other
// small blocks that a hot path makes and frees once per operation: block_allocator below).
//
// Every `task<T>` call allocates a coroutine frame and every spawn a task record. malloc and
// free each time cost more than the rest of a spawn put together (callgrind: 55% of the
// instructions of a spawn+join, before this allocator), so frames come from a per-thread slab
// cache, in size classes of 16 bytes (a task record of 104 bytes takes 112, not 128):
//
//   class:       0    1    2   ...   127
//   block size:  16   32   48  ...  2048 bytes     (larger requests go straight to malloc)
//
//   free list of class k:  [block] -> [block] -> [block] -> null   (threaded through the blocks)
//   the thread's arena:    | 112 | 64 | 112 | 48 | ...... unused ......|  <- bump pointer
//
// allocate pops the class's free list, or else carves a block off the thread's current arena
// (2 MiB, shared by all classes). deallocate pushes the block on the free list of the thread
// that frees it, so a frame freed on another thread just joins that thread's cache.
//
// Why 2 MiB arenas: a burst of a million tasks touches ~200 MB of fresh memory, and with 4 KiB
// pages the page faults cost more than the runtime itself (perf stat: 0.19 s of kernel time
// against 0.10 s of user time for 1M spawns). Arenas are aligned to 2 MiB and offered to the
// kernel as transparent huge pages (madvise), so one fault maps 512 times as much.
//
// The price, stated plainly: memory that once held frames stays reserved for frames of the
// same size class for the life of the process (it is reused, never returned to the system),
// as in any slab allocator, and a program's frames occupy at least one 2 MiB arena. A thread that exits hands its free blocks to a process-wide depot
// that other threads draw from before carving new slabs, and slabs are never unmapped, so a
// block is valid whichever thread frees or reuses it.
//
// Under AddressSanitizer the cache is bypassed (plain operator new/delete), so that a
// use-after-free of a frame is reported instead of being hidden by reuse.
#pragma once

#include <cstddef>
#include <limits>
#include <new>

namespace corio::detail {

inline constexpr std::size_t frame_size_granule = 16;
inline constexpr std::size_t frame_size_classes = 128;
inline constexpr std::size_t max_cached_frame_size = frame_size_granule * frame_size_classes;
inline constexpr std::size_t frame_arena_bytes = std::size_t{2} << 20;  // one x86-64 huge page
static_assert(frame_arena_bytes >= 16 * max_cached_frame_size, "an arena holds many of the largest blocks");
static_assert(frame_size_granule % __STDCPP_DEFAULT_NEW_ALIGNMENT__ == 0, "blocks are aligned like operator new's");

/// Returns a block of at least `size` bytes, aligned for any coroutine frame.
/// Throws std::bad_alloc when memory runs out.
[[nodiscard]] void* allocate_frame(std::size_t size);

/// Returns a block obtained from allocate_frame(size) with the same size.
void deallocate_frame(void* block, std::size_t size) noexcept;

/// A standard allocator over the same cache, for a container that a hot path fills and drops
/// once per operation (an HTTP message's header fields): its block is a pop from a free list,
/// not a malloc and a free (about a hundred instructions fewer per block). Stateless: any two compare
/// equal, and a block may be freed on any thread. The price is the cache's, stated above: the
/// blocks of a size class stay with the cache. Large blocks (over max_cached_frame_size) go to
/// the heap as usual.
template <class T>
struct block_allocator {
  static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "blocks are aligned like operator new's");
  using value_type = T;

  block_allocator() noexcept = default;
  template <class U>
  block_allocator(const block_allocator<U>&) noexcept {}  // NOLINT: converts like std::allocator

  [[nodiscard]] T* allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(allocate_frame(n * sizeof(T)));
  }
  void deallocate(T* block, std::size_t n) noexcept { deallocate_frame(block, n * sizeof(T)); }

  template <class U>
  bool operator==(const block_allocator<U>&) const noexcept {
    return true;
  }
};

/// Calls to the system allocator made by this thread's cache (arenas and oversized frames); benchmarks use
/// it to show that steady-state scheduling allocates nothing.
[[nodiscard]] std::size_t frame_heap_allocations() noexcept;

}  // namespace corio::detail
