// tests/runtime/deep_chain_test.cpp — long and deep await chains (reliability.md T-29).
//
// A long chain (one task awaiting children one after the other) must run in constant stack
// whatever the compiler and build type: task_test.cpp checks it for a million children that
// finish inline, this file for children that suspend first and finish from the loop, which takes
// the other path (the child's final awaiter transfers back to its parent).
//
// A deep chain (each child awaiting a grandchild, 100,000 levels) is different: a child is
// started inline, by a plain resume() inside its parent's await_suspend (task.hpp, "Stack
// depth"), so every level holds one frame of the machine stack until the leaf suspends or
// returns. Depth therefore costs stack, a known limit of the bool-returning await_suspend
// technique (cppcoro has it too). These tests measure that cost per level, bound it, and run
// the 100,000-deep chain on a thread whose stack is sized from the bound, so that the limit is
// stated with numbers instead of discovered as a crash.
#include <gtest/gtest.h>
#include <pthread.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include <corio.hpp>

#include "runtime/testing.hpp"
#include "support/sanitizers.hpp"

using namespace std::chrono_literals;

namespace {

// Runs `body` on a new thread with a `stack_bytes` stack and waits for it.
void run_on_thread_with_stack(std::size_t stack_bytes, std::function<void()> body) {
  pthread_attr_t attr;
  ASSERT_EQ(pthread_attr_init(&attr), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&attr, stack_bytes), 0);
  pthread_t thread;
  auto trampoline = [](void* arg) -> void* {
    (*static_cast<std::function<void()>*>(arg))();
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, &attr, trampoline, &body), 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
}

corio::task<int> one_after_a_yield() {
  co_await corio::yield();
  co_return 1;
}

// How deep the machine stack is right now: this call's frame address. Not the address of a
// local, which may live elsewhere: in a coroutine frame on the heap when inlined into one, or on
// ASan's fake stack (detect_stack_use_after_return). Never inlined, so the frame is its own.
[[gnu::noinline]] std::uintptr_t stack_position() {
  return reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
}

// A chain `depth` levels deep; the leaf records where the stack is, then (if `suspend`) parks
// once, so that the whole chain also completes from the loop, each level's final awaiter
// transferring to its parent.
corio::task<int> nested(int depth, std::uintptr_t& leaf_position, bool suspend) {
  if (depth == 0) {
    leaf_position = stack_position();
    if (suspend) co_await corio::yield();
    co_return 0;
  }
  co_return 1 + co_await nested(depth - 1, leaf_position, suspend);
}

// Bytes of machine stack per nesting level, measured over `depth` levels.
std::size_t stack_bytes_per_level(int depth) {
  std::size_t per_level = 0;
  corio::testing::run_test([](int d, std::size_t& out) -> corio::task<> {
    std::uintptr_t leaf = 0;
    const std::uintptr_t root = stack_position();
    EXPECT_EQ(co_await nested(d, leaf, false), d);
    out = (root - leaf) / static_cast<std::size_t>(d);  // the stack grows down on every target we build for
  }(depth, per_level));
  return per_level;
}

// Every build type we test (g++ -O0 with ASan is the largest) stays under this per level.
constexpr std::size_t stack_bound_per_level = 1024;

// 100,000 levels; 10,000 under a sanitizer: ASan's fake stack (detect_stack_use_after_return,
// on in CI) makes so deep a recursion take close to a minute there.
constexpr int deep = testing_support::sanitized ? 10'000 : 100'000;

}  // namespace

// 200,000 rather than a million: each await goes through the loop (a turn per yield), and at
// even 48 bytes per await (a nesting level's cost in g++ release) 200,000 would overflow 8 MiB.
CORIO_TEST(deep_chain, a_long_chain_of_awaits_of_children_that_suspend_first_runs_in_constant_stack) {
  constexpr long awaits = 200'000;
  long sum = 0;
  for (long i = 0; i < awaits; ++i) sum += co_await one_after_a_yield();
  EXPECT_EQ(sum, awaits);
}

TEST(deep_chain, each_nesting_level_costs_a_bounded_amount_of_stack) {
  const std::size_t per_level = stack_bytes_per_level(10'000);
  RecordProperty("stack_bytes_per_level", std::to_string(per_level));
  EXPECT_GT(per_level, 0u);
  EXPECT_LE(per_level, stack_bound_per_level)
      << "a nesting level now costs " << per_level << " bytes of stack: update docs/reliability.md (T-29)";
}

TEST(deep_chain, a_chain_nested_a_hundred_thousand_deep_completes_inline_and_from_the_loop) {  // (see `deep`)
  // Twice what this build measures per level (at most twice the bound: 200 MiB of address
  // space, of which only the pages the chain touches are mapped), plus room for the loop.
  const std::size_t per_level = std::min(stack_bytes_per_level(10'000), stack_bound_per_level);
  const std::size_t stack = 2 * per_level * deep + (8u << 20);
  for (const bool suspend : {false, true}) {
    SCOPED_TRACE(suspend ? "the leaf suspends once" : "every level completes inline");
    run_on_thread_with_stack(stack, [suspend] {
      corio::testing::run_test([](bool s) -> corio::task<> {
        std::uintptr_t leaf = 0;
        const int reached = co_await nested(deep, leaf, s);
        EXPECT_EQ(reached, deep);
      }(suspend));
    });
  }
}
