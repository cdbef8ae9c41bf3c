// tests/runtime/frame_allocator_test.cpp — the per-thread frame cache.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <thread>
#include <vector>

#include "runtime/frame_allocator.hpp"

using corio::detail::allocate_frame;
using corio::detail::deallocate_frame;
using corio::detail::frame_heap_allocations;

// Under AddressSanitizer the cache is bypassed (frame_allocator.hpp): nothing to test.
#if defined(__SANITIZE_ADDRESS__)
#define SKIP_IF_THE_CACHE_IS_BYPASSED() GTEST_SKIP() << "the cache is bypassed under AddressSanitizer"
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SKIP_IF_THE_CACHE_IS_BYPASSED() GTEST_SKIP() << "the cache is bypassed under AddressSanitizer"
#endif
#endif
#ifndef SKIP_IF_THE_CACHE_IS_BYPASSED
#define SKIP_IF_THE_CACHE_IS_BYPASSED() (void)0
#endif

namespace {

// Block sizes no other test here uses, so that these classes' free lists start empty.
constexpr std::size_t freed_by_its_allocator = 2032;
constexpr std::size_t freed_by_another_thread = 2016;
constexpr std::size_t held_by_a_container = 2000;  // 250 std::uint64_t

std::vector<void*> allocate_blocks(std::size_t size, int count) {
  std::vector<void*> blocks;
  for (int i = 0; i < count; ++i) blocks.push_back(allocate_frame(size));
  std::sort(blocks.begin(), blocks.end());
  return blocks;
}

void deallocate_blocks(const std::vector<void*>& blocks, std::size_t size) {
  for (void* p : blocks) deallocate_frame(p, size);
}

}  // namespace

TEST(frame_allocator, blocks_are_usable_for_their_whole_size) {
  for (std::size_t size : {1u, 63u, 64u, 65u, 500u, 2048u, 2049u, 100000u}) {
    void* p = allocate_frame(size);
    std::memset(p, 0xab, size);
    deallocate_frame(p, size);
  }
}

TEST(frame_allocator, steady_state_reuses_cached_blocks_without_touching_the_heap) {
  SKIP_IF_THE_CACHE_IS_BYPASSED();
  std::vector<void*> blocks;
  for (int i = 0; i < 100; ++i) blocks.push_back(allocate_frame(200));
  for (void* p : blocks) deallocate_frame(p, 200);
  const std::size_t before = frame_heap_allocations();
  for (int round = 0; round < 10; ++round) {
    blocks.clear();
    for (int i = 0; i < 100; ++i) blocks.push_back(allocate_frame(200));
    for (void* p : blocks) deallocate_frame(p, 200);
  }
  EXPECT_EQ(frame_heap_allocations(), before);
}

// A thread's free blocks outlive it: at exit they go to the process-wide depot, and the next
// thread short of blocks of that size takes them instead of carving new ones.
TEST(frame_allocator, a_thread_that_exits_hands_its_free_blocks_to_the_others) {
  SKIP_IF_THE_CACHE_IS_BYPASSED();
  std::vector<void*> freed;
  std::thread([&] {
    freed = allocate_blocks(freed_by_its_allocator, 4);
    deallocate_blocks(freed, freed_by_its_allocator);
  }).join();
  const std::vector<void*> reused = allocate_blocks(freed_by_its_allocator, 4);
  EXPECT_EQ(reused, freed);
  deallocate_blocks(reused, freed_by_its_allocator);
}

// The same when the exiting thread only ever freed blocks (other threads' frames): it has never
// allocated, and must still hand them back.
TEST(frame_allocator, a_thread_that_only_freed_blocks_hands_them_back_too) {
  SKIP_IF_THE_CACHE_IS_BYPASSED();
  const std::vector<void*> blocks = allocate_blocks(freed_by_another_thread, 4);
  std::thread([&] { deallocate_blocks(blocks, freed_by_another_thread); }).join();
  const std::vector<void*> reused = allocate_blocks(freed_by_another_thread, 4);
  EXPECT_EQ(reused, blocks);
  deallocate_blocks(reused, freed_by_another_thread);
}

// block_allocator: a container's block is the cache's, so the next container of that size gets
// the block the last one freed, and neither touches the heap.
TEST(frame_allocator, a_containers_block_comes_back_to_the_next_container) {
  SKIP_IF_THE_CACHE_IS_BYPASSED();
  using numbers = std::vector<std::uint64_t, corio::detail::block_allocator<std::uint64_t>>;
  constexpr std::size_t count = held_by_a_container / sizeof(std::uint64_t);
  const std::uint64_t* first_block = nullptr;
  {
    numbers first(count, 7);
    first_block = first.data();
  }
  const std::size_t heap_before = frame_heap_allocations();
  numbers second(count, 9);
  EXPECT_EQ(second.data(), first_block);
  EXPECT_EQ(frame_heap_allocations(), heap_before);
  EXPECT_EQ(second.back(), 9u);
}

TEST(frame_allocator, a_block_allocator_refuses_a_count_whose_bytes_overflow) {
  corio::detail::block_allocator<std::uint64_t> allocator;
  EXPECT_THROW((void)allocator.allocate(std::numeric_limits<std::size_t>::max() / 4), std::bad_array_new_length);
}

TEST(frame_allocator, a_container_larger_than_the_cache_takes_to_the_heap_and_works) {
  std::vector<int, corio::detail::block_allocator<int>> large(10000, 1);  // 40 KB
  large.push_back(2);
  EXPECT_EQ(large.size(), 10001u);
  EXPECT_EQ(large.back(), 2);
}
