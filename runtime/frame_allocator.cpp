#include "frame_allocator.hpp"

#include <sys/mman.h>

#include <array>
#include <cstdlib>
#include <atomic>
#include <mutex>
#include <new>

namespace corio::detail {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool bypass_cache = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool bypass_cache = true;
#else
constexpr bool bypass_cache = false;
#endif
#else
constexpr bool bypass_cache = false;
#endif

struct free_block {
  free_block* next;
};

// A LIFO list of free blocks; the tail is kept so that a whole list can be handed over in O(1).
struct free_list {
  free_block* head = nullptr;
  free_block* tail = nullptr;

  void push(void* p) noexcept {
    head = ::new (p) free_block{head};
    if (tail == nullptr) tail = head;
  }
  free_block* pop() noexcept {
    free_block* b = head;
    if (b != nullptr && (head = b->next) == nullptr) tail = nullptr;
    return b;
  }
  void splice(free_list& other) noexcept {  // moves all of `other` in front of this list
    if (other.head == nullptr) return;
    other.tail->next = head;
    if (tail == nullptr) tail = other.tail;
    head = other.head;
    other = {};
  }
};

using free_lists = std::array<free_list, frame_size_classes>;

constexpr std::size_t class_of(std::size_t size) noexcept { return (size - 1) / frame_size_granule; }
constexpr std::size_t block_bytes(std::size_t cls) noexcept { return (cls + 1) * frame_size_granule; }

// Free blocks left behind by threads that exited; other threads take them before carving.
class depot {
 public:
  void give(free_lists& lists) noexcept {
    std::lock_guard lock(mutex_);
    for (std::size_t cls = 0; cls < frame_size_classes; ++cls) {
      if (lists[cls].head != nullptr) stocked_[cls].store(true, std::memory_order_relaxed);
      lists_[cls].splice(lists[cls]);
    }
  }
  // Moves every depot block of class `cls` into `into`. The unlocked check keeps the common
  // case (an empty depot) free of any lock.
  void take_all(std::size_t cls, free_list& into) noexcept {
    if (!stocked_[cls].load(std::memory_order_relaxed)) return;
    std::lock_guard lock(mutex_);
    into.splice(lists_[cls]);
    stocked_[cls].store(false, std::memory_order_relaxed);
  }

 private:
  std::mutex mutex_;
  free_lists lists_{};
  std::array<std::atomic<bool>, frame_size_classes> stocked_{};
};

depot& the_depot() {
  static depot* d = new depot;  // never destroyed: threads may exit during static destruction
  return *d;
}

// A fresh arena. Where MAP_POPULATE exists (Linux) its pages are populated up front, in one
// system call, instead of one page fault at a time as frames first touch them; elsewhere
// (macOS, the BSDs) they fault in as usual.
char* new_arena() {
  int flags = MAP_PRIVATE | MAP_ANONYMOUS;
#ifdef MAP_POPULATE
  flags |= MAP_POPULATE;
#endif
  void* p = ::mmap(nullptr, frame_arena_bytes, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return static_cast<char*>(p);
}

// The per-thread cache. It is trivially constructible and destructible on purpose: a
// thread_local with a constructor or destructor is reached through an "initialised yet?" check
// and a call on every access, and the compiler then saves registers around the whole function.
// What a destructor would do (hand the free blocks to the depot when the thread exits) is done
// by a separate thread_local, `hand_back_at_exit`, created the first time the thread frees a
// block or refills a list (before that the thread has nothing to hand back). A frame freed by a
// thread_local destroyed after that one stays in this thread's lists: a few blocks left in the
// arena, not an error.
class frame_cache {
 public:
  // The common case, a pop, is kept apart from the refill so that the compiler does not make
  // every allocation pay the refill's register saves.
  void* allocate(std::size_t cls) {
    if (free_block* b = free_[cls].pop()) [[likely]]
      return b;
    return refill_and_allocate(cls);
  }

  void deallocate(std::size_t cls, void* p) noexcept {
    if (!hands_back_at_exit_) [[unlikely]]
      arrange_hand_back();
    free_[cls].push(p);
  }

  // At thread exit (hand_back_at_exit's destructor): every free block goes to the depot.
  void hand_back() noexcept { the_depot().give(free_); }

  std::size_t heap_allocations = 0;

 private:
  [[gnu::noinline]] void* refill_and_allocate(std::size_t cls) {
    if (!hands_back_at_exit_) arrange_hand_back();
    the_depot().take_all(cls, free_[cls]);
    if (free_block* b = free_[cls].pop()) return b;
    return carve(cls);
  }

  [[gnu::noinline]] void arrange_hand_back() noexcept;

  void* carve(std::size_t cls) {
    const std::size_t bytes = block_bytes(cls);
    if (arena_left_ < bytes) {
      arena_next_ = new_arena();  // never freed: see the header
      arena_left_ = frame_arena_bytes;
      ++heap_allocations;
    }
    void* block = arena_next_;
    arena_next_ += bytes;
    arena_left_ -= bytes;
    return block;
  }

  free_lists free_{};
  char* arena_next_ = nullptr;
  std::size_t arena_left_ = 0;
  bool hands_back_at_exit_ = false;
};

constinit thread_local frame_cache cache;

struct hand_back_at_exit {
  hand_back_at_exit() = default;
  hand_back_at_exit(const hand_back_at_exit&) = delete;
  hand_back_at_exit& operator=(const hand_back_at_exit&) = delete;
  ~hand_back_at_exit() { cache.hand_back(); }
};

void frame_cache::arrange_hand_back() noexcept {
  hands_back_at_exit_ = true;
  thread_local hand_back_at_exit at_exit;  // constructed here, once per thread
  (void)at_exit;
}

// Frames too big (or too small) for the cache, and every frame under AddressSanitizer.
[[gnu::noinline]] void* allocate_from_heap(std::size_t size) {
  if (!bypass_cache) ++cache.heap_allocations;
  return ::operator new(size);
}

}  // namespace

void* allocate_frame(std::size_t size) {
  if (bypass_cache || size == 0 || size > max_cached_frame_size) [[unlikely]]
    return allocate_from_heap(size);
  return cache.allocate(class_of(size));
}

void deallocate_frame(void* block, std::size_t size) noexcept {
  if (block == nullptr) return;
  if (bypass_cache || size == 0 || size > max_cached_frame_size) [[unlikely]] {
    ::operator delete(block);
    return;
  }
  cache.deallocate(class_of(size), block);
}

std::size_t frame_heap_allocations() noexcept { return cache.heap_allocations; }

}  // namespace corio::detail
