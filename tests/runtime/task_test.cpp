// tests/runtime/task_test.cpp — task<T>: laziness, results, exceptions, stack depth.
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include <corio.hpp>

#include "runtime/testing.hpp"
#include "support/counted.hpp"

using namespace std::chrono_literals;

namespace {

corio::task<int> forty_two() { co_return 42; }
corio::task<std::string> greet(std::string who) { co_return "hello " + who; }
corio::task<int> add_one(corio::task<int> inner) { co_return co_await std::move(inner) + 1; }
corio::task<> throws_logic_error() {
  throw std::logic_error("boom");
  co_return;
}
corio::task<int> after_a_sleep(int v) {
  co_await corio::sleep(1ms);
  co_return v;
}
corio::task<std::unique_ptr<int>> move_only_result() { co_return std::make_unique<int>(7); }
corio::task<> records_that_it_ran(testing_support::counted, bool& ran) {
  ran = true;
  co_return;
}

}  // namespace

TEST(task, does_not_run_until_awaited_and_frees_its_frame_when_dropped) {
  testing_support::lifetime_counter frames;
  bool ran = false;
  {
    auto t = records_that_it_ran(testing_support::counted(frames), ran);
    EXPECT_TRUE(t.valid());
    EXPECT_GE(frames.alive, 1);  // the argument now lives in the frame
  }
  EXPECT_FALSE(ran);
  EXPECT_EQ(frames.alive, 0);
}

CORIO_TEST(task, returns_the_value_it_co_returns) {
  EXPECT_EQ(co_await forty_two(), 42);
  EXPECT_EQ(co_await greet("corio"), "hello corio");
  EXPECT_EQ(co_await add_one(forty_two()), 43);
}

CORIO_TEST(task, returns_move_only_values) {
  auto p = co_await move_only_result();
  CORIO_ASSERT(p != nullptr);
  EXPECT_EQ(*p, 7);
}

CORIO_TEST(task, rethrows_the_exception_at_the_awaiter) {
  EXPECT_THROW(co_await throws_logic_error(), std::logic_error);
}

CORIO_TEST(task, resumes_its_awaiter_after_an_asynchronous_completion) {
  EXPECT_EQ(co_await add_one(after_a_sleep(5)), 6);
}

CORIO_TEST(task, awaiting_an_empty_task_throws_broken_promise) {
  corio::task<int> empty;
  EXPECT_FALSE(empty.valid());
  EXPECT_THROW(co_await std::move(empty), corio::broken_promise);
}

// cppcoro's "lots of synchronous completions doesn't result in stack-overflow", and T-29:
// this must pass in every preset, g++ -O0 with ASan included (no tail call to rely on).
CORIO_TEST(task, a_million_synchronously_completing_awaits_do_not_overflow_the_stack) {
  long sum = 0;
  for (int i = 0; i < 1'000'000; ++i) sum += co_await forty_two();
  EXPECT_EQ(sum, 42'000'000L);
}

namespace {
corio::task<int> nested(int depth) {
  if (depth == 0) co_return 0;
  co_return 1 + co_await nested(depth - 1);
}
}  // namespace

CORIO_TEST(task, nesting_ten_thousand_deep_completes) {
  EXPECT_EQ(co_await nested(10'000), 10'000);
}

TEST(task, an_exception_escaping_run_reaches_the_caller) {
  EXPECT_THROW(corio::run(throws_logic_error()), std::logic_error);
}

TEST(task, run_returns_the_main_tasks_value) { EXPECT_EQ(corio::run(forty_two()), 42); }
