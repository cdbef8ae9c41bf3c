#include "frame_allocator.hpp"

#include <array>
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

// One per thread. The destructor returns every cached block to the system when the thread ends.
class frame_cache {
 public:
  frame_cache() = default;
  frame_cache(const frame_cache&) = delete;
  frame_cache& operator=(const frame_cache&) = delete;
  ~frame_cache() {
    for (free_block*& head : heads_) {
      while (head != nullptr) {
        free_block* next = head->next;
        ::operator delete(head);
        head = next;
      }
    }
  }

  void* pop(std::size_t cls) noexcept {
    free_block* block = heads_[cls];
    if (block == nullptr) return nullptr;
    heads_[cls] = block->next;
    --counts_[cls];
    return block;
  }

  bool push(std::size_t cls, void* p) noexcept {
    if (counts_[cls] * class_bytes(cls) >= max_cached_bytes_per_class) return false;
    heads_[cls] = ::new (p) free_block{heads_[cls]};
    ++counts_[cls];
    return true;
  }

  static std::size_t class_bytes(std::size_t cls) noexcept { return (cls + 1) * frame_size_granule; }

  std::size_t heap_allocations = 0;

 private:
  std::array<free_block*, frame_size_classes> heads_{};
  std::array<std::size_t, frame_size_classes> counts_{};
};

thread_local frame_cache cache;

std::size_t class_of(std::size_t size) noexcept { return (size - 1) / frame_size_granule; }

}  // namespace

void* allocate_frame(std::size_t size) {
  if (bypass_cache || size == 0 || size > max_cached_frame_size) return ::operator new(size);
  const std::size_t cls = class_of(size);
  if (void* p = cache.pop(cls)) return p;
  ++cache.heap_allocations;
  return ::operator new(frame_cache::class_bytes(cls));
}

void deallocate_frame(void* block, std::size_t size) noexcept {
  if (block == nullptr) return;
  if (bypass_cache || size == 0 || size > max_cached_frame_size || !cache.push(class_of(size), block))
    ::operator delete(block);
}

std::size_t frame_heap_allocations() noexcept { return cache.heap_allocations; }

}  // namespace corio::detail
